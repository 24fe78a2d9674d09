// `docker pull` in the real guest through the whole chain: dockerd -> v86 fake TCP -> the shim -> the Node CORS
// proxy server -> a Docker-Hub-like token gateway with a blob CDN -> Debian's docker-registry. Offline: the image
// is the colleague-built busybox test layout plus a fresh layer, so the pull must really download bytes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from '../node/node-platform.ts';
import { run } from '../node/vm-test-boot.ts';
import { startProxyServer, type RunningProxyServer } from '../proxy/node-server.ts';
import { networkConfigFromFlags } from '../node/network-flags.ts';
import { buildOciLayout, extendOciLayout, type ExtendedImage } from './testing/oci-layout.mts';
import { pushLayout, startAuthGateway, startRegistry, type AuthGateway, type TestRegistry } from './testing/registry.mts';

const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
const marker = `pulled-${randomBytes(6).toString('hex')}`;

let registry: TestRegistry;
let gateway: AuthGateway;
let proxy: RunningProxyServer;
let web: Server;
let image: ExtendedImage;
let workDir: string;
let host: VmHost;

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
  host = createNodeVmHost({ network: config });
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

describe('docker pull through the shim', () => {
  it('pulls a token-protected multi-layer image and runs it', async () => {
    const startedAt = Date.now();
    const pull = await run(host, 'docker pull registry.test/test/pulled:v1 2>&1', 280_000);
    const pullMs = Date.now() - startedAt;
    expect(pull).toContain(image.indexDigest);
    console.log(`pull of a ${image.layerBytes}-byte new layer took ${pullMs} ms`);
    expect(await run(host, 'docker run --rm registry.test/test/pulled:v1 cat /pulled-marker.txt')).toContain(marker);
    expect(gateway.tokenRequests).toBeGreaterThan(0);
  });

  it('reaches the Docker Hub upstream under the mirror name, adding library/', async () => {
    // The image exists upstream only as library/pulled: the pull works only if the shim adds library/.
    const pull = await run(host, 'docker pull mirror.tabdock.internal/pulled:v1 2>&1', 280_000);
    expect(pull).toContain(image.indexDigest);
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
  });

  it('ends a pull of an image without linux/386 with dockerd\'s "no matching manifest for linux/386"', async () => {
    const result = await host.exec('docker pull foreign:v1 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('no matching manifest for linux/386 in the manifest list entries');
    expect(result.output).not.toMatch(/connection refused/i);
  });

  it('names a stopped upstream at once instead of hanging', async () => {
    const upstream = `http://${gateway.host}`;
    await gateway.stop();
    const result = await host.exec('docker pull mirror.tabdock.internal/pulled:v2 2>&1', { timeoutMs: 120_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(`could not reach ${upstream}`);
  });

  it('forwards plain HTTP from a container', async () => {
    const output = await run(host, "docker run --rm busybox sh -c 'timeout 30 wget -qO- http://web.test/'");
    expect(output).toContain('plain-http-from-host');
  });
});
