import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { V86 } from 'v86';
import { describe, expect, it, vi } from 'vitest';
import { v86WasmPath } from '../node/node-platform.ts';
import { JIT_THRESHOLD_EXPORT, useSameThreadYield, V86_WASM_SHA256, withJitThresholdGlobal } from './v86-tuning.ts';

async function pinnedWasm(): Promise<ArrayBuffer> {
  const bytes = await readFile(v86WasmPath());
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

describe('withJitThresholdGlobal', () => {
  it('turns the one i32.const 200000 into a read of an exported global the emulator can change while it runs', async () => {
    const original = new Uint8Array(await pinnedWasm());
    expect(createHash('sha256').update(original).digest('hex')).toBe(V86_WASM_SHA256);
    const patched = new Uint8Array(await withJitThresholdGlobal(original.slice().buffer, 800_000));
    expect(WebAssembly.validate(patched)).toBe(true);
    // i32.const 200000 (0x41 0xc0 0x9a 0x0c) is gone; global.get 1 + two nops stand in its place.
    const find = (bytes: Uint8Array, needle: number[]) => bytes.findIndex((_, i) => needle.every((b, j) => bytes[i + j] === b));
    expect(find(patched, [0x20, 0x03, 0x41, 0xc0, 0x9a, 0x0c, 0x49])).toBe(-1);
    expect(find(patched, [0x20, 0x03, 0x23, 0x01, 0x01, 0x01, 0x49])).toBeGreaterThan(0);
    const module = new WebAssembly.Module(patched);
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: JIT_THRESHOLD_EXPORT, kind: 'global' });
    // Every function body is unchanged but for those four bytes: the code section has the same length.
    expect(patched.byteLength - original.byteLength).toBe(31);
  });

  it('refuses another v86.wasm and thresholds an i32 cannot hold', async () => {
    const other = new Uint8Array(await pinnedWasm());
    other[100] = other[100]! ^ 0xff;
    await expect(withJitThresholdGlobal(other.buffer, 400_000)).rejects.toThrow(/not the pinned v86 0.5.462 build/);
    await expect(withJitThresholdGlobal(await pinnedWasm(), 0)).rejects.toThrow(/out of range/);
    await expect(withJitThresholdGlobal(await pinnedWasm(), 2 ** 31)).rejects.toThrow(/out of range/);
  });
});

describe('useSameThreadYield', () => {
  it('runs the next slice through a MessageChannel and longer waits through a timer, and stops the helper worker', async () => {
    const ticks: number[] = [];
    let helperStopped = false;
    const loop = {
      yield: (_waitMs: number, _tick: number) => {
        throw new Error('the helper worker yield must not be used');
      },
      yield_callback: (tick: number) => ticks.push(tick),
      unregister_yield: () => {
        helperStopped = true;
      },
    };
    const emulator = { v86: loop } as unknown as V86;
    expect(useSameThreadYield(emulator)).toBe(true);
    expect(helperStopped).toBe(true);
    // Only timers are faked: the 0 ms slice must arrive through the MessageChannel while the 5 ms one still waits
    // for its timer, however loaded the machine is.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      loop.yield(5, 2);
      loop.yield(0, 1);
      // setImmediate is not faked: turn the event loop until the channel's message has come.
      for (let turns = 0; turns < 10_000 && ticks.length === 0; turns++) await new Promise((resolve) => setImmediate(resolve));
      expect(ticks).toEqual([1]);
      vi.advanceTimersByTime(5);
      expect(ticks).toEqual([1, 2]);
    } finally {
      vi.useRealTimers();
    }
    (loop as unknown as { unregister_yield(): void }).unregister_yield();
  });
});
