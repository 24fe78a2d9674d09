import { describe, expect, it } from 'vitest';
import { ImageCache, type ImageSource } from './image-cache.ts';

const CHUNK = 4;

/** A 64-byte image whose byte i is i; records every read and can hold reads until released. */
function source(options: { failChunks?: number[]; hold?: boolean } = {}) {
  const reads: Array<{ chunk: number; background: boolean }> = [];
  const held: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const image: ImageSource = {
    sizeBytes: 64,
    location: 'test image',
    async read(start, length, readOptions) {
      reads.push({ chunk: start / CHUNK, background: readOptions?.background === true });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (options.hold) await new Promise<void>((resolve) => held.push(resolve));
      inFlight--;
      if (options.failChunks?.includes(start / CHUNK)) throw new Error('unreachable');
      return Uint8Array.from({ length }, (_, i) => start + i);
    },
  };
  return { image, reads, held, maxInFlight: () => maxInFlight };
}

describe('ImageCache', () => {
  it('reads whole chunks once and keeps at most its capacity, least recently used out first', async () => {
    const { image, reads } = source();
    const cache = new ImageCache(image, { chunkBytes: CHUNK, capacityBytes: 2 * CHUNK });
    expect([...(await cache.read(2, 4))]).toEqual([2, 3, 4, 5]);
    expect(reads.map((r) => r.chunk)).toEqual([0, 1]);
    expect([...(await cache.read(0, 8))]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(reads).toHaveLength(2);
    await cache.read(0, 1); // chunk 0 is now the most recently used
    await cache.read(8, 1); // chunk 2 in, chunk 1 out
    expect(cache.peek(4, 1)).toBeUndefined();
    expect(cache.peek(0, 1)).toBeDefined();
    expect(cache.counters.cachedBytes).toBe(2 * CHUNK);
  });

  it('prefetches listed chunks in order, a few at a time, as background reads that stay until read', async () => {
    const { image, reads, held, maxInFlight } = source({ hold: true });
    const cache = new ImageCache(image, { chunkBytes: CHUNK, capacityBytes: 2 * CHUNK });
    const list = [5, 3, 9, 3, 1, 12, 15];
    const done = cache.prefetchChunks(list, 2);
    await Promise.resolve();
    // The guest reads chunk 3 while its prefetch is in flight: one request serves both.
    const guestRead = cache.read(12, 2);
    while (reads.length < 6 || held.length > 0) {
      held.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(await done).toEqual({ loadedBytes: 6 * CHUNK, failed: 0 });
    expect([...(await guestRead)]).toEqual([12, 13]);
    expect(reads.map((r) => r.chunk)).toEqual([5, 3, 9, 1, 12, 15]);
    expect(reads.every((r) => r.background)).toBe(true);
    expect(maxInFlight()).toBe(2);
    // Capacity grew by the prefetched chunks: all six are still there beside the two of the original capacity.
    for (const chunk of [5, 3, 9, 1, 12, 15]) expect(cache.peek(chunk * CHUNK, CHUNK)).toBeDefined();
    expect(cache.counters.prefetchedBytes).toBe(6 * CHUNK);
  });

  it('skips chunks it has or that lie outside the image, counts failures, and stops when no longer wanted', async () => {
    const { image, reads } = source({ failChunks: [2] });
    const cache = new ImageCache(image, { chunkBytes: CHUNK, capacityBytes: 2 * CHUNK });
    await cache.read(0, 1);
    expect(await cache.prefetchChunks([0, 2, 99, -1, 4], 1)).toEqual({ loadedBytes: CHUNK, failed: 1 });
    expect(reads.map((r) => r.chunk)).toEqual([0, 2, 4]);
    let wanted = true;
    const stopped = cache.prefetchChunks([6, 7, 8], 1, () => wanted);
    wanted = false;
    await stopped;
    expect(reads.map((r) => r.chunk)).toEqual([0, 2, 4, 6]);
  });

  it('records the chunks it loads from the source, in order, until told to stop', async () => {
    const { image } = source();
    const cache = new ImageCache(image, { chunkBytes: CHUNK, capacityBytes: 16 * CHUNK });
    await cache.read(0, 1);
    const stop = cache.recordLoads();
    await cache.read(20, 8);
    await cache.read(0, 1);
    await cache.read(4, 1);
    expect(stop()).toEqual([5, 6, 1]);
    await cache.read(40, 1);
    expect(stop()).toEqual([5, 6, 1]);
  });
});
