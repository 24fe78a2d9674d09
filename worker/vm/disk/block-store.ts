// The guest disk's written blocks, outside the JS heap: 4 KiB slots in one BlockFile (OPFS in the browser
// worker, a file in Node) and a compact index in memory. Copy-on-write against the last commit: a saved
// session's blocks are never overwritten until a newer save has landed, so the session on disk stays whole
// whatever happens after it (a crash, a full quota, a reload in the middle of a write).
import { isStorageFull, StorageFullError, type BlockFile } from './block-file.ts';
import { BlockSlots } from './block-slots.ts';
import {
  BlockTable,
  FULL_MASK,
  SECTOR_BYTES,
  sectorMask,
  STORE_BLOCK_BYTES,
  type CommittedIndex,
} from './block-index.ts';

/** A quota (or host disk) ran out: the blocks are kept in memory meanwhile and nothing is dropped. */
export interface StoreFull {
  /** Bytes held in memory because they did not fit. */
  pendingBytes: number;
  /** Bytes the store's file has now. */
  fileBytes: number;
  detail: string;
}

export interface BlockStoreOptions {
  diskBytes: number;
  file: BlockFile;
  /** The last saved commit, whose slots must stay as they are; none for a new store. */
  committed?: CommittedIndex;
  /** Called when a write did not fit (once per episode, again after writes fit once more and fail anew). */
  onFull?: (full: StoreFull) => void;
  /** How often writes retry moving held blocks into the file while storage is full. */
  retryIntervalMs?: number;
  now?: () => number;
}

/** A commit in progress: the index to save, and the slots that become free once it is safely saved. */
export interface PendingCommit {
  index: CommittedIndex;
  fileBytes: number;
  readonly releases: Uint32Array;
}

export class StoreDamaged extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreDamaged';
  }
}

interface HeldBlock {
  data: Uint8Array;
  mask: number;
}

const B = STORE_BLOCK_BYTES;
const SAVED = 1;
const PINNED = 2;

export class BlockStore {
  readonly diskBytes: number;
  readonly blockCount: number;
  private readonly file: BlockFile;
  private readonly table: BlockTable;
  private readonly slots: BlockSlots;
  /** Blocks that did not fit in storage (quota), newest content, until they can be written. */
  private readonly held = new Map<number, HeldBlock>();
  private readonly onFull: ((full: StoreFull) => void) | undefined;
  private fullReported = false;
  private lastRetryMs = 0;
  private readonly retryIntervalMs: number;
  private readonly now: () => number;
  private readonly scratch = new Uint8Array(B);

  constructor(options: BlockStoreOptions) {
    if (options.diskBytes % SECTOR_BYTES !== 0) throw new Error(`disk size ${options.diskBytes} is not a multiple of ${SECTOR_BYTES}`);
    this.diskBytes = options.diskBytes;
    this.blockCount = Math.ceil(options.diskBytes / B);
    this.file = options.file;
    this.table = new BlockTable(this.blockCount);
    this.slots = new BlockSlots(this.file);
    this.onFull = options.onFull;
    this.retryIntervalMs = options.retryIntervalMs ?? 5_000;
    this.now = options.now ?? (() => Date.now());
    if (options.committed) this.adopt(options.committed);
  }

  /** Blocks the disk has in the store (written since the image). */
  get storedBlocks(): number {
    return this.table.size;
  }

  get fileBytes(): number {
    return this.slots.count * B;
  }

  /** Bytes waiting in memory for storage space. */
  get heldBytes(): number {
    return this.held.size * B;
  }

  /** Writes sector-aligned data at a disk offset (what v86's set() gets). */
  write(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.byteLength);
    if (this.held.size > 0) this.retryHeld(false);
    let done = 0;
    while (done < data.byteLength) {
      const at = offset + done;
      const block = Math.floor(at / B);
      const start = at - block * B;
      const length = Math.min(B - start, data.byteLength - done);
      this.writeInBlock(block, start, data.subarray(done, done + length));
      done += length;
    }
  }

  /** True when every sector of the range is in the store (no image bytes are needed to read it). */
  covers(offset: number, length: number): boolean {
    this.checkRange(offset, length);
    for (let at = offset; at < offset + length; ) {
      const block = Math.floor(at / B);
      const start = at - block * B;
      const end = Math.min(B, offset + length - block * B);
      const need = sectorMask(start, end);
      if ((this.maskOf(block) & need) !== need) return false;
      at = block * B + end;
    }
    return true;
  }

  /** Copies every stored sector of the range into `into` (image bytes already there stay where nothing was written). */
  overlay(offset: number, into: Uint8Array): void {
    const length = into.byteLength;
    this.checkRange(offset, length);
    for (let at = offset; at < offset + length; ) {
      const block = Math.floor(at / B);
      const start = at - block * B;
      const end = Math.min(B, offset + length - block * B);
      const target = at - offset;
      const held = this.held.get(block);
      const slot = held ? -1 : this.table.get(block);
      const mask = held ? held.mask : slot >= 0 ? (this.slots.masks[slot] ?? 0) : 0;
      const need = sectorMask(start, end);
      if ((mask & need) === need) {
        if (held) into.set(held.data.subarray(start, end), target);
        else this.readExactly(into.subarray(target, target + end - start), slot * B + start);
      } else if (mask & need) {
        // Runs of present sectors, each one read.
        for (let sector = start / SECTOR_BYTES; sector < end / SECTOR_BYTES; ) {
          if (!(mask & (1 << sector))) {
            sector++;
            continue;
          }
          let last = sector;
          while (last + 1 < end / SECTOR_BYTES && mask & (1 << (last + 1))) last++;
          const from = sector * SECTOR_BYTES;
          const to = (last + 1) * SECTOR_BYTES;
          const dest = into.subarray(target + from - start, target + to - start);
          if (held) dest.set(held.data.subarray(from, to));
          else this.readExactly(dest, slot * B + from);
          sector = last + 1;
        }
      }
      at = block * B + end;
    }
  }

  /**
   * Freezes what the disk holds now as the commit a save will write. Blocks held in memory for lack of space
   * must reach the file first: if they still do not fit, this throws a StorageFullError and nothing changes.
   */
  commit(): PendingCommit {
    const commit = this.snapshotIndex();
    const releases: number[] = [];
    for (let slot = 0; slot < this.slots.count; slot++) {
      if ((this.slots.frozen[slot] ?? 0) & SAVED && !this.isLive(slot)) releases.push(slot);
    }
    for (const slot of commit.index.slots) this.slots.frozen[slot] = (this.slots.frozen[slot] ?? 0) | SAVED;
    return { ...commit, releases: Uint32Array.from(releases) };
  }

  /**
   * The commit is saved: the slots only older commits referred to are free again. (If the save failed, call
   * nothing: those slots stay untouched, and the next commit collects them.)
   */
  commitSaved(commit: PendingCommit): void {
    for (const slot of commit.releases) this.unfreeze(slot, SAVED);
  }

  /** What the disk holds now, kept unchanged until unpin(): for an export that reads it while the VM runs. */
  pin(): PendingCommit {
    const commit = this.snapshotIndex();
    for (const slot of commit.index.slots) this.slots.frozen[slot] = (this.slots.frozen[slot] ?? 0) | PINNED;
    return { ...commit, releases: new Uint32Array(0) };
  }

  unpin(commit: PendingCommit): void {
    for (const slot of commit.index.slots) this.unfreeze(slot, PINNED);
  }

  private snapshotIndex(): { index: CommittedIndex; fileBytes: number } {
    this.retryHeld(true);
    this.file.flush();
    const count = this.table.size;
    const index: CommittedIndex = { blocks: new Uint32Array(count), slots: new Uint32Array(count), masks: new Uint16Array(count) };
    let i = 0;
    for (const [block, slot] of this.table.entries()) {
      index.blocks[i] = block;
      index.slots[i] = slot;
      index.masks[i] = this.slots.masks[slot] ?? 0;
      i++;
    }
    return { index, fileBytes: this.fileBytes };
  }

  private isLive(slot: number): boolean {
    const block = this.slots.block[slot] ?? -1;
    return block >= 0 && this.table.get(block) === slot;
  }

  /** Drops one reason to keep a slot; a slot nobody needs and the disk no longer uses is free. */
  private unfreeze(slot: number, flag: number): void {
    this.slots.frozen[slot] = (this.slots.frozen[slot] ?? 0) & ~flag;
    if (this.slots.frozen[slot] === 0 && (this.slots.block[slot] ?? -1) >= 0 && !this.isLive(slot)) {
      this.slots.block[slot] = -1;
      this.slots.masks[slot] = 0;
      this.slots.free.push(slot);
    }
  }

  /** Writes the sectors of one 4 KiB block that `mask` marks (an imported session's or snapshot's block). */
  importBlock(block: number, mask: number, data: Uint8Array): void {
    if (mask === FULL_MASK) {
      this.write(block * B, data.subarray(0, B));
      return;
    }
    for (let sector = 0; sector < B / SECTOR_BYTES; sector++) {
      if (mask & (1 << sector)) this.write(block * B + sector * SECTOR_BYTES, data.subarray(sector * SECTOR_BYTES, (sector + 1) * SECTOR_BYTES));
    }
  }

  /** Reads one slot of a commit (for an export): 4 KiB, sectors outside its mask are zero. */
  readSlot(slot: number, into: Uint8Array): void {
    this.readExactly(into.subarray(0, B), slot * B);
  }

  close(): void {
    this.file.close();
  }

  private writeInBlock(block: number, start: number, data: Uint8Array): void {
    const bits = sectorMask(start, start + data.byteLength);
    const held = this.held.get(block);
    if (held) {
      held.data.set(data, start);
      held.mask |= bits;
      return;
    }
    const slot = this.table.get(block);
    if (slot >= 0 && !this.slots.frozen[slot]) {
      // In place: every slot was written whole when it was taken, so this never grows the file.
      this.file.write(data, slot * B + start);
      this.slots.masks[slot] = (this.slots.masks[slot] ?? 0) | bits;
      return;
    }
    const oldMask = slot >= 0 ? (this.slots.masks[slot] ?? 0) : 0;
    const whole = this.scratch;
    whole.fill(0);
    if (oldMask & ~bits & FULL_MASK) this.readExactly(whole, slot * B);
    whole.set(data, start);
    const fresh = this.slots.allocate();
    try {
      this.file.write(whole, fresh * B);
    } catch (error) {
      this.slots.release(fresh);
      if (!isStorageFull(error)) throw error;
      this.hold(block, whole.slice(), oldMask | bits, error);
      return;
    }
    this.slots.block[fresh] = block;
    this.slots.masks[fresh] = oldMask | bits;
    this.slots.frozen[fresh] = 0;
    this.table.set(block, fresh);
  }

  private hold(block: number, data: Uint8Array, mask: number, error: unknown): void {
    this.held.set(block, { data, mask });
    this.lastRetryMs = this.now();
    if (this.fullReported) return;
    this.fullReported = true;
    this.onFull?.({
      pendingBytes: this.heldBytes,
      fileBytes: this.fileBytes,
      detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }

  /** Moves held blocks into the file; `force` retries now and throws if they still do not fit. */
  private retryHeld(force: boolean): void {
    if (this.held.size === 0) return;
    if (!force && this.now() - this.lastRetryMs < this.retryIntervalMs) return;
    this.lastRetryMs = this.now();
    for (const [block, held] of [...this.held]) {
      this.held.delete(block);
      const before = this.held.size;
      this.writeWhole(block, held);
      if (this.held.size > before) {
        if (force) {
          throw new StorageFullError(`${this.heldBytes} bytes of disk blocks still do not fit in storage.`, 'retry before a commit');
        }
        return;
      }
    }
    this.fullReported = false;
  }

  /** A held block back into a slot: the held copy already merges the block's older sectors. */
  private writeWhole(block: number, held: HeldBlock): void {
    const slot = this.table.get(block);
    const fresh = this.slots.allocate();
    try {
      this.file.write(held.data, fresh * B);
    } catch (error) {
      this.slots.release(fresh);
      if (!isStorageFull(error)) throw error;
      this.held.set(block, held);
      return;
    }
    this.slots.block[fresh] = block;
    this.slots.masks[fresh] = held.mask;
    this.slots.frozen[fresh] = 0;
    this.table.set(block, fresh);
    // The slot it replaces is free at once unless a commit refers to it.
    if (slot >= 0 && !this.slots.frozen[slot]) this.slots.release(slot);
  }

  private maskOf(block: number): number {
    const held = this.held.get(block);
    if (held) return held.mask;
    const slot = this.table.get(block);
    return slot >= 0 ? (this.slots.masks[slot] ?? 0) : 0;
  }

  private readExactly(into: Uint8Array, at: number): void {
    const read = this.file.read(into, at);
    if (read !== into.byteLength) {
      throw new StoreDamaged(`The disk store's file ends early: ${read} of ${into.byteLength} bytes at ${at} (file ${this.file.sizeBytes()} bytes).`);
    }
  }

  private checkRange(offset: number, length: number): void {
    if (offset % SECTOR_BYTES !== 0 || length % SECTOR_BYTES !== 0 || offset < 0 || offset + length > this.diskBytes) {
      throw new RangeError(`disk access ${offset}+${length} is not 256-byte aligned or outside the ${this.diskBytes}-byte disk`);
    }
  }

  /** Reopens a saved commit: its slots are frozen, every other slot of the file is free. */
  private adopt(committed: CommittedIndex): void {
    const fileSlots = Math.floor(this.file.sizeBytes() / B);
    let maxSlot = -1;
    for (let i = 0; i < committed.blocks.length; i++) maxSlot = Math.max(maxSlot, committed.slots[i] ?? 0);
    if (maxSlot >= fileSlots) {
      throw new StoreDamaged(`The saved session refers to disk slot ${maxSlot}, but the store's file has only ${fileSlots} slots: it was cut short or replaced.`);
    }
    this.slots.count = fileSlots;
    this.slots.grow(fileSlots);
    for (let i = 0; i < committed.blocks.length; i++) {
      const block = committed.blocks[i] ?? 0;
      const slot = committed.slots[i] ?? 0;
      if (block >= this.blockCount) throw new StoreDamaged(`The saved session has block ${block}, beyond the disk's ${this.blockCount} blocks.`);
      if ((this.slots.block[slot] ?? -1) !== -1) throw new StoreDamaged(`The saved session uses disk slot ${slot} twice.`);
      this.slots.block[slot] = block;
      this.slots.masks[slot] = committed.masks[i] ?? 0;
      this.slots.frozen[slot] = SAVED;
      this.table.set(block, slot);
    }
    for (let slot = fileSlots - 1; slot >= 0; slot--) if ((this.slots.block[slot] ?? -1) === -1) this.slots.free.push(slot);
  }
}
