// A short-lived worker that compresses one saved machine state (state-zstd.ts) and ends: the compression runs
// on another core while the emulator's worker keeps the guest running, and the encoder's wasm memory (about
// twice the state) is released when the VM worker terminates this one after the answer.
// The package's "browser" export; its init() fetches zstd.wasm beside itself (`new URL(..., import.meta.url)`,
// which Vite's build emits as an asset; vite.config.ts keeps the dev server from pre-bundling it).
import { compress, init } from '@bokuweb/zstd-wasm';
import { STATE_ZSTD_LEVEL } from './state-zstd.ts';

export interface ZstdWorkerRequest {
  raw: ArrayBuffer;
}

export type ZstdWorkerAnswer = { payload: Uint8Array } | { error: string };

self.onmessage = async (event: MessageEvent<ZstdWorkerRequest>) => {
  try {
    await init();
    const payload = compress(new Uint8Array(event.data.raw), STATE_ZSTD_LEVEL);
    self.postMessage({ payload } satisfies ZstdWorkerAnswer, { transfer: [payload.buffer] });
  } catch (error) {
    self.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies ZstdWorkerAnswer);
  }
};
