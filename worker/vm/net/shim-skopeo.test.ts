// A real registry client through the whole chain: skopeo -> the shim on a loopback port (standing in for the
// guest's TCP) -> `npm run proxy`'s Node server over real HTTP -> token gateway and blob CDN -> docker-registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyServer, type RunningProxyServer } from '../../proxy/node/node-server.ts';
import { attachNetwork, type NetworkHandle } from './index.ts';
import { buildOciLayout, type BuiltImage } from '../../testing/oci-layout.ts';
import { pushLayout, requireTool, startAuthGateway, startRegistry, type AuthGateway, type TestRegistry } from '../../testing/registry.ts';
import { listenAsGuest } from '../../testing/tcp-bridge.ts';

const run = promisify(execFile);

let registry: TestRegistry;
let gateway: AuthGateway;
let proxy: RunningProxyServer;
let image: BuiltImage;
let workDir: string;
let net: NetworkHandle;
let bridge: { port: number; close(): Promise<void> };

beforeAll(async () => {
  await requireTool('skopeo');
  workDir = await mkdtemp(join(tmpdir(), 'tabdock-skopeo-test-'));
  registry = await startRegistry();
  gateway = await startAuthGateway(registry.host);
  // A 2 MiB layer per platform: several slices of the shim's writer and several proxy chunks.
  image = await buildOciLayout(join(workDir, 'layout'), 'v1', 2 * 1024 * 1024);
  await pushLayout(image.layoutDir, 'v1', registry.host, 'test/hello');
  proxy = await startProxyServer({
    port: 0,
    extraRegistryHosts: [`http://${gateway.host}`],
    extraRedirectHosts: [`http://${gateway.cdnHost}`],
  });
  bridge = await listenAsGuest((socket) => net.serve(socket));
  net = attachNetwork(
    { add_listener: () => undefined, remove_listener: () => undefined },
    { proxyUrl: proxy.url, hostRewrites: { [`127.0.0.1:${bridge.port}`]: `http://${gateway.host}` } },
  );
}, 60_000);

afterAll(async () => {
  await bridge?.close();
  await proxy?.close();
  await gateway?.stop();
  await registry?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('skopeo through the shim and the Node proxy server', () => {
  it('copies the multi-arch image with every digest verified', async () => {
    const out = join(workDir, 'pulled');
    await run('skopeo', [
      'copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--quiet',
      `docker://127.0.0.1:${bridge.port}/test/hello:v1`, `oci:${out}:v1`,
    ]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(index.manifests[0]?.digest).toBe(image.indexDigest);
    const layer = image.platforms['386']?.layerDigest ?? '';
    const pulledLayer = await readFile(join(out, 'blobs', 'sha256', layer.slice('sha256:'.length)));
    expect(pulledLayer.equals(image.platforms['386']?.layerBytes ?? Buffer.alloc(0))).toBe(true);
    expect(net.stats().registryRequests).toBeGreaterThan(5);
  });

  it('inspects the linux/386 variant like dockerd picks it', async () => {
    const { stdout } = await run('skopeo', [
      'inspect', '--tls-verify=false', '--override-arch', '386', '--override-os', 'linux',
      `docker://127.0.0.1:${bridge.port}/test/hello:v1`,
    ]);
    const inspected = JSON.parse(stdout) as { Digest: string; Architecture: string };
    expect(inspected.Architecture).toBe('386');
    // skopeo reports the digest the tag points to (the index); the architecture shows the 386 pick.
    expect(inspected.Digest).toBe(image.indexDigest);
  });

  it('prints the registry error for a missing tag', async () => {
    const failure = await run('skopeo', [
      'inspect', '--tls-verify=false', '--raw', `docker://127.0.0.1:${bridge.port}/test/hello:missing`,
    ]).then(
      () => 'succeeded',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(failure).toContain('manifest unknown');
  });
});
