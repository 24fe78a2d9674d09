// What makes the first docker run after a restore cheaper (issue #13), against the real guest image and its
// boot snapshot: the background warm-up and its rules, the disk prefetch of what a first run reads, the JIT
// threshold the emulator runs with, and crun running from its sealed in-memory copy.
import { afterEach, describe, expect, it } from 'vitest';
import type { VmDiagnostics } from '../shared/contract.ts';
import type { VmHost } from '../vm/vm-host.ts';
import { TABDOCK_JIT_THRESHOLD } from '../vm/v86-tuning.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';
import { run, TEST_BOOT_TIMEOUT_MS, TEST_TIMEOUT_MS } from './vm-test-boot.ts';

const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
let host: VmHost | undefined;

afterEach(async () => {
  await host?.shutdown();
  host = undefined;
});

async function restored(options: { warmUp: boolean }): Promise<VmHost> {
  host = createNodeVmHost();
  const result = await host.boot({ assetBase, bootTimeoutMs: TEST_BOOT_TIMEOUT_MS, ...options });
  expect(result.startedFrom).toBe('boot-snapshot');
  return host;
}

async function diagnosticsWhen(vm: VmHost, ready: (d: VmDiagnostics) => boolean): Promise<VmDiagnostics> {
  let latest = await vm.diagnostics();
  await expect.poll(async () => ready((latest = await vm.diagnostics())), { timeout: 300_000, interval: 500 }).toBe(true);
  return latest;
}

describe('the first docker run after a restore', () => {
  it('is warmed up in the background when nothing is typed, and no container is left behind', { timeout: TEST_TIMEOUT_MS }, async () => {
    const vm = await restored({ warmUp: true });
    const { warmUp, diskPrefetch } = await diagnosticsWhen(vm, (d) => d.warmUp !== undefined && d.diskPrefetch !== undefined);
    expect(warmUp).toMatchObject({ exitCode: 0 });
    // The snapshot's list of what a first run reads was loaded, all of it.
    expect(diskPrefetch?.failed).toBe(0);
    expect(diskPrefetch?.loadedBytes).toBeGreaterThan(1024 * 1024);
    expect(await run(vm, 'docker ps -aq --filter label=tabdock.warm-up=1 | wc -l')).toBe('0\n');
    // The user's own containers work as ever afterwards.
    expect(await run(vm, 'docker run --rm busybox echo after-warm-up')).toContain('after-warm-up');
  });

  it('is not warmed up once the user has typed, and not at all unless asked', { timeout: TEST_TIMEOUT_MS }, async () => {
    const typed = await restored({ warmUp: true });
    typed.sendInput('echo typed-at-once\n');
    const { warmUp } = await diagnosticsWhen(typed, (d) => d.warmUp !== undefined);
    expect(warmUp).toEqual({ skipped: true });
    await typed.shutdown();
    const plain = await restored({ warmUp: false });
    // Given the time a warm-up would need to start, none does.
    await run(plain, 'sleep 5');
    expect((await plain.diagnostics()).warmUp).toBeUndefined();
  });

  it("runs with tabdock's JIT threshold, changeable while the guest runs, and crun from a sealed copy", { timeout: TEST_TIMEOUT_MS }, async () => {
    const vm = await restored({ warmUp: false });
    expect(vm.probe.jitThreshold()).toBe(TABDOCK_JIT_THRESHOLD);
    expect(vm.probe.setJitThreshold(400_000)).toBe(true);
    expect(vm.probe.jitThreshold()).toBe(400_000);
    // tabdock-sealed-copy's bind mount is over /usr/bin/crun, and crun runs containers through it.
    expect(await run(vm, "grep -c ' /usr/bin/crun ' /proc/self/mountinfo")).toBe('1\n');
    expect(await run(vm, 'docker run --rm busybox echo via-sealed-crun')).toContain('via-sealed-crun');
  });
});
