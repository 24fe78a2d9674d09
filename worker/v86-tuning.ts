// Settings of v86's JIT and main loop that decide how fast the guest runs, applied at runtime to the pinned
// v86 0.5.462, with counters that show what the JIT did. Each setting was chosen by measurement (npm run
// bench; vm-images/README.md "Emulator settings"). Names reached here are v86 internals that survive its
// minification (checked in node_modules/v86/build/libv86.mjs), typed in v86-internals.ts.
import type { V86 } from 'v86';
import type { EmulatorTuning, JitStats } from './contract.ts';
import { internalsOf, type V86CpuJit, type V86MainLoop } from './v86-internals.ts';

/**
 * v86.wasm of v86 0.5.462 (npm), and where its JIT threshold sits in it: `i32.const 200000` at this offset
 * is the only occurrence of those bytes (JIT_THRESHOLD in v86's src/rust/jit.rs, a compile-time constant:
 * a physical page is compiled once this many instructions' worth of "heat" ran in it).
 */
export const V86_WASM_SHA256 = 'aa0d0e149d6b60063b85de4871e78505637ce92821e14a9f9802c4008ba2336e';
const JIT_THRESHOLD_OFFSET = 0x15b97e;
export const V86_DEFAULT_JIT_THRESHOLD = 200_000;
/** The slot of the module with table index 0 in v86's wasm table (WASM_TABLE_OFFSET in v86's src/const.js). */
const WASM_TABLE_OFFSET = 1024;

/** Signed LEB128, as wasm encodes an i32.const immediate. */
function sleb128(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * v86.wasm with another JIT threshold. The threshold's encoding has the same length for every value from
 * 8,192 to 1,048,575 (three LEB128 bytes), so the module's layout is unchanged. Refuses any v86.wasm but the
 * pinned one: on another version the offset would point elsewhere.
 */
export async function withJitThreshold(wasm: ArrayBuffer, threshold: number): Promise<ArrayBuffer> {
  const bytes = new Uint8Array(wasm);
  const actual = await sha256Hex(bytes);
  if (actual !== V86_WASM_SHA256) {
    throw new Error(`v86.wasm is not the pinned v86 0.5.462 build (sha256 ${actual}); its JIT threshold cannot be changed. Pin v86 to 0.5.462 or drop the jitThreshold setting.`);
  }
  const encoded = sleb128(threshold);
  const original = sleb128(V86_DEFAULT_JIT_THRESHOLD);
  if (!Number.isInteger(threshold) || encoded.length !== original.length) {
    throw new Error(`JIT threshold ${threshold} is out of range: it must be a whole number from 8192 to 1048575.`);
  }
  const patched = bytes.slice();
  patched.set(encoded, JIT_THRESHOLD_OFFSET + 1);
  return patched.buffer;
}

/** The `wasm_fn` v86 calls instead of fetching v86.wasm itself: instantiate these bytes with its imports. */
export function wasmFnFor(bytes: () => Promise<ArrayBuffer>): (env: WebAssembly.Imports) => Promise<WebAssembly.Exports> {
  return async (env) => (await WebAssembly.instantiate(await bytes(), env)).instance.exports;
}

function emptyStats(): JitStats {
  return { modulesCompiled: 0, wasmBytesCompiled: 0, compileMs: 0, cacheFlushes: 0 };
}

/**
 * Counts what the JIT does and, with `syncCompile`, compiles each module right away instead of with an async
 * WebAssembly.instantiate: v86 compiles one module at a time and, while one is pending, leaves every other hot
 * page interpreted; an async compile resolves only after the emulator's current slice and the event loop's
 * other work (about 10 ms in Node while the loop spins). v86 must not hear of the module while its JIT holds
 * its state lock (codegen_finalize is called under it), so the finish is delivered at the next hardware-timer
 * check of the main loop, at most ~100,000 guest instructions later, or by a microtask when the loop ends.
 */
export function instrumentJit(emulator: V86, syncCompile: boolean): () => JitStats {
  const stats = emptyStats();
  const cpu = internalsOf(emulator).v86?.cpu as V86CpuJit | undefined;
  if (!cpu || typeof cpu.codegen_finalize !== 'function' || typeof cpu.codegen_finalize_finished !== 'function') {
    return () => ({ ...stats });
  }
  const clearAll = cpu.jit_clear_all_funcs.bind(cpu);
  cpu.jit_clear_all_funcs = () => {
    stats.cacheFlushes++;
    clearAll();
  };
  if (!syncCompile) {
    const asyncFinalize = cpu.codegen_finalize.bind(cpu);
    cpu.codegen_finalize = (index, start, flags, ptr, len) => {
      stats.modulesCompiled++;
      stats.wasmBytesCompiled += len >>> 0;
      asyncFinalize(index, start, flags, ptr, len);
    };
    return () => ({ ...stats });
  }
  const finished: Array<[index: number, start: number, flags: number]> = [];
  const deliver = () => {
    while (finished.length > 0) {
      const [index, start, flags] = finished.shift()!;
      cpu.codegen_finalize_finished(index, start, flags);
    }
  };
  let microtaskQueued = false;
  cpu.codegen_finalize = (index, start, flags, ptr, len) => {
    const startedMs = performance.now();
    const code = new Uint8Array(cpu.wasm_memory.buffer, ptr >>> 0, len >>> 0);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(code), { e: cpu.jit_imports });
    cpu.wm.wasm_table.set(index + WASM_TABLE_OFFSET, instance.exports['f'] as () => void);
    stats.modulesCompiled++;
    stats.wasmBytesCompiled += len >>> 0;
    stats.compileMs += performance.now() - startedMs;
    finished.push([index, start, flags]);
    if (!microtaskQueued) {
      microtaskQueued = true;
      queueMicrotask(() => {
        microtaskQueued = false;
        deliver();
      });
    }
  };
  const timers = cpu.run_hardware_timers.bind(cpu);
  cpu.run_hardware_timers = (acpiEnabled, now) => {
    if (finished.length > 0) deliver();
    return timers(acpiEnabled, now);
  };
  return () => ({ ...stats, compileMs: Math.round(stats.compileMs) });
}

/** MAX_PAGES and MAX_EXTRA_BASIC_BLOCKS of v86's JIT (src/rust/jit.rs set_jit_config indices 1 and 3). */
export function applyJitConfig(emulator: V86, tuning: Pick<EmulatorTuning, 'jitMaxPages' | 'jitMaxExtraBasicBlocks'>): void {
  const cpu = internalsOf(emulator).v86?.cpu as V86CpuJit | undefined;
  if (!cpu?.set_jit_config) return;
  if (tuning.jitMaxPages !== undefined) cpu.set_jit_config(1, tuning.jitMaxPages);
  if (tuning.jitMaxExtraBasicBlocks !== undefined) cpu.set_jit_config(3, tuning.jitMaxExtraBasicBlocks);
}

/**
 * In a Worker, v86 yields after each ~1 ms slice by a postMessage round trip to a helper worker it creates
 * (src/main.js). A MessageChannel within this worker is a task too, without crossing threads. Waits of 1 ms
 * and more (a halted, idle guest) still use setTimeout. Browser workers only: Node uses setImmediate.
 */
export function useSameThreadYield(emulator: V86): boolean {
  const loop = internalsOf(emulator).v86 as V86MainLoop | undefined;
  if (!loop || typeof loop.yield_callback !== 'function' || typeof MessageChannel === 'undefined') return false;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event: MessageEvent<number>) => loop.yield_callback(event.data);
  loop.yield = (waitMs, tick) => {
    if (waitMs < 1) {
      channel.port2.postMessage(tick);
    } else {
      setTimeout(() => loop.yield_callback(tick), waitMs);
    }
  };
  // The helper worker is no longer used.
  loop.unregister_yield?.();
  loop.unregister_yield = () => channel.port1.close();
  return true;
}
