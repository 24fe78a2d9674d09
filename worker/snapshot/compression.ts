// Compressing and preparing v86 state payloads. zstd payloads go to v86 untouched (its restore_state()
// decodes zstd in its own wasm); gzip uses the platform's native CompressionStream/DecompressionStream.
import type { StateCompression } from './state-file.ts';

/** Compresses a raw v86 state for a session file (gzip: the only native encoder in browsers). */
export async function gzip(raw: Uint8Array): Promise<Uint8Array> {
  return pipeThrough(raw, new CompressionStream('gzip'));
}

/** The ArrayBuffer v86's `initial_state` takes for a payload. */
export async function payloadToV86State(payload: Uint8Array, compression: StateCompression): Promise<ArrayBuffer> {
  switch (compression) {
    case 'zstd':
    case 'none':
      // v86 wants an ArrayBuffer of exactly the state; a subarray of a bigger file needs a copy.
      return payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
        ? (payload.buffer as ArrayBuffer)
        : (payload.slice().buffer as ArrayBuffer);
    case 'gzip':
      return (await pipeThrough(payload, new DecompressionStream('gzip'))).buffer as ArrayBuffer;
    default: {
      const unreachable: never = compression;
      throw new Error(`unknown state compression ${String(unreachable)}`);
    }
  }
}

async function pipeThrough(input: Uint8Array, transform: TransformStream<BufferSource, Uint8Array>): Promise<Uint8Array> {
  const output = new Blob([input as BlobPart]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(output).arrayBuffer());
}
