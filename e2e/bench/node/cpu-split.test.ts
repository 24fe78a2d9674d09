import { describe, expect, it } from 'vitest';
import { classifyFrame, guestCpuDelta, profileHostCpu, splitProfile } from './cpu-split.ts';

describe('classifyFrame', () => {
  it('tells the emulator, v86 JavaScript, our code and idle apart', () => {
    expect(classifyFrame({ functionName: 'main_loop', url: 'wasm://wasm/v86.wasm-008045d6' })).toBe('emulator');
    expect(classifyFrame({ functionName: 'wasm-function[5]', url: 'wasm://wasm/0004d21e' })).toBe('emulator');
    expect(classifyFrame({ functionName: 'V86', url: 'file:///repo/node_modules/v86/build/libv86.mjs' })).toBe('v86Js');
    expect(classifyFrame({ functionName: 'onSegment', url: 'file:///repo/worker/net/tcp.ts' })).toBe('tabdock');
    expect(classifyFrame({ functionName: '(idle)', url: '' })).toBe('idle');
    expect(classifyFrame({ functionName: 'processChunkSync', url: 'node:zlib' })).toBe('other');
    expect(classifyFrame({ functionName: 'x', url: 'file:///repo/node_modules/comlink/src/comlink.ts' })).toBe('other');
  });
});

describe('splitProfile', () => {
  it('adds each sample time to its node class and gives shares', () => {
    const split = splitProfile({
      nodes: [
        { id: 1, callFrame: { functionName: 'main_loop', url: 'wasm://wasm/v86.wasm-1' } },
        { id: 2, callFrame: { functionName: 'f', url: 'file:///r/worker/net/shim.ts' } },
        { id: 3, callFrame: { functionName: '(idle)', url: '' } },
      ],
      samples: [1, 1, 2, 3, 1],
      timeDeltas: [3000, 3000, 2000, 2000, 0],
    });
    expect(split.ms).toEqual({ emulator: 6, v86Js: 0, tabdock: 2, idle: 2, other: 0 });
    expect(split.percent).toEqual({ emulator: 60, v86Js: 0, tabdock: 20, idle: 20, other: 0 });
  });
});

describe('profileHostCpu', () => {
  it('profiles this thread while the work runs and returns its result', async () => {
    const { result, split } = await profileHostCpu(async () => {
      // Arithmetic in this file, reading the clock rarely, so the samples land in this function.
      const until = performance.now() + 80;
      let spins = 0;
      let x = 1;
      while (performance.now() < until) for (let i = 0; i < 100_000; i++, spins++) x = (x * 31 + i) % 1_000_003;
      return spins + (x & 0);
    }, 1000);
    expect(result).toBeGreaterThan(0);
    // This test file is our own code (under e2e/), so the busy loop lands in 'tabdock'.
    expect(split.ms.tabdock).toBeGreaterThan(40);
    expect(split.ms.emulator).toBe(0);
  });

  it('stops the profiler and rethrows when the work fails', async () => {
    await expect(profileHostCpu(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    // A second profile can start, so the first was stopped.
    await expect(profileHostCpu(async () => 1)).resolves.toMatchObject({ result: 1 });
  });
});

describe('guestCpuDelta', () => {
  it('turns two /proc/stat and /proc/PID/stat readings into seconds and a busy share', () => {
    const before = 'cpu  3134 0 5176 60 684 0 4 0 0 0\n2394 489\n';
    const after = 'cpu  5978 0 6033 64 698 0 292 0 0 0\n4567 1232\n';
    expect(guestCpuDelta(before, after)).toEqual({
      userS: 28.44,
      systemS: 8.57,
      softirqS: 2.88,
      idleS: 0.18,
      busyPercent: 99.6,
      processUserS: 21.73,
      processSystemS: 7.43,
    });
  });

  it('refuses output it cannot read', () => {
    expect(() => guestCpuDelta('cut: /proc//stat: No such file\n', 'cpu 1 2 3 4 5 6 7\n1 2')).toThrow(/unexpected guest CPU reading/);
  });
});
