// The shim must answer dockerd's manifest requests as the registry behind it does (issue #27): a different digest,
// length or type on HEAD than on GET by digest makes dockerd print "Failed to pull manifest by the resolved digest"
// and fall back to pull by tag. Raw HTTP with dockerd's own Accept lines (one header per type), straight to Debian's
// docker-registry and through the shim on a loopback port (directly, through `npm run proxy`'s server, and with
// Chromium's fetch semantics, the page's path), for an OCI index, a Docker manifest list and the manifest each
// names, by tag and by digest.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyServer, type RunningProxyServer } from '../../proxy/node/node-server.ts';
import { DEFAULT_ASSET_DIR } from '../../node/node-platform.ts';
import { attachNetwork, type NetworkHandle } from './index.ts';
import { pushLayout, requireTool, startRegistry, type TestRegistry } from '../../testing/registry.ts';
import { listenAsGuest } from '../../testing/tcp-bridge.ts';

const run = promisify(execFile);
const BUSYBOX_LAYOUT = join(process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, 'test-images', 'busybox');
/** What dockerd 26 sends (distribution.ManifestMediaTypes(), one Accept header each). */
const DOCKERD_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/json',
];

interface Answer {
  status: number;
  contentType: string | undefined;
  contentLength: string | undefined;
  digest: string | undefined;
  body: Buffer;
}

function ask(port: number, method: 'HEAD' | 'GET', path: string, host: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = [...DOCKERD_ACCEPT.flatMap((type) => ['Accept', type]), 'Host', host];
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          contentLength: res.headers['content-length'],
          digest: res.headers['docker-content-digest'] as string | undefined,
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

let registry: TestRegistry;
let proxy: RunningProxyServer;
const shims: Array<{ name: string; port: number; close(): Promise<void> }> = [];

beforeAll(async () => {
  await requireTool('skopeo');
  registry = await startRegistry();
  // The busybox test image as an OCI index, and converted to a Docker manifest list (skopeo --format v2s2).
  await pushLayout(BUSYBOX_LAYOUT, 'latest', registry.host, 'library/indexed');
  await run('skopeo', ['copy', '--all', '--format', 'v2s2', '--dest-tls-verify=false', '--quiet', `oci:${BUSYBOX_LAYOUT}:latest`, `docker://${registry.host}/library/listed:latest`]);
  proxy = await startProxyServer({ port: 0, extraRegistryHosts: [`http://${registry.host}`] });
  // Chromium's fetch gives a HEAD response an empty body stream where Node's is null (the cause of #27.1).
  const chromiumLikeFetch = async (request: Request): Promise<Response> => {
    const response = await fetch(request);
    if (request.method !== 'HEAD') return response;
    return new Response(new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }), { status: response.status, headers: response.headers });
  };
  const variants = [
    ['shim', {}],
    ['shim behind the CORS proxy', { proxyUrl: proxy.url }],
    ["shim behind the CORS proxy, with Chromium's HEAD bodies", { proxyUrl: proxy.url, fetch: chromiumLikeFetch }],
  ] as const;
  for (const [name, options] of variants) {
    let net: NetworkHandle | undefined;
    const bridge = await listenAsGuest((socket) => net?.serve(socket));
    net = attachNetwork({ add_listener: () => undefined, remove_listener: () => undefined }, { dockerHubUpstream: `http://${registry.host}`, ...options });
    shims.push({ name, ...bridge });
  }
}, 60_000);

afterAll(async () => {
  for (const shim of shims) await shim.close();
  await proxy?.close();
  await registry?.stop();
});

describe("the shim answers dockerd's manifest requests as the registry does", () => {
  const registryPort = () => Number(registry.host.split(':')[1]);

  for (const repository of ['indexed', 'listed']) {
    it(`${repository}: HEAD and GET by tag, then by the digest HEAD gave, and the image manifest the list names`, async () => {
      const direct = (method: 'HEAD' | 'GET', reference: string) => ask(registryPort(), method, `/v2/library/${repository}/manifests/${reference}`, registry.host);
      const tagged = await direct('GET', 'latest');
      expect(tagged.status).toBe(200);
      const listDigest = tagged.digest ?? '';
      const manifestDigest = (JSON.parse(tagged.body.toString()) as { manifests: Array<{ digest: string }> }).manifests[0]?.digest ?? '';
      expect(listDigest).toMatch(/^sha256:/);
      for (const shim of shims) {
        for (const reference of ['latest', listDigest, manifestDigest]) {
          for (const method of ['HEAD', 'GET'] as const) {
            const expected = await direct(method, reference);
            // dockerd names Docker Hub images without library/ when it asks its mirror.
            const got = await ask(shim.port, method, `/v2/${repository}/manifests/${reference}`, 'mirror.tabdock.internal');
            const what = `${shim.name}: ${method} ${repository}@${reference}`;
            expect({ what, status: got.status, type: got.contentType, length: got.contentLength, digest: got.digest }).toEqual({
              what,
              status: expected.status,
              type: expected.contentType,
              length: expected.contentLength,
              digest: expected.digest,
            });
            expect(got.body.equals(expected.body), what).toBe(true);
          }
        }
      }
    });
  }
});
