// Settings of v86's JIT and main loop that decide how fast the guest runs, applied at runtime to the pinned
// v86 0.5.462, with counters that show what the JIT did. Each setting was chosen by measurement (npm run
// bench; vm-images/README.md "Emulator settings"). Names reached here are v86 internals that survive its
// minification (checked in node_modules/v86/build/libv86.mjs), typed in v86-internals.ts.
import type { V86 } from 'v86';
import type { EmulatorTuning, JitStats } from '../shared/contract.ts';
import { internalsOf, type V86CpuJit, type V86MainLoop } from './v86-internals.ts';

/**
 * v86.wasm of v86 0.5.462 (npm), and where its JIT threshold sits in it: `i32.const 200000` at this offset
 * is the only occurrence of those bytes (JIT_THRESHOLD in v86's src/rust/jit.rs, a compile-time constant:
 * a physical page is compiled once this many instructions' worth of "heat" ran in it).
 */
export const V86_WASM_SHA256 = 'aa0d0e149d6b60063b85de4871e78505637ce92821e14a9f9802c4008ba2336e';
const JIT_THRESHOLD_OFFSET = 0x15b97e;
export const V86_DEFAULT_JIT_THRESHOLD = 200_000;
/**
 * The threshold tabdock runs with. v86's 200,000 compiles so many pages right after a restore that V8's
 * background TurboFan compiles of those modules took both cores from the emulator's thread (Chromium: 78 s of
 * thread-pool CPU against 23 s for the VM worker in a 62 s first docker run). Measured (ab.ts, first run after
 * a restore): Node 200k 25-35 s, 400k 22-29 s, 800k 16-24 s; Chromium 200k 35-78 s, 600k 30-33 s, 800k 26-29 s,
 * 1,048,575 29 s. See vm-images/README.md "Emulator settings".
 */
export const TABDOCK_JIT_THRESHOLD = 800_000;
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

/** Unsigned LEB128, as wasm encodes counts and sizes. */
function uleb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function readUleb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return { value, next: at };
  }
}

/** The export through which the JIT threshold is read and set at runtime (withJitThresholdGlobal). */
export const JIT_THRESHOLD_EXPORT = 'tabdock_jit_threshold';

/**
 * v86.wasm whose JIT threshold is a mutable global, exported as JIT_THRESHOLD_EXPORT and set with `.value`
 * while the emulator runs: the one `i32.const 200000` (4 bytes) becomes `global.get 1; nop; nop` (4 bytes), so
 * the code section keeps its layout; the global section gains that global (v86.wasm defines one, the stack
 * pointer, and imports none) and the export section its export. Refuses any v86.wasm but the pinned one.
 */
export async function withJitThresholdGlobal(wasm: ArrayBuffer, threshold: number): Promise<ArrayBuffer> {
  const bytes = new Uint8Array(wasm);
  const actual = await sha256Hex(bytes);
  if (actual !== V86_WASM_SHA256) {
    throw new Error(`v86.wasm is not the pinned v86 0.5.462 build (sha256 ${actual}); its JIT threshold cannot be changed. Pin v86 to 0.5.462 or drop the jitThreshold setting.`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > 0x7fffffff) throw new Error(`JIT threshold ${threshold} is out of range: it must be a whole number from 1 to 2147483647.`);
  const code = bytes.slice();
  code.set([0x23, 0x01, 0x01, 0x01], JIT_THRESHOLD_OFFSET);
  const parts: Uint8Array[] = [code.subarray(0, 8)];
  for (let at = 8; at < code.length; ) {
    const id = code[at]!;
    const { value: size, next } = readUleb(code, at + 1);
    let body = code.subarray(next, next + size);
    at = next + size;
    if (id === 6 || id === 7) {
      const { value: count, next: entries } = readUleb(body, 0);
      // global: i32 (0x7f), mutable (1), init `i32.const threshold; end`; export: name, kind 3 (global), index 1.
      const added = id === 6 ? [0x7f, 0x01, 0x41, ...sleb128(threshold), 0x0b] : [...uleb128(JIT_THRESHOLD_EXPORT.length), ...new TextEncoder().encode(JIT_THRESHOLD_EXPORT), 0x03, 0x01];
      if (id === 6 && count !== 1) throw new Error(`v86.wasm has ${count} globals where 1 was expected; the JIT threshold cannot be made a global`);
      body = new Uint8Array([...uleb128(count + 1), ...body.subarray(entries), ...added]);
    }
    parts.push(new Uint8Array([id, ...uleb128(body.length)]), body);
  }
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out.buffer;
}

/** The `wasm_fn` v86 calls instead of fetching v86.wasm itself: instantiate these bytes with its imports. */
export function wasmFnFor(bytes: () => Promise<ArrayBuffer>, onExports?: (exports: WebAssembly.Exports) => void): (env: WebAssembly.Imports) => Promise<WebAssembly.Exports> {
  return async (env) => {
    const { exports } = (await WebAssembly.instantiate(await bytes(), env)).instance;
    onExports?.(exports);
    return exports;
  };
}

function emptyStats(): JitStats {
  return { modulesCompiled: 0, wasmBytesCompiled: 0, compileMs: 0, compileWaitMs: 0, compileWaitMaxMs: 0, cacheFlushes: 0 };
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
  const rounded = () => ({ ...stats, compileMs: Math.round(stats.compileMs), compileWaitMs: Math.round(stats.compileWaitMs), compileWaitMaxMs: Math.round(stats.compileWaitMaxMs) });
  if (!syncCompile) {
    const asyncFinalize = cpu.codegen_finalize.bind(cpu);
    const asyncFinished = cpu.codegen_finalize_finished.bind(cpu);
    // One module at a time (v86 src/rust/jit.rs `compiling`), so one start time is enough.
    let handedAtMs: number | undefined;
    cpu.codegen_finalize = (index, start, flags, ptr, len) => {
      stats.modulesCompiled++;
      stats.wasmBytesCompiled += len >>> 0;
      handedAtMs = performance.now();
      asyncFinalize(index, start, flags, ptr, len);
    };
    cpu.codegen_finalize_finished = (index, start, flags) => {
      if (handedAtMs !== undefined) {
        const waitMs = performance.now() - handedAtMs;
        stats.compileWaitMs += waitMs;
        stats.compileWaitMaxMs = Math.max(stats.compileWaitMaxMs, waitMs);
        handedAtMs = undefined;
      }
      asyncFinished(index, start, flags);
    };
    return rounded;
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
  return rounded;
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
