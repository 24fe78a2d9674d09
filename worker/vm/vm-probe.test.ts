// The probe against fake parts: diagnostics gather what exists, the JIT threshold is read and set through the
// emulator's global (and refused without one or for nonsense), serial bytes reach listeners until they leave.
import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import type { JitStats } from '../shared/contract.ts';
import type { StoreDisk } from './disk/v86-disk.ts';
import { DEFAULT_TUNING, type StartedEmulator } from './emulator-start.ts';
import { VmProbe } from './vm-probe.ts';

const jit: JitStats = { modulesCompiled: 3, wasmBytesCompiled: 900, compileMs: 0, compileWaitMs: 5, compileWaitMaxMs: 2, cacheFlushes: 0 };

function probe(parts: { started?: StartedEmulator; disk?: StoreDisk } = {}): VmProbe {
  return new VmProbe({
    started: () => parts.started,
    disk: () => parts.disk,
    afterRestore: () => ({ warmUp: { skipped: true } }),
    tuning: () => DEFAULT_TUNING,
    stages: () => [{ stage: 'ready', atMs: 10 }],
    notes: () => [],
  });
}

function started(global: WebAssembly.Global | undefined): StartedEmulator {
  return { emulator: {} as V86, loaded: Promise.resolve(), jitStats: () => jit, jitThreshold: () => global, discard: () => Promise.resolve() };
}

describe('VmProbe', () => {
  it('gathers the diagnostics that exist', () => {
    expect(probe().diagnostics()).toEqual({ warmUp: { skipped: true } });
    const counters = { hits: 1, misses: 2, fetchedBytes: 3, cachedBytes: 4, prefetchedBytes: 5 };
    const disk = { image: { counters } } as unknown as StoreDisk;
    expect(probe({ started: started(undefined), disk }).diagnostics()).toEqual({ jit, diskImage: counters, warmUp: { skipped: true } });
  });

  it("reads and sets v86's JIT threshold through its global, and refuses what it cannot set", () => {
    const global = new WebAssembly.Global({ value: 'i32', mutable: true }, 800_000);
    const running = probe({ started: started(global) });
    expect(running.jitThreshold()).toBe(800_000);
    expect(running.setJitThreshold(400_000)).toBe(true);
    expect(global.value).toBe(400_000);
    expect(running.setJitThreshold(0)).toBe(false);
    expect(running.setJitThreshold(1.5)).toBe(false);
    expect(global.value).toBe(400_000);
    expect(probe({ started: started(undefined) }).setJitThreshold(400_000)).toBe(false);
    expect(probe().jitThreshold()).toBeUndefined();
  });

  it('passes serial bytes to listeners until they unsubscribe', () => {
    const p = probe();
    const seen: number[] = [];
    const stop = p.onSerialByte((byte) => seen.push(byte));
    p.serialByte(0x41);
    stop();
    p.serialByte(0x42);
    expect(seen).toEqual([0x41]);
    expect(p.timeline).toEqual([{ stage: 'ready', atMs: 10 }]);
  });
});
