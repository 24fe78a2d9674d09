// Boot failures with the real kernel: an image whose initrd is garbage must end in kernel-panic with the last
// console lines (never a hang), and a boot that cannot finish in time must end in boot-timeout. Both stop early.
// And a restore v86 refuses: the VM starts from the next source and keeps one relay connection, not two.
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkOptions, VmEvent } from '../shared/contract.ts';
import { parseManifest, sha256HexOf } from '../vm/assets.ts';
import { attachRelayedNetwork } from '../vm/net/relayed-network.ts';
import { encodeStateFile } from '../vm/snapshot/state-file.ts';
import { startTestRelay, type TestRelay } from '../testing/wisp-test-relay.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';
import { BOOT_HOOK_TIMEOUT_MS, TEST_BOOT_TIMEOUT_MS } from './vm-test-boot.ts';

const assetDir = path.resolve(process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR);
let brokenDir: string;

beforeAll(async () => {
  const manifestPath = path.join(assetDir, 'manifest.json');
  const manifest = parseManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
  brokenDir = await mkdtemp(path.join(tmpdir(), 'tabdock-broken-'));
  for (const name of ['bios', 'vgaBios', 'kernel'] as const) {
    await copyFile(path.join(assetDir, manifest.files[name].file), path.join(brokenDir, manifest.files[name].file));
  }
  await symlink(path.join(assetDir, manifest.files.rootDisk.file), path.join(brokenDir, manifest.files.rootDisk.file));
  // An initrd the kernel cannot unpack, and no root= it could mount instead: the kernel must panic.
  const garbage = new Uint8Array(4096).fill(0x5a);
  await writeFile(path.join(brokenDir, 'garbage-initrd.img'), garbage);
  const broken = {
    ...manifest,
    cmdline: `${manifest.cmdline.replace(/\broot=\S+/g, '')} root=/dev/nonexistent panic=0`,
    files: { ...manifest.files, initrd: { file: 'garbage-initrd.img', bytes: garbage.length, sha256: await sha256HexOf(garbage) } },
  };
  await writeFile(path.join(brokenDir, 'manifest.json'), JSON.stringify(broken));
});

afterAll(async () => {
  if (brokenDir) await rm(brokenDir, { recursive: true, force: true });
});

describe('boot failures', () => {
  it('reports a kernel panic with the last console lines', async () => {
    const host = createNodeVmHost();
    const errors: string[] = [];
    host.subscribe((event) => {
      if (event.type === 'error') errors.push(event.error.code);
    });
    try {
      await expect(host.boot({ assetBase: brokenDir, bootTimeoutMs: TEST_BOOT_TIMEOUT_MS })).rejects.toMatchObject({
        code: 'kernel-panic',
        message: expect.stringContaining('npm run images'),
        detail: expect.stringContaining('Kernel panic'),
      });
      expect(errors).toEqual(['kernel-panic']);
    } finally {
      await host.shutdown();
    }
  }, BOOT_HOOK_TIMEOUT_MS);

  it('gives up with boot-timeout and says how far it got', async () => {
    const host = createNodeVmHost();
    try {
      // A cold boot: restoring the boot snapshot would be ready well within the limit this test needs to pass.
      await expect(host.boot({ assetBase: assetDir, bootTimeoutMs: 4_000, resume: { kind: 'kernel' } })).rejects.toMatchObject({
        code: 'boot-timeout',
        message: expect.stringMatching(/within 4 s \(last stage: [a-z-]+\)/),
      });
      await expect(host.exec('true')).rejects.toMatchObject({ code: 'not-running' });
    } finally {
      await host.shutdown();
    }
  });
});

describe('a restore that falls back', () => {
  let relay: TestRelay;
  let network: NetworkOptions;

  beforeAll(async () => {
    relay = await startTestRelay();
    // The browser worker's network (relay and shim), with the page's options; nothing is pulled here.
    network = { proxyUrl: 'http://127.0.0.1:9/', relayUrl: relay.url };
  });

  afterAll(() => relay?.close());

  it('starts from the boot snapshot when v86 refuses a session, with one open relay connection, not two', async () => {
    // A well-formed state file (right build, right checksum) whose payload is not a v86 state: only the restore
    // itself can find out, after the emulator and its network exist. It must end in a clean VM with a notice,
    // not in a wait for the boot timeout, and the refused emulator's relay connection must be closed.
    const manifest = parseManifest(JSON.parse(await readFile(path.join(assetDir, 'manifest.json'), 'utf8')), assetDir);
    const garbage = new Uint8Array(64 * 1024).map((_, i) => (i * 131 + 17) & 0xff);
    const refused = await encodeStateFile(
      { kind: 'session', buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, memoryBytes: manifest.recommendedMemoryBytes, createdAt: new Date().toISOString(), compression: 'none', rawBytes: garbage.length },
      garbage,
    );
    const host = createNodeVmHost({ attachNetwork: attachRelayedNetwork });
    const events: VmEvent[] = [];
    host.subscribe((event) => {
      if (event.type === 'notice') events.push(event);
    });
    try {
      const result = await host.boot({ assetBase: assetDir, bootTimeoutMs: TEST_BOOT_TIMEOUT_MS, resume: { kind: 'file', file: new Blob([refused as BlobPart]) }, network });
      expect(result.startedFrom).toBe('boot-snapshot');
      expect(events).toMatchObject([{ notice: { code: 'session-unusable', message: expect.stringMatching(/could not be resumed/), detail: expect.stringMatching(/Invalid header/) } }]);
      // Time for a connection the refused emulator left behind to show up.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(relay.relay.sessions()).toBe(1);
      expect((await host.exec('echo alive-after-fallback')).output).toContain('alive-after-fallback');
    } finally {
      await host.shutdown();
    }
    // Shutting down closes the last one.
    await expect.poll(() => relay.relay.sessions()).toBe(0);
  }, BOOT_HOOK_TIMEOUT_MS);
});
