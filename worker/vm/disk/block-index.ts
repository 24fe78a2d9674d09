// Which disk blocks the store holds and where: a two-level table (disk block -> slot in the store's file)
// that costs 4 bytes per 4 KiB block only in the 4 MiB regions the guest wrote, and the compact committed
// form a saved session carries (three typed arrays, 10 bytes per block).

/** The store's unit: the guest's ext4 writes whole 4 KiB blocks, so partial blocks are rare. */
export const STORE_BLOCK_BYTES = 4096;
/** v86's smallest disk unit (src/buffer.js BLOCK_SIZE): every get/set is a multiple of it, and so is a mask bit. */
export const SECTOR_BYTES = 256;
export const SECTORS_PER_BLOCK = STORE_BLOCK_BYTES / SECTOR_BYTES;
/** A mask with every 256-byte sector of a block present. */
export const FULL_MASK = 0xffff;

const PAGE_BITS = 10;
const PAGE_ENTRIES = 1 << PAGE_BITS;

/** disk block -> slot, sparse. Pages of 1024 entries (4 MiB of disk each) exist only where something was written. */
export class BlockTable {
  private readonly pages: (Uint32Array | undefined)[];
  private count = 0;

  constructor(readonly blockCount: number) {
    this.pages = new Array<Uint32Array | undefined>(Math.ceil(blockCount / PAGE_ENTRIES));
  }

  get size(): number {
    return this.count;
  }

  /** The slot of a block, or -1. */
  get(block: number): number {
    const page = this.pages[block >>> PAGE_BITS];
    return page ? (page[block & (PAGE_ENTRIES - 1)] ?? 0) - 1 : -1;
  }

  set(block: number, slot: number): void {
    const pageIndex = block >>> PAGE_BITS;
    let page = this.pages[pageIndex];
    if (!page) {
      page = new Uint32Array(PAGE_ENTRIES);
      this.pages[pageIndex] = page;
    }
    const at = block & (PAGE_ENTRIES - 1);
    if (page[at] === 0) this.count++;
    page[at] = slot + 1;
  }

  /** Every (block, slot) in block order. */
  *entries(): Generator<[block: number, slot: number]> {
    for (let pageIndex = 0; pageIndex < this.pages.length; pageIndex++) {
      const page = this.pages[pageIndex];
      if (!page) continue;
      for (let at = 0; at < PAGE_ENTRIES; at++) {
        const value = page[at] ?? 0;
        if (value !== 0) yield [(pageIndex << PAGE_BITS) + at, value - 1];
      }
    }
  }
}

/** The blocks of one commit, in block order: slot numbers in the store's file (or positions in an export). */
export interface CommittedIndex {
  blocks: Uint32Array;
  slots: Uint32Array;
  masks: Uint16Array;
}

export function emptyIndex(): CommittedIndex {
  return { blocks: new Uint32Array(0), slots: new Uint32Array(0), masks: new Uint16Array(0) };
}

/** u32 count, then the blocks, slots (u32 each) and masks (u16), little-endian. */
export function encodeIndex(index: CommittedIndex): Uint8Array<ArrayBuffer> {
  const count = index.blocks.length;
  const bytes = new Uint8Array(4 + count * 10);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, count, true);
  for (let i = 0; i < count; i++) {
    view.setUint32(4 + i * 4, index.blocks[i] ?? 0, true);
    view.setUint32(4 + count * 4 + i * 4, index.slots[i] ?? 0, true);
    view.setUint16(4 + count * 8 + i * 2, index.masks[i] ?? 0, true);
  }
  return bytes;
}

export class IndexDamaged extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexDamaged';
  }
}

/** Parses and checks an encoded index against the disk it belongs to: blocks in range, ascending, masks set. */
export function decodeIndex(bytes: Uint8Array, blockCount: number): CommittedIndex {
  if (bytes.byteLength < 4) throw new IndexDamaged(`the block index is ${bytes.byteLength} bytes long`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (bytes.byteLength !== 4 + count * 10) throw new IndexDamaged(`the block index says ${count} blocks but is ${bytes.byteLength} bytes long`);
  const index: CommittedIndex = { blocks: new Uint32Array(count), slots: new Uint32Array(count), masks: new Uint16Array(count) };
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const block = view.getUint32(4 + i * 4, true);
    const mask = view.getUint16(4 + count * 8 + i * 2, true);
    if (block >= blockCount || block <= previous) throw new IndexDamaged(`block ${block} at entry ${i} is out of order or beyond the disk's ${blockCount} blocks`);
    if (mask === 0) throw new IndexDamaged(`block ${block} has an empty mask`);
    previous = block;
    index.blocks[i] = block;
    index.slots[i] = view.getUint32(4 + count * 4 + i * 4, true);
    index.masks[i] = mask;
  }
  return index;
}

/** The mask bits of the sectors in [start, end) of a block (byte offsets inside it, multiples of 256). */
export function sectorMask(start: number, end: number): number {
  const first = start / SECTOR_BYTES;
  const last = end / SECTOR_BYTES;
  return ((1 << last) - (1 << first)) & FULL_MASK;
}
