// Checks, before any download starts, that this browser can run the VM at all: WebAssembly (v86 compiles
// x86 code to wasm) and module Web Workers (the VM runs off the main thread).
import type { VmError } from '../worker/shared/contract.ts';

/** The smallest valid module: magic "\0asm" and version 1 (WebAssembly core spec, 5.5.16 Modules). */
const EMPTY_WASM_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

export function browserProblem(): VmError | undefined {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return {
      code: 'no-webassembly',
      message:
        'This browser has WebAssembly turned off or does not support it, and the VM needs it. Use a current Chrome, Edge, Firefox or Safari, and check that no policy or extension disables WebAssembly.',
      detail: `typeof WebAssembly = ${typeof WebAssembly}; user agent: ${navigator.userAgent}`,
    };
  }
  if (!WebAssembly.validate(EMPTY_WASM_MODULE)) {
    return {
      code: 'no-webassembly',
      message: 'This browser rejected even an empty WebAssembly module, so the VM cannot run here. Use a current Chrome, Edge, Firefox or Safari.',
      detail: `WebAssembly.validate(empty module) returned false; user agent: ${navigator.userAgent}`,
    };
  }
  if (typeof Worker !== 'function') {
    return {
      code: 'no-webassembly',
      message: 'This browser cannot start Web Workers, which the VM runs in. Use a current Chrome, Edge, Firefox or Safari.',
      detail: `typeof Worker = ${typeof Worker}; user agent: ${navigator.userAgent}`,
    };
  }
  return undefined;
}
