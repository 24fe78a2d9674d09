// Saved machine states (sessions, downloads) are zstd, made by @bokuweb/zstd-wasm (zstd's own C compiled to
// wasm). It replaced the native CompressionStream('gzip'), which took 4.5-5.4 s of a save in Chromium for a
// 156 MB state: zstd level 1 in wasm does the same state in about 0.7 s, 52 MB instead of 49 MB. v86's
// restore_state() decodes zstd itself, streaming in its own wasm (the boot snapshot is zstd too), so resuming
// needs no decoder here.
//
// One frame for the whole state: v86 reads the state in pieces with one ZSTD_decompressStream call each and
// refuses a piece that a frame's end cuts short (src/rust/zstd.rs), so concatenated frames do not restore.
// The one-shot encoder holds the state and its compressed bound in its wasm memory at once (2 GiB at most),
// so a state above ZSTD_MAX_RAW_BYTES (a guest whose RAM is full of process memory) is saved as streaming gzip
// instead, which needs no second copy; restores read either.
import { gzip } from './compression.ts';

/** Level 1: the fastest of zstd's regular levels; level 3 made the 156 MB state 10% smaller in 40% more time. */
export const STATE_ZSTD_LEVEL = 1;
/** Above this the state is gzip: about twice this in the encoder's memory stays well below its 2 GiB. */
export const ZSTD_MAX_RAW_BYTES = 384 * 1024 * 1024;

/**
 * One zstd frame of a raw v86 state (the platform's way: a short-lived worker in the browser, in-thread in
 * Node). It may take `raw`'s buffer (transfer it); the caller must not use `raw` afterwards.
 */
export type ZstdStateCompressor = (raw: Uint8Array) => Promise<Uint8Array>;

export type SavedStateCompression = 'zstd' | 'gzip';

/** A raw v86 state compressed for a session file: zstd, or gzip when it is too large for the encoder. */
export async function compressState(
  raw: Uint8Array,
  zstd: ZstdStateCompressor,
  maxZstdBytes = ZSTD_MAX_RAW_BYTES,
): Promise<{ payload: Uint8Array; compression: SavedStateCompression }> {
  if (raw.byteLength > maxZstdBytes) return { payload: await gzip(raw), compression: 'gzip' };
  return { payload: await zstd(raw), compression: 'zstd' };
}
