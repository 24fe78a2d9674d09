// The root disk as v86 sees it: an object with v86's disk-buffer interface (src/buffer.js; starter.js takes
// any `hda` with get, set and load as is) over the block store and the lazily read image. It replaces v86's
// AsyncXHRBuffer, which kept every written 256-byte block, and with fixed_chunk_size every block read, as its
// own Uint8Array in an unbounded Map (v86 #1607).
import type { BlockStore, PendingCommit } from './block-store.ts';
import { SECTOR_BYTES, STORE_BLOCK_BYTES } from './block-index.ts';
import type { ImageCache } from './image-cache.ts';

/**
 * What v86 0.5.462 calls on a disk buffer (read in src/buffer.js, src/ide.js, src/browser/starter.js, and
 * checked by grep in the npm build/libv86.mjs, which differs from build/libv86-debug.mjs here): starter.js
 * load()s it and waits for onload, then get_and_cache(0, 512) (the MBR, before v86.init); ide.js reads
 * byteLength, get()s and set()s sector-aligned ranges (a get may be cancelled through options.signal), asks
 * get_from_cache(0, 512) for the MBR to guess the geometry, and puts the buffer into the machine state
 * (get_state/set_state, state.js save_object).
 */
export interface V86DiskBuffer {
  byteLength: number;
  onload: ((event: object) => void) | undefined;
  onprogress: ((event: object) => void) | undefined;
  load(): void;
  get(start: number, length: number, callback: (data: Uint8Array) => void, options?: { signal?: AbortSignal }): void;
  /** get() that also keeps what it read for get_from_cache(). */
  get_and_cache(start: number, length: number, callback: (data: Uint8Array) => void, options?: { signal?: AbortSignal }): void;
  set(start: number, data: Uint8Array, callback: () => void): void;
  get_buffer(callback: (buffer?: ArrayBuffer) => void): void;
  get_from_cache(start: number, length: number): Uint8Array | undefined;
  /** Only arrays, numbers, strings and typed arrays: v86's state.js serialises what this returns. */
  get_state(): unknown[];
  set_state(state: unknown[]): void;
}

/** First element of the disk's part of a v86 state written by this module (v86's own starts with an array). */
export const DISK_STATE_TAG = 'tabdock-disk';
const DISK_STATE_VERSION = 1;

/**
 * How the written blocks travel with a v86 state: 'embedded' in it (the boot snapshot, served as one file),
 * or outside it: the state only says so, and the caller takes the store's view of that instant beside it,
 * as a save's commit ('commit') or as a pinned view for an export ('pin', released with store.unpin()).
 */
export type DiskStateMode = 'embedded' | 'commit' | 'pin';

export type DiskProblem =
  | { kind: 'image-read-failed'; detail: string; retrying: boolean }
  | { kind: 'store-failed'; detail: string };

export interface StoreDiskOptions {
  onProblem?: (problem: DiskProblem) => void;
  /** Waits between retries of a failed image read (the last one repeats until it works). */
  retryDelaysMs?: readonly number[];
}

export class StoreDisk implements V86DiskBuffer {
  byteLength: number;
  onload: ((event: object) => void) | undefined;
  onprogress: ((event: object) => void) | undefined;
  /** How get_state() hands over the written blocks; set around save_state() by saveV86State(). */
  stateMode: DiskStateMode = 'embedded';
  private lastCommit: PendingCommit | undefined;
  private readonly retryDelaysMs: readonly number[];
  private closed = false;

  constructor(
    readonly store: BlockStore,
    readonly image: ImageCache,
    private readonly options: StoreDiskOptions = {},
  ) {
    if (store.diskBytes !== image.source.sizeBytes) throw new Error(`disk store (${store.diskBytes} bytes) and image (${image.source.sizeBytes} bytes) differ in size`);
    this.byteLength = store.diskBytes;
    this.retryDelaysMs = options.retryDelaysMs ?? [500, 2000, 5000, 10_000];
  }

  load(): void {
    this.onload?.(Object.create(null) as object);
  }

  get(start: number, length: number, callback: (data: Uint8Array) => void, options?: { signal?: AbortSignal }): void {
    const now = this.get_from_cache(start, length);
    if (now) {
      callback(now);
      return;
    }
    void this.readImage(start, length).then((bytes) => {
      // v86 ignores the answer of a cancelled read (ide.js read_buffer), and a closed disk has no emulator.
      if (options?.signal?.aborted || !bytes || this.closed) return;
      // Overlaid when the image bytes arrive, so a write that landed meanwhile is seen.
      this.store.overlay(start, bytes);
      callback(bytes);
    });
  }

  get_and_cache(start: number, length: number, callback: (data: Uint8Array) => void, options?: { signal?: AbortSignal }): void {
    // The image cache keeps every chunk it read (bounded), so get_from_cache() finds it afterwards.
    this.get(start, length, callback, options);
  }

  set(start: number, data: Uint8Array, callback: () => void): void {
    if (this.closed) return;
    try {
      this.store.write(start, data);
    } catch (error) {
      // Not a full quota (the store holds those blocks in memory): the store's file failed. The guest's
      // request never completes, so the kernel reports an I/O error rather than believing it was written.
      this.options.onProblem?.({ kind: 'store-failed', detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      return;
    }
    callback();
  }

  get_buffer(callback: (buffer?: ArrayBuffer) => void): void {
    // The whole disk is never in memory (same answer as v86's async buffers).
    callback();
  }

  get_from_cache(start: number, length: number): Uint8Array | undefined {
    if (this.store.covers(start, length)) {
      const bytes = new Uint8Array(length);
      this.store.overlay(start, bytes);
      return bytes;
    }
    const cached = this.image.peek(start, length);
    if (cached) this.store.overlay(start, cached);
    return cached;
  }

  get_state(): unknown[] {
    if (this.stateMode !== 'embedded') {
      this.lastCommit = this.stateMode === 'commit' ? this.store.commit() : this.store.pin();
      return [DISK_STATE_TAG, DISK_STATE_VERSION, 'external', this.lastCommit.index.blocks.length];
    }
    const pinned = this.store.pin();
    try {
      const { blocks, slots, masks } = pinned.index;
      const data = new Uint8Array(blocks.length * STORE_BLOCK_BYTES);
      for (let i = 0; i < blocks.length; i++) this.store.readSlot(slots[i] ?? 0, data.subarray(i * STORE_BLOCK_BYTES, (i + 1) * STORE_BLOCK_BYTES));
      return [DISK_STATE_TAG, DISK_STATE_VERSION, 'embedded', blocks.slice(), masks.slice(), data];
    } finally {
      this.store.unpin(pinned);
    }
  }

  set_state(state: unknown[]): void {
    if (state[0] === DISK_STATE_TAG) {
      if (state[1] !== DISK_STATE_VERSION) throw new Error(`disk state version ${String(state[1])} is not ${DISK_STATE_VERSION}`);
      if (state[2] === 'external') {
        // The blocks are in the store the session was opened with (VmHost checks the pairing).
        if (this.store.storedBlocks !== state[3]) {
          throw new Error(`the saved state expects ${String(state[3])} disk blocks in the store, which holds ${this.store.storedBlocks}`);
        }
        return;
      }
      if (state[2] === 'embedded') {
        this.importEmbedded(state[3], state[4], state[5]);
        return;
      }
      throw new Error(`unknown disk state kind ${String(state[2])}`);
    }
    // A state saved with v86's AsyncXHRBuffer (sessions and snapshots before the block store):
    // [[ [block index, Uint8Array(256)], ... ]], written blocks only.
    const entries = state[0];
    if (!Array.isArray(entries)) throw new Error('the disk part of the saved state is neither v86\'s nor tabdock\'s');
    for (const entry of entries as unknown[]) {
      const [index, block] = entry as [unknown, unknown];
      if (typeof index !== 'number' || !(block instanceof Uint8Array) || block.byteLength !== SECTOR_BYTES) {
        throw new Error('a written disk block in the saved state is malformed');
      }
      this.store.write(index * SECTOR_BYTES, block);
    }
  }

  /** Closes the store; reads still in flight are dropped (the emulator that asked is gone). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  /** The commit or pinned view the last get_state() outside 'embedded' mode took; taken once. */
  takeCommit(): PendingCommit | undefined {
    const commit = this.lastCommit;
    this.lastCommit = undefined;
    return commit;
  }

  /** Reads image bytes, retrying a failed read; reports each failure. Resolves undefined only never (it retries). */
  private async readImage(start: number, length: number): Promise<Uint8Array | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.image.read(start, length);
      } catch (error) {
        if (this.closed) return undefined;
        const delayMs = this.retryDelaysMs[Math.min(attempt, this.retryDelaysMs.length - 1)] ?? 10_000;
        this.options.onProblem?.({
          kind: 'image-read-failed',
          detail: `${this.image.source.location} bytes ${start}-${start + length - 1}: ${error instanceof Error ? error.message : String(error)}`,
          retrying: true,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private importEmbedded(blocks: unknown, masks: unknown, data: unknown): void {
    if (!(blocks instanceof Uint32Array) || !(masks instanceof Uint16Array) || !(data instanceof Uint8Array)) {
      throw new Error('the embedded disk blocks of the saved state are malformed');
    }
    if (masks.length !== blocks.length || data.byteLength !== blocks.length * STORE_BLOCK_BYTES) {
      throw new Error(`the embedded disk blocks disagree: ${blocks.length} blocks, ${masks.length} masks, ${data.byteLength} bytes`);
    }
    for (let i = 0; i < blocks.length; i++) {
      this.store.importBlock(blocks[i] ?? 0, masks[i] ?? 0, data.subarray(i * STORE_BLOCK_BYTES, (i + 1) * STORE_BLOCK_BYTES));
    }
  }
}

/**
 * v86's save_state() with the disk's blocks embedded in the state or left in the store. v86 calls
 * get_state() synchronously inside save_state() (src/browser/starter.js, src/state.js), so the mode applies
 * to exactly this save, and the store's commit is taken at the same instant as the machine state.
 */
export function saveV86State(emulator: { save_state(): Promise<ArrayBuffer> }, disk: StoreDisk, mode: DiskStateMode): Promise<ArrayBuffer> {
  const previous = disk.stateMode;
  disk.stateMode = mode;
  try {
    return emulator.save_state();
  } finally {
    disk.stateMode = previous;
  }
}
