// restoreIntoFreshEmulator's bookkeeping, on a stand-in CPU: only the whole-RAM zeroing of a restore is cut,
// other zeroing (virtio-balloon) passes through, and v86's own function is back afterwards, also on a throw.
// fresh-restore.vm.test.ts checks the premise and the result against the real v86.
import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import { FRESH_RAM_WRITTEN_BYTES, restoreIntoFreshEmulator } from './v86-internals.ts';

function standIn(ramBytes: number) {
  const calls: [number, number][] = [];
  const zero_memory = (address: number, length: number): void => void calls.push([address, length]);
  const cpu = { devices: {}, mem8: new Uint8Array(ramBytes), zero_memory };
  return { emulator: { v86: { cpu } } as unknown as V86, cpu, calls, original: zero_memory };
}

describe('restoreIntoFreshEmulator', () => {
  it('cuts zeroing of the whole RAM to what init wrote, and passes other zeroing through', async () => {
    const ramBytes = 64 * 1024 * 1024;
    const { emulator, cpu, calls, original } = standIn(ramBytes);
    const result = await restoreIntoFreshEmulator(emulator, () => {
      cpu.zero_memory(0, ramBytes);
      cpu.zero_memory(4096, 8192);
      return Promise.resolve('restored');
    });
    expect(result).toBe('restored');
    expect(calls).toEqual([
      [0, FRESH_RAM_WRITTEN_BYTES],
      [4096, 8192],
    ]);
    expect(cpu.zero_memory).toBe(original);
  });

  it("puts v86's function back when the restore throws", async () => {
    const { emulator, cpu, original } = standIn(4 * 1024 * 1024);
    await expect(restoreIntoFreshEmulator(emulator, () => Promise.reject(new Error('Invalid header')))).rejects.toThrow('Invalid header');
    expect(cpu.zero_memory).toBe(original);
  });

  it('restores unchanged when the internals are not there', async () => {
    let restored = false;
    await restoreIntoFreshEmulator({} as V86, () => {
      restored = true;
      return Promise.resolve();
    });
    expect(restored).toBe(true);
  });
});
