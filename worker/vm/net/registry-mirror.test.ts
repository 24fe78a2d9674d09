// The shim end to end at unit level: a fake guest connection in, the real CORS proxy handler in-process, and
// Debian's docker-registry (plain, and behind a Docker-Hub-like token gateway with a blob CDN) out.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCorsProxy } from '../../proxy/cors-proxy.ts';
import { attachNetwork, type NetworkConfig, type NetworkHandle, type V86NetworkLike, type V86TcpConnection } from './index.ts';
import { UPSTREAM_FAILED_STATUS } from './registry-errors.ts';
import { MirrorVerdicts } from './mirror-verdicts.ts';
import { RegistryMirror } from './registry-mirror.ts';
import { Upstream } from './upstream.ts';
import { FakeGuestSocket, parseResponses, type ParsedResponse } from '../../testing/fake-socket.ts';
import { buildOciLayout, INDEX_MEDIA_TYPE, type BuiltImage } from '../../testing/oci-layout.ts';
import { freePort, pushLayout, startAuthGateway, startRegistry, type AuthGateway, type TestRegistry } from '../../testing/registry.ts';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const noEmulator: V86NetworkLike = { add_listener: () => undefined, remove_listener: () => undefined };

let registry: TestRegistry;
let gateway: AuthGateway;
let image: BuiltImage;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tabdock-shim-test-'));
  registry = await startRegistry();
  gateway = await startAuthGateway(registry.host);
  image = await buildOciLayout(join(workDir, 'layout'), 'v1');
  await pushLayout(image.layoutDir, 'v1', registry.host, 'test/hello');
  await pushLayout(image.layoutDir, 'v1', registry.host, 'library/hello');
  const foreign = await buildOciLayout(join(workDir, 'foreign'), 'v2', 1024, ['amd64', 'arm64']);
  await pushLayout(foreign.layoutDir, 'v2', registry.host, 'library/foreign');
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await registry?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function shim(extra: Partial<NetworkConfig> = {}): NetworkHandle {
  const proxy = createCorsProxy({
    // The test upstreams are plain HTTP on loopback: allowed by configuration, never by default.
    registryHosts: [`http://${registry.host}`, `http://${gateway.host}`],
    redirectHosts: [`http://${gateway.cdnHost}`],
  });
  return attachNetwork(noEmulator, {
    proxyUrl: 'http://proxy.test/',
    fetch: (request) => proxy(request),
    dockerHubUpstream: `http://${gateway.host}`,
    hostRewrites: { 'registry.test': `http://${registry.host}`, 'authed.test': `http://${gateway.host}` },
    ...extra,
  });
}

/** Sends one request on a fresh guest connection and returns the parsed answer. */
async function ask(net: NetworkHandle, method: string, host: string, path: string, headers: Record<string, string> = {}): Promise<ParsedResponse> {
  const guest = new FakeGuestSocket();
  net.serve(guest);
  const extra = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  guest.send(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`);
  await guest.whenClosed();
  const [response] = parseResponses(guest.output(), method === 'HEAD' ? new Set([0]) : new Set());
  if (response === undefined) throw new Error(`no response to ${method} ${path}`);
  return response;
}

const json = (response: ParsedResponse) => JSON.parse(new TextDecoder().decode(response.body)) as { errors: Array<{ code: string; message: string }> };

describe('registry mirror against a plain registry', () => {
  it('answers the ping itself', async () => {
    const response = await ask(shim(), 'GET', 'registry.test', '/v2/');
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it("answers a HEAD with the registry's digest when fetch gives HEAD an empty body, as Chromium does (#27)", async () => {
    const proxy = createCorsProxy({ registryHosts: [`http://${registry.host}`] });
    // Chromium's fetch: a HEAD response carries an empty ReadableStream where Node's has null.
    const chromiumLikeFetch = async (request: Request): Promise<Response> => {
      const response = await proxy(request);
      if (request.method !== 'HEAD') return response;
      const empty = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
      return new Response(empty, { status: response.status, headers: response.headers });
    };
    const net = attachNetwork(noEmulator, { proxyUrl: 'http://proxy.test/', fetch: chromiumLikeFetch, hostRewrites: { 'registry.test': `http://${registry.host}` } });
    const accept = { accept: INDEX_MEDIA_TYPE };
    const head = await ask(net, 'HEAD', 'registry.test', '/v2/test/hello/manifests/v1', accept);
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(image.indexDigest);
    expect(head.headers.get('content-length')).toBe(String(image.indexBytes.length));
  });

  it('serves HEAD and GET of a manifest list by tag with type, length and digest', async () => {
    const net = shim();
    const accept = { accept: `${INDEX_MEDIA_TYPE}, application/vnd.oci.image.manifest.v1+json` };
    const head = await ask(net, 'HEAD', 'registry.test', '/v2/test/hello/manifests/v1', accept);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(INDEX_MEDIA_TYPE);
    expect(head.headers.get('content-length')).toBe(String(image.indexBytes.length));
    expect(head.headers.get('docker-content-digest')).toBe(image.indexDigest);
    const get = await ask(net, 'GET', 'registry.test', '/v2/test/hello/manifests/v1', accept);
    expect(sha256(get.body)).toBe(image.indexDigest);
    expect(get.headers.get('docker-content-digest')).toBe(image.indexDigest);
  });

  it('reads every Accept line, as Go clients send one per media type', async () => {
    const net = shim();
    const guest = new FakeGuestSocket();
    net.serve(guest);
    guest.send(
      'GET /v2/test/hello/manifests/v1 HTTP/1.1\r\nHost: registry.test\r\nConnection: close\r\n' +
        'Accept: application/vnd.docker.distribution.manifest.v2+json\r\n' +
        `Accept: ${INDEX_MEDIA_TYPE}\r\n\r\n`,
    );
    await guest.whenClosed();
    const [response] = parseResponses(guest.output());
    expect(response?.status).toBe(200);
    expect(response?.headers.get('docker-content-digest')).toBe(image.indexDigest);
  });

  it('serves the linux/386 manifest by digest', async () => {
    const { manifestDigest, manifestBytes } = image.platforms['386'] ?? raise('no 386 platform');
    const get = await ask(shim(), 'GET', 'registry.test', `/v2/test/hello/manifests/${manifestDigest}`, {
      accept: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(get.status).toBe(200);
    expect(Buffer.from(get.body).equals(manifestBytes)).toBe(true);
    expect(get.headers.get('docker-content-digest')).toBe(manifestDigest);
  });

  it('streams a blob whole and in ranges (206 + Content-Range)', async () => {
    const { layerDigest, layerBytes } = image.platforms['386'] ?? raise('no 386 platform');
    const net = shim();
    const whole = await ask(net, 'GET', 'registry.test', `/v2/test/hello/blobs/${layerDigest}`);
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(layerDigest);
    expect(whole.headers.get('docker-content-digest')).toBe(layerDigest);
    const part = await ask(net, 'GET', 'registry.test', `/v2/test/hello/blobs/${layerDigest}`, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${layerBytes.length}`);
    expect(Buffer.from(part.body).equals(layerBytes.subarray(1000, 2000))).toBe(true);
  });

  it('says "manifest unknown" for a missing tag', async () => {
    const response = await ask(shim(), 'GET', 'registry.test', '/v2/test/hello/manifests/nope');
    expect(response.status).toBe(404);
    expect(json(response).errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' });
  });

  it('refuses pushes with a registry error', async () => {
    const response = await ask(shim(), 'POST', 'registry.test', '/v2/test/hello/blobs/uploads/');
    expect(response.status).toBe(405);
    expect(json(response).errors[0]?.code).toBe('UNSUPPORTED');
  });
});

describe('registry mirror against a token-protected registry', () => {
  it('does the Bearer dance once per repository and follows blob redirects without the token', async () => {
    const net = shim();
    const before = gateway.tokenRequests;
    const { manifestDigest, layerDigest } = image.platforms['386'] ?? raise('no 386 platform');
    const index = await ask(net, 'GET', 'authed.test', '/v2/test/hello/manifests/v1', { accept: INDEX_MEDIA_TYPE });
    expect(index.status).toBe(200);
    expect(sha256(index.body)).toBe(image.indexDigest);
    const manifest = await ask(net, 'HEAD', 'authed.test', `/v2/test/hello/manifests/${manifestDigest}`, {
      accept: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(manifest.headers.get('docker-content-digest')).toBe(manifestDigest);
    // The gateway redirects blobs to a CDN that answers 400 when it sees an Authorization header.
    const blob = await ask(net, 'GET', 'authed.test', `/v2/test/hello/blobs/${layerDigest}`);
    expect(blob.status).toBe(200);
    expect(sha256(blob.body)).toBe(layerDigest);
    expect(gateway.tokenRequests - before).toBe(1);
  });

  it('gets a new token when the registry stops accepting the cached one', async () => {
    const net = shim();
    expect((await ask(net, 'GET', 'authed.test', '/v2/test/hello/manifests/v1')).status).toBe(200);
    const before = gateway.tokenRequests;
    gateway.revokeTokens();
    expect((await ask(net, 'GET', 'authed.test', '/v2/test/hello/manifests/v1')).status).toBe(200);
    expect(gateway.tokenRequests - before).toBe(1);
  });

  it('maps the Docker Hub mirror name to the hub upstream with library/ for official images', async () => {
    const response = await ask(shim(), 'GET', 'mirror.tabdock.internal', '/v2/hello/manifests/v1', { accept: INDEX_MEDIA_TYPE });
    expect(response.status).toBe(200);
    expect(sha256(response.body)).toBe(image.indexDigest);
  });

  it('turns 429 into TOOMANYREQUESTS naming the limit and when to retry', async () => {
    const net = shim();
    gateway.rateLimitNext(1, 120);
    const response = await ask(net, 'GET', 'authed.test', '/v2/test/hello/manifests/v1');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('120');
    const error = json(response).errors[0];
    expect(error?.code).toBe('TOOMANYREQUESTS');
    expect(error?.message).toContain('rate limit');
    expect(error?.message).toContain('in 2 min');
    expect(error?.message).toContain('100 per 21600 s');
  });
});

describe('failures on the way out', () => {
  it('reports a host the proxy does not allow', async () => {
    const response = await ask(shim(), 'GET', 'evil.example', '/v2/x/manifests/latest');
    expect(response.status).toBe(403);
    const error = json(response).errors[0];
    expect(error?.code).toBe('DENIED');
    expect(error?.message).toContain('evil.example is not on this proxy');
  });

  it('reports a stopped upstream registry at once, not after a timeout', async () => {
    const deadPort = await freePort();
    const proxy = createCorsProxy({ registryHosts: [`http://127.0.0.1:${deadPort}`] });
    const net = attachNetwork(noEmulator, {
      proxyUrl: 'http://proxy.test/',
      fetch: (request) => proxy(request),
      hostRewrites: { 'dead.test': `http://127.0.0.1:${deadPort}` },
      // Longer than the test's own timeout: only a fast failure passes.
      upstreamTimeoutMs: 120_000,
    });
    const response = await ask(net, 'GET', 'dead.test', '/v2/x/manifests/latest');
    expect(response.status).toBe(UPSTREAM_FAILED_STATUS);
    expect(json(response).errors[0]?.message).toContain(`could not reach http://127.0.0.1:${deadPort}`);
  });

  it('names the proxy URL when the proxy itself is unreachable', async () => {
    const deadPort = await freePort();
    const net = attachNetwork(noEmulator, { proxyUrl: `http://127.0.0.1:${deadPort}/cors-proxy/`, upstreamTimeoutMs: 120_000 });
    const response = await ask(net, 'GET', 'ghcr.io', '/v2/x/y/manifests/latest');
    expect(response.status).toBe(UPSTREAM_FAILED_STATUS);
    expect(json(response).errors[0]?.message).toContain(`CORS proxy at http://127.0.0.1:${deadPort}/cors-proxy/ is unreachable`);
  });
});

describe("verdicts for dockerd's next endpoint (Docker Hub)", () => {
  const mirrorOf = (upstreamOrigin: string) => {
    const proxy = createCorsProxy({ registryHosts: [upstreamOrigin] });
    const verdicts = new MirrorVerdicts();
    const mirror = new RegistryMirror(new Upstream({ proxyUrl: 'http://proxy.test/', fetch: (request) => proxy(request), timeoutMs: 120_000 }), {
      dockerHubUpstream: upstreamOrigin,
      verdicts,
    });
    const send = (method: 'GET' | 'HEAD', path: string) =>
      mirror.handle({ method, target: path, version: '1.1', headers: [['host', 'mirror.tabdock.internal']], body: new Uint8Array(0), keepAlive: false });
    return { verdicts, send };
  };

  it('notes an index without linux/386 under the tag dockerd asked for, with the advice; a fitting pull clears it', async () => {
    const { verdicts, send } = mirrorOf(`http://${registry.host}`);
    const head = await send('HEAD', '/v2/library/foreign/manifests/v2');
    expect(head.status).toBe(200);
    // dockerd fetches the index by the digest the HEAD gave; the advice still names the tag.
    expect((await send('GET', `/v2/library/foreign/manifests/${head.headers.get('docker-content-digest')}`)).status).toBe(200);
    const verdict = verdicts.current();
    expect(verdict).toMatchObject({ kind: 'no-platform', message: 'no matching manifest for linux/386 in the manifest list entries' });
    expect(verdict?.kind === 'no-platform' && verdict.advice).toContain('foreign:v2 has no linux/386 image (it has linux/amd64, linux/arm64)');
    await send('GET', '/v2/library/hello/manifests/v1');
    expect(verdicts.current()).toBeUndefined();
  });

  it('notes a missing tag as final and a stopped upstream as not final', async () => {
    const { verdicts, send } = mirrorOf(`http://${registry.host}`);
    expect((await send('GET', '/v2/library/hello/manifests/nope')).status).toBe(404);
    expect(verdicts.current()).toMatchObject({ kind: 'not-found', message: expect.stringContaining('manifest for hello:nope not found') });
    const deadPort = await freePort();
    const dead = mirrorOf(`http://127.0.0.1:${deadPort}`);
    expect((await dead.send('GET', '/v2/library/hello/manifests/v1')).status).toBe(UPSTREAM_FAILED_STATUS);
    expect(dead.verdicts.current()).toMatchObject({ kind: 'unreachable', message: expect.stringContaining(`could not reach http://127.0.0.1:${deadPort}`) });
  });
});

describe('attachNetwork', () => {
  it('takes port 80 and configured ports from v86, without accepting twice', () => {
    let listener: ((conn: V86TcpConnection) => void) | undefined;
    const emulator: V86NetworkLike = {
      add_listener: (_event, fn) => {
        listener = fn;
      },
      remove_listener: () => {
        listener = undefined;
      },
    };
    const net = attachNetwork(emulator, { extraPorts: [5000] });
    const accepted: number[] = [];
    const conn = (sport: number, state: string): V86TcpConnection => ({
      sport,
      state,
      on: () => undefined,
      accept: () => accepted.push(sport),
      write: () => undefined,
      close: () => undefined,
    });
    listener?.(conn(80, 'established'));
    listener?.(conn(5000, 'syn-received'));
    listener?.(conn(443, 'syn-received'));
    expect(accepted).toEqual([5000]);
    expect(net.stats().connections).toBe(2);
    net.detach();
    expect(listener).toBeUndefined();
  });
});

function raise(message: string): never {
  throw new Error(message);
}
