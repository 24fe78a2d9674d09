// The browser's ZstdStateCompressor: each save starts zstd-worker.ts, hands it the state (transferred, not
// copied), waits for the payload and ends the worker.
import { exactBuffer } from './compression.ts';
import type { ZstdStateCompressor } from './state-zstd.ts';
import type { ZstdWorkerAnswer, ZstdWorkerRequest } from './zstd-worker.ts';

export const compressStateInWorker: ZstdStateCompressor = (raw) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./zstd-worker.ts', import.meta.url), { type: 'module', name: 'tabdock-state-compressor' });
    const done = (): void => worker.terminate();
    worker.onmessage = (event: MessageEvent<ZstdWorkerAnswer>) => {
      done();
      if ('payload' in event.data) resolve(event.data.payload);
      else reject(new Error(`compressing the machine state failed: ${event.data.error}`));
    };
    worker.onerror = (event) => {
      done();
      reject(new Error(`compressing the machine state failed: the compressor worker did not start or crashed (${event.message || 'no message'})`));
    };
    // The whole buffer moves (v86's save_state() gives a fresh one); a view on part of one is copied first.
    const buffer = exactBuffer(raw);
    worker.postMessage({ raw: buffer } satisfies ZstdWorkerRequest, [buffer]);
  });
