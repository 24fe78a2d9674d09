import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import { v86WasmPath } from './node/node-platform.ts';
import { useSameThreadYield, V86_WASM_SHA256, withJitThreshold } from './v86-tuning.ts';

async function pinnedWasm(): Promise<ArrayBuffer> {
  const bytes = await readFile(v86WasmPath());
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

describe('withJitThreshold', () => {
  it('changes only the three bytes of the threshold, and the module stays valid', async () => {
    const original = new Uint8Array(await pinnedWasm());
    expect(createHash('sha256').update(original).digest('hex')).toBe(V86_WASM_SHA256);
    const patched = new Uint8Array(await withJitThreshold(original.slice().buffer, 400_000));
    const changed = [...patched.keys()].filter((i) => patched[i] !== original[i]);
    // i32.const 400000 = 0x41 0x80 0xb5 0x18; i32.const 200000 = 0x41 0xc0 0x9a 0x0c.
    expect(changed.map((i) => patched[i]!.toString(16))).toEqual(['80', 'b5', '18']);
    expect(original[changed[0]! - 1]).toBe(0x41);
    expect(WebAssembly.validate(patched)).toBe(true);
  });

  it('refuses another v86.wasm and thresholds that would change the encoding length', async () => {
    const other = new Uint8Array(await pinnedWasm());
    other[100] = other[100]! ^ 0xff;
    await expect(withJitThreshold(other.buffer, 400_000)).rejects.toThrow(/not the pinned v86 0.5.462 build/);
    await expect(withJitThreshold(await pinnedWasm(), 5000)).rejects.toThrow(/out of range/);
    await expect(withJitThreshold(await pinnedWasm(), 2_000_000)).rejects.toThrow(/out of range/);
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
    loop.yield(5, 2);
    loop.yield(0, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toEqual([1, 2]);
    (loop as unknown as { unregister_yield(): void }).unregister_yield();
  });
});
