// The root disk image is read lazily (HTTP Range requests in the browser, file reads in Node) in aligned
// chunks kept in a bounded LRU cache: the JS heap holds at most `capacityBytes` of the image, however much
// the guest reads. prefetchChunks() fills it in the background with chunks a first docker run is known to read
// (recorded at build time by recordLoads(): worker/node/make-snapshot.ts).

/** Where image bytes come from; one read per cache miss, of whole chunks. */
export interface ImageSource {
  readonly sizeBytes: number;
  /** Human-readable location for messages. */
  readonly location: string;
  /** `background`: a prefetch, which should yield to the guest's own reads where the source can tell them apart. */
  read(start: number, length: number, options?: { background?: boolean }): Promise<Uint8Array>;
}

export interface ImageCacheOptions {
  /** Aligned read unit: one request per chunk missed. */
  chunkBytes: number;
  /** The most image bytes kept in memory. */
  capacityBytes: number;
}

/** Browser default: 256 KiB chunks (few requests at boot, little waste), 32 MiB kept. */
export const DEFAULT_IMAGE_CACHE: ImageCacheOptions = { chunkBytes: 256 * 1024, capacityBytes: 32 * 1024 * 1024 };

export interface ImageCacheStats {
  hits: number;
  misses: number;
  fetchedBytes: number;
  cachedBytes: number;
  /** Bytes of fetchedBytes that prefetchChunks() loaded. */
  prefetchedBytes: number;
}

export class ImageCache {
  private readonly chunks = new Map<number, Uint8Array>();
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  private readonly stats: ImageCacheStats = { hits: 0, misses: 0, fetchedBytes: 0, cachedBytes: 0, prefetchedBytes: 0 };
  private capacityBytes: number;
  /** Chunk indices in the order their loads started, while recordLoads() records. */
  private recording: number[] | undefined;

  constructor(
    readonly source: ImageSource,
    readonly options: ImageCacheOptions = DEFAULT_IMAGE_CACHE,
  ) {
    if (options.chunkBytes <= 0 || options.capacityBytes < options.chunkBytes) throw new Error('image cache: the capacity must hold at least one chunk');
    this.capacityBytes = options.capacityBytes;
  }

  get counters(): Readonly<ImageCacheStats> {
    return { ...this.stats, cachedBytes: this.chunks.size * this.options.chunkBytes };
  }

  /** The range from cached chunks only, or undefined when any chunk of it is missing (no request made). */
  peek(start: number, length: number): Uint8Array | undefined {
    const first = this.chunkOf(start);
    const last = this.chunkOf(start + length - 1);
    for (let chunk = first; chunk <= last; chunk++) if (!this.chunks.has(chunk)) return undefined;
    this.stats.hits++;
    return this.assemble(start, length, (chunk) => this.touch(chunk));
  }

  /**
   * The range, from the cache or the source. Not cancellable: a chunk may be shared by several guest reads
   * and a prefetch, and letting a 256 KiB request finish costs little.
   */
  async read(start: number, length: number): Promise<Uint8Array> {
    const cached = this.peek(start, length);
    if (cached) return cached;
    this.stats.misses++;
    const first = this.chunkOf(start);
    const last = this.chunkOf(start + length - 1);
    const loaded = new Map<number, Uint8Array>();
    const pending: Promise<void>[] = [];
    for (let chunk = first; chunk <= last; chunk++) {
      const have = this.chunks.get(chunk);
      if (have) loaded.set(chunk, have);
      else pending.push(this.load(chunk).then((bytes) => void loaded.set(chunk, bytes)));
    }
    await Promise.all(pending);
    return this.assemble(start, length, (chunk) => loaded.get(chunk));
  }

  /**
   * Loads these chunks (indices in units of chunkBytes) in the background, in order, at most `concurrency` at
   * a time, as low-priority reads; the capacity grows by what they add, so they stay until the guest reads
   * them (then they age like any chunk). A failed load is only counted: the guest's own read retries it.
   */
  async prefetchChunks(chunks: readonly number[], concurrency: number, stillWanted: () => boolean = () => true): Promise<{ loadedBytes: number; failed: number }> {
    const wanted = [...new Set(chunks)].filter((chunk) => chunk >= 0 && chunk * this.options.chunkBytes < this.source.sizeBytes && !this.chunks.has(chunk));
    this.capacityBytes += wanted.length * this.options.chunkBytes;
    let next = 0;
    let loadedBytes = 0;
    let failed = 0;
    const worker = async () => {
      while (next < wanted.length && stillWanted()) {
        const chunk = wanted[next++]!;
        if (this.chunks.has(chunk)) continue;
        try {
          const bytes = await this.load(chunk, true);
          loadedBytes += bytes.byteLength;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return { loadedBytes, failed };
  }

  /** Records the chunks loaded from the source, in order, until the returned function is called. */
  recordLoads(): () => number[] {
    const recorded: number[] = [];
    this.recording = recorded;
    return () => {
      if (this.recording === recorded) this.recording = undefined;
      return recorded;
    };
  }

  private load(chunk: number, background = false): Promise<Uint8Array> {
    const running = this.inFlight.get(chunk);
    if (running) return running;
    this.recording?.push(chunk);
    const start = chunk * this.options.chunkBytes;
    const length = Math.min(this.options.chunkBytes, this.source.sizeBytes - start);
    const loading = this.source
      .read(start, length, background ? { background } : undefined)
      .then((bytes) => {
        if (bytes.byteLength !== length) throw new Error(`${this.source.location}: got ${bytes.byteLength} bytes for the ${length}-byte range at ${start}`);
        this.stats.fetchedBytes += bytes.byteLength;
        if (background) this.stats.prefetchedBytes += bytes.byteLength;
        this.insert(chunk, bytes);
        return bytes;
      })
      .finally(() => this.inFlight.delete(chunk));
    this.inFlight.set(chunk, loading);
    return loading;
  }

  private insert(chunk: number, bytes: Uint8Array): void {
    this.chunks.delete(chunk);
    this.chunks.set(chunk, bytes);
    const capacity = Math.floor(this.capacityBytes / this.options.chunkBytes);
    while (this.chunks.size > capacity) {
      const oldest = this.chunks.keys().next().value;
      if (oldest === undefined) break;
      this.chunks.delete(oldest);
    }
  }

  private touch(chunk: number): Uint8Array | undefined {
    const bytes = this.chunks.get(chunk);
    if (bytes) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.chunks.delete(chunk);
      this.chunks.set(chunk, bytes);
    }
    return bytes;
  }

  private chunkOf(offset: number): number {
    return Math.floor(offset / this.options.chunkBytes);
  }

  private assemble(start: number, length: number, chunkBytes: (chunk: number) => Uint8Array | undefined): Uint8Array {
    const out = new Uint8Array(length);
    const size = this.options.chunkBytes;
    for (let at = start; at < start + length; ) {
      const chunk = this.chunkOf(at);
      const bytes = chunkBytes(chunk);
      if (!bytes) throw new Error(`image chunk ${chunk} vanished while it was read`);
      const from = at - chunk * size;
      const count = Math.min(bytes.byteLength - from, start + length - at);
      out.set(bytes.subarray(from, from + count), at - start);
      at += count;
    }
    return out;
  }
}

/** The browser's ImageSource: HTTP Range requests (the server must answer 206; assets.ts checks that first). */
export function httpImageSource(url: string, sizeBytes: number, fetchFn: typeof fetch = (input, init) => fetch(input, init)): ImageSource {
  return {
    sizeBytes,
    location: url,
    async read(start, length, options) {
      // A prefetch asks for low priority (Fetch's priority hint), so the guest's own reads go first.
      const response = await fetchFn(url, { headers: { Range: `bytes=${start}-${start + length - 1}` }, ...(options?.background ? { priority: 'low' } : {}) });
      if (response.status !== 206) {
        await response.body?.cancel();
        throw new Error(`${url}: HTTP ${response.status} for a byte range (expected 206)`);
      }
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}
