// Compressing and preparing v86 state payloads. zstd payloads go to v86 untouched (its restore_state()
// decodes zstd in its own wasm); gzip uses the platform's native CompressionStream/DecompressionStream.
// Saves make zstd in state-zstd.ts.
import type { StateCompression } from './state-file.ts';

/** gzip of a raw v86 state: sessions saved before zstd, and states too large for it (state-zstd.ts). */
export async function gzip(raw: Uint8Array): Promise<Uint8Array> {
  return pipeThrough(raw, new CompressionStream('gzip'));
}

/** The ArrayBuffer v86's `initial_state` takes for a payload. */
export async function payloadToV86State(payload: Uint8Array, compression: StateCompression): Promise<ArrayBuffer> {
  switch (compression) {
    case 'zstd':
    case 'none':
      // v86 wants an ArrayBuffer of exactly the state.
      return exactBuffer(payload);
    case 'gzip':
      return (await pipeThrough(payload, new DecompressionStream('gzip'))).buffer as ArrayBuffer;
    default: {
      const unreachable: never = compression;
      throw new Error(`unknown state compression ${String(unreachable)}`);
    }
  }
}

/** An ArrayBuffer holding exactly `bytes`: its own when it spans all of it, else a copy (a subarray of a file). */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
}

/** The stream's chunk size: large enough that a 1 GiB state is a thousand chunks, small enough to yield often. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * `input` as a stream of views on it, read as the transform asks. Not `new Blob([input]).stream()`: in Chromium
 * a Blob's bytes are copied to the browser process and streamed back; for the 156 MB state of a save, gzip
 * took 4.8 s through a Blob and 4.5 s through views (three saves each), and the copy is gone.
 */
function viewsOf(input: Uint8Array, chunkBytes = CHUNK_BYTES): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= input.byteLength) {
          controller.close();
          return;
        }
        const end = Math.min(offset + chunkBytes, input.byteLength);
        controller.enqueue(input.subarray(offset, end));
        offset = end;
      },
    },
    { highWaterMark: 0 },
  );
}

async function pipeThrough(input: Uint8Array, transform: TransformStream<BufferSource, Uint8Array>): Promise<Uint8Array> {
  const output = (viewsOf(input) as ReadableStream<BufferSource>).pipeThrough(transform);
  return new Uint8Array(await new Response(output).arrayBuffer());
}
