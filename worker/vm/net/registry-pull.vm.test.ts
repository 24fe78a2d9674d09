// `docker pull` in the real guest through the whole chain: dockerd -> v86 fake TCP -> the shim -> the Node CORS
// proxy server -> a Docker-Hub-like token gateway with a blob CDN -> Debian's docker-registry. Offline: the image
// is the colleague-built busybox test layout plus a fresh layer, so the pull must really download bytes.
// The same boot checks the Docker view's Engine API: reachable by the worker only, queries, actions, the /events
// watch, the shim's layer progress, and `npm run vm -- --docker-socket` (a pull streamed over the host socket),
// and images of other platforms (worker/testing/platform-pull-cases.ts: linux/amd64 emulated, the tabdock line).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from '../../node/node-platform.ts';
import { run, TEST_TIMEOUT_MS } from '../../node/vm-test-boot.ts';
import { startProxyServer, type RunningProxyServer } from '../../proxy/node/node-server.ts';
import { networkConfigFromFlags } from '../../node/network-flags.ts';
import { buildOciLayout, extendOciLayout, type ExtendedImage } from '../../testing/oci-layout.ts';
import { pushLayout, startAuthGateway, startRegistry, type AuthGateway, type TestRegistry } from '../../testing/registry.ts';
import type { EngineLogMessage, EngineUpdate, VmNotice } from '../../shared/contract.ts';
import type { EgressNotice } from './egress.ts';
import { describePlatformPulls, pushPlatformImages } from '../../testing/platform-pull-cases.ts';
import { serveDockerSocket } from '../../node/docker-socket.ts';

const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
/** dockerd's warning when a registry answers a tag but not the digest it resolved to (issue #27). */
const DIGEST_FALLBACK_WARNING = /Failed to pull manifest by the resolved digest|falling back to\s+pull by tag/;
const marker = `pulled-${randomBytes(6).toString('hex')}`;

let registry: TestRegistry;
let gateway: AuthGateway;
let proxy: RunningProxyServer;
let web: Server;
let image: ExtendedImage;
/** Pulled over --docker-socket: its own new layer, so the pull tests below still download theirs. */
let viewed: ExtendedImage;
let workDir: string;
let host: VmHost;
/** Every notice the host raised, and every refusal the harness's relay reported (none may be Docker Hub's). */
const notices: VmNotice[] = [];
const relayNotices: EgressNotice[] = [];
const hubRelayNotices = () => relayNotices.filter((notice) => notice.target.startsWith('registry-1.docker.io'));

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tabdock-pull-vm-'));
  registry = await startRegistry();
  gateway = await startAuthGateway(registry.host);
  image = await extendOciLayout(join(assetBase, 'test-images', 'busybox'), join(workDir, 'layout'), 'v1', {
    'pulled-marker.txt': Buffer.from(`${marker}\n`),
    // Incompressible, so the layer is about this big on the wire.
    'random.bin': randomBytes(1024 * 1024),
  });
  await pushLayout(image.layoutDir, 'v1', registry.host, 'test/pulled');
  await pushLayout(image.layoutDir, 'v1', registry.host, 'library/pulled');
  // An image that exists, but not for the guest's linux/386.
  const foreign = await buildOciLayout(join(workDir, 'foreign'), 'v1', 1024, ['amd64', 'arm64']);
  await pushLayout(foreign.layoutDir, 'v1', registry.host, 'library/foreign');
  await pushPlatformImages(registry.host, join(assetBase, 'test-images'), workDir);
  viewed = await extendOciLayout(join(assetBase, 'test-images', 'busybox'), join(workDir, 'viewed'), 'v1', { 'viewed.bin': randomBytes(256 * 1024) });
  await pushLayout(viewed.layoutDir, 'v1', registry.host, 'test/viewed');
  // The guest's own busybox as an OCI index and as a Docker manifest list (skopeo converts it): the pulls below
  // fetch manifests and the config only, as the layer is already there.
  await pushLayout(join(assetBase, 'test-images', 'busybox'), 'latest', registry.host, 'library/indexed');
  await promisify(execFile)('skopeo', ['copy', '--all', '--format', 'v2s2', '--dest-tls-verify=false', '--quiet', `oci:${join(assetBase, 'test-images', 'busybox')}:latest`, `docker://${registry.host}/library/listed:latest`]);
  web = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('plain-http-from-host\n'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const webHost = `127.0.0.1:${(web.address() as AddressInfo).port}`;
  proxy = await startProxyServer({
    port: 0,
    // Plain HTTP from containers leaves through the proxy too, so its target must be allow-listed.
    extraRegistryHosts: [`http://${gateway.host}`, `http://${webHost}`],
    extraRedirectHosts: [`http://${gateway.cdnHost}`],
  });
  // Built the way `npm run vm --upstream ... --proxy ... --registry ...` builds it, so the flags are proven here.
  const config = networkConfigFromFlags({
    upstream: `http://${gateway.host}`,
    proxy: proxy.url,
    registries: [`registry.test=http://${gateway.host}`, `web.test=http://${webHost}`],
  });
  host = createNodeVmHost({ network: config, egress: { onNotice: (notice) => relayNotices.push(notice) } });
  host.subscribe((event) => {
    if (event.type === 'notice') notices.push(event.notice);
  });
  await host.boot({ assetBase, bootTimeoutMs: 480_000 });
}, 600_000);

afterAll(async () => {
  await host?.shutdown();
  web?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await proxy?.close();
  await gateway?.stop();
  await registry?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** One HTTP/1.1 exchange over the host Unix socket; the body as text. */
function overSocket(socketPath: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the Engine API for the Docker view', { timeout: TEST_TIMEOUT_MS }, () => {
  it('answers the worker, and no container, the guest itself or the port preview', async () => {
    const version = await host.engineQuery({ kind: 'version' });
    expect(version.arch).toBe('386');
    expect((await run(host, "docker version --format '{{.Server.Version}}'")).trim()).toBe(version.version);
    // DROP, not RST: each try hangs until its timeout. Default bridge gateway and the guest's eth0 address.
    const fromContainer = await run(
      host,
      "docker run --rm busybox sh -c 'for a in 172.17.0.1 192.168.86.100; do timeout 8 wget -qO- http://$a:2375/version && echo REACHED-$a; done; true' 2>&1",
    );
    expect(fromContainer).not.toMatch(/REACHED|ApiVersion/);
    const fromGuest = await run(host, 'timeout 5 busybox wget -qO- http://127.0.0.1:2375/version && echo REACHED; true');
    expect(fromGuest).not.toMatch(/REACHED|ApiVersion/);
    await expect(host.guestFetch({ port: 2375, method: 'GET', target: '/version', headers: [] })).rejects.toMatchObject({ code: 'bad-request' });
  });

  it('lists, starts, stops and removes a container, and the watch sees each step', async () => {
    const updates: EngineUpdate[] = [];
    const subscription = host.subscribe((event) => {
      if (event.type === 'engine') updates.push(event.update);
    });
    host.watchEngine(true);
    try {
      await expect.poll(() => updates.some((u) => u.kind === 'connection' && u.state === 'connected'), { timeout: 60_000 }).toBe(true);
      await run(host, "docker create --name viewed-web -p 8081:80 tabdock/httpd sh -c 'echo viewed-log-line; exec httpd -f -p 80 -h /www'");
      const created = (await host.engineQuery({ kind: 'containers' })).find((c) => c.name === 'viewed-web');
      expect(created).toMatchObject({ state: 'created', image: 'tabdock/httpd' });
      const id = created?.id ?? '';
      await host.engineAction({ kind: 'container-start', id });
      const running = (await host.engineQuery({ kind: 'containers' })).find((c) => c.id === id);
      expect(running?.state).toBe('running');
      expect(running?.ports).toContainEqual(expect.objectContaining({ privatePort: 80, publicPort: 8081 }));
      expect(running?.networks[0]?.ipAddress).toMatch(/^172\.17\./);
      // Logs, followed on a port until the reader cancels (the Docker view's Logs).
      const channel = new MessageChannel();
      const logged: EngineLogMessage[] = [];
      channel.port1.onmessage = (event: MessageEvent<EngineLogMessage>) => logged.push(event.data);
      host.followEngineLogs(id, channel.port2 as unknown as globalThis.MessagePort);
      await expect.poll(() => logged.some((m) => m.type === 'data' && m.text.includes('viewed-log-line')), { timeout: 60_000 }).toBe(true);
      channel.port1.postMessage({ type: 'cancel' });
      channel.port1.close();
      await host.engineAction({ kind: 'container-stop', id });
      await host.engineAction({ kind: 'container-remove', id, force: false });
      const seen = () => updates.flatMap((u) => (u.kind === 'events' ? u.events : [])).filter((e) => e.actorId === id).map((e) => e.action);
      await expect.poll(seen, { timeout: 30_000 }).toEqual(expect.arrayContaining(['create', 'start', 'die', 'destroy']));
      await expect(host.engineAction({ kind: 'container-remove', id, force: false })).rejects.toMatchObject({ code: 'not-found' });
    } finally {
      host.watchEngine(false);
      host.unsubscribe(subscription);
    }
  });

  it('serves the API on a host Unix socket (--docker-socket): a pull streams progress, the watch sees its layer', async () => {
    const socketPath = join(workDir, 'docker.sock');
    const server = await serveDockerSocket(socketPath, () => host.dialEngine(), (message) => console.error(message));
    const updates: EngineUpdate[] = [];
    const subscription = host.subscribe((event) => {
      if (event.type === 'engine') updates.push(event.update);
    });
    host.watchEngine(true);
    try {
      expect(await overSocket(socketPath, 'GET', '/_ping')).toEqual({ status: 200, body: 'OK' });
      const pull = await overSocket(socketPath, 'POST', '/v1.41/images/create?fromImage=registry.test%2Ftest%2Fviewed&tag=v1');
      expect(pull.status).toBe(200);
      const lines = pull.body.trim().split('\n').map((line) => JSON.parse(line) as { status?: string; progressDetail?: { current?: number } });
      expect(lines.some((line) => line.status === 'Downloading' && (line.progressDetail?.current ?? 0) > 0)).toBe(true);
      expect(lines.at(-1)?.status).toContain('Downloaded newer image for registry.test/test/viewed:v1');
      const layers = updates.flatMap((u) => (u.kind === 'layers' ? u.layers : [])).filter((l) => l.digest === viewed.layerDigest);
      expect(layers.at(-1)).toMatchObject({ state: 'done', loadedBytes: viewed.layerBytes, repository: 'test/viewed' });
      await expect
        .poll(() => updates.some((u) => u.kind === 'events' && u.events.some((e) => e.type === 'image' && e.action === 'pull' && e.actorId === 'registry.test/test/viewed:v1')), { timeout: 30_000 })
        .toBe(true);
    } finally {
      host.watchEngine(false);
      host.unsubscribe(subscription);
      await server.close();
    }
  });
});

describePlatformPulls(() => ({ host, registryHost: registry.host, testImagesDir: join(assetBase, 'test-images'), workDir, notices }));

describe('docker pull through the shim', () => {
  it('pulls a token-protected multi-layer image and runs it', async () => {
    const startedAt = Date.now();
    const pull = await run(host, 'docker pull registry.test/test/pulled:v1 2>&1', 280_000);
    const pullMs = Date.now() - startedAt;
    expect(pull).toContain(image.indexDigest);
    expect(pull).not.toMatch(DIGEST_FALLBACK_WARNING);
    console.log(`pull of a ${image.layerBytes}-byte new layer took ${pullMs} ms`);
    expect(await run(host, 'docker run --rm registry.test/test/pulled:v1 cat /pulled-marker.txt')).toContain(marker);
    expect(gateway.tokenRequests).toBeGreaterThan(0);
  });

  it('reaches the Docker Hub upstream under the mirror name, adding library/', async () => {
    // The image exists upstream only as library/pulled: the pull works only if the shim adds library/.
    const pull = await run(host, 'docker pull mirror.tabdock.internal/pulled:v1 2>&1', 280_000);
    expect(pull).toContain(image.indexDigest);
  });

  it('pulls an OCI index and a Docker manifest list by tag and by digest with no fallback warning, keeping the registry digest', async () => {
    for (const name of ['indexed', 'listed']) {
      const head = await fetch(`http://${registry.host}/v2/library/${name}/manifests/latest`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
      });
      const digest = head.headers.get('docker-content-digest') ?? '';
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      // By tag through the Docker Hub mirror (the name a tutorial types), then by digest.
      const byTag = await run(host, `docker pull ${name} 2>&1`, 280_000);
      expect(byTag).not.toMatch(DIGEST_FALLBACK_WARNING);
      expect(byTag).toContain(`Digest: ${digest}`);
      expect((await run(host, `docker images --digests --format '{{.Digest}}' ${name}`)).trim()).toBe(digest);
      await run(host, `docker rmi ${name} >/dev/null`);
      const byDigest = await run(host, `docker pull ${name}@${digest} 2>&1`, 280_000);
      expect(byDigest).not.toMatch(DIGEST_FALLBACK_WARNING);
      expect((await run(host, `docker images --digests --format '{{.Digest}}' ${name}`)).trim()).toBe(digest);
      await run(host, `docker rmi ${name}@${digest} >/dev/null`);
    }
  });

  it('prints "manifest unknown" for a tag that does not exist', async () => {
    const result = await host.exec('docker pull registry.test/test/pulled:nope 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('manifest unknown');
  });

  it('ends a misspelt Docker Hub name with "manifest unknown", not a connection refused by registry-1.docker.io', async () => {
    // dockerd tries Docker Hub itself after the mirror (through its HTTPS proxy, the shim's CONNECT port); with no
    // relay the shim refuses that tunnel with the mirror's verdict, which dockerd prints.
    const result = await host.exec('docker pull nosuchimage 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/manifest for nosuchimage:latest not found: manifest unknown/);
    expect(result.output).not.toMatch(/connection refused/i);
    // Docker Hub could only say the same: the relay is not asked, so it cannot complain.
    expect(hubRelayNotices()).toEqual([]);
    expect(notices.filter((notice) => notice.code === 'image-platform' && notice.message.includes('nosuchimage'))).toEqual([]);
  });

  it('ends a pull of an image without linux/386 with the tabdock line, then dockerd\'s "no matching manifest for linux/386"', async () => {
    const before = notices.length;
    const result = await host.exec('docker pull foreign:v1 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('no matching manifest for linux/386 in the manifest list entries');
    expect(result.output).not.toMatch(/connection refused/i);
    expect(notices.slice(before)).toEqual([
      { code: 'image-platform', message: expect.stringContaining('foreign:v1 has no linux/386 image (it has linux/amd64, linux/arm64)') },
    ]);
    expect(hubRelayNotices()).toEqual([]);
  });

  it('names a stopped upstream at once instead of hanging', async () => {
    const upstream = `http://${gateway.host}`;
    await gateway.stop();
    const result = await host.exec('docker pull mirror.tabdock.internal/pulled:v2 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(`could not reach ${upstream}`);
    // dockerd's fallback to Docker Hub went to the relay (offline here); its refusal is no page notice.
    expect(hubRelayNotices()).toEqual([]);
  });

  it('forwards plain HTTP from a container', async () => {
    const output = await run(host, "docker run --rm busybox sh -c 'timeout 30 wget -qO- http://web.test/'");
    expect(output).toContain('plain-http-from-host');
  });
});
