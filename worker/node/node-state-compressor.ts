// Node's ZstdStateCompressor: @bokuweb/zstd-wasm's Node build (it reads its wasm from its own folder), in this
// thread; the harness has no page to keep responsive and its tests want one process.
import { compress, init } from '@bokuweb/zstd-wasm';
import { STATE_ZSTD_LEVEL, type ZstdStateCompressor } from '../vm/snapshot/state-zstd.ts';

let ready: Promise<void> | undefined;

export const compressStateInNode: ZstdStateCompressor = async (raw) => {
  ready ??= init();
  await ready;
  return compress(raw, STATE_ZSTD_LEVEL);
};
