// The slots of a block store's file (block-store.ts): per 4 KiB slot, the disk block it holds, its sector mask and
// who still needs it unchanged; which slots are free; and the file's length, which follows the last slot taken.
import type { BlockFile } from './block-file.ts';
import { STORE_BLOCK_BYTES } from './block-index.ts';

const B = STORE_BLOCK_BYTES;

export class BlockSlots {
  /** Per slot: the block it holds (-1: free). */
  block = new Int32Array(1024).fill(-1);
  /** Per slot: the sectors of its block it holds. */
  masks = new Uint16Array(1024);
  /** Per slot, who still needs it unchanged: SAVED (a save's commit) and/or PINNED (an export in progress). */
  frozen = new Uint8Array(1024);
  /** Slots the file has. */
  count = 0;
  free: number[] = [];

  constructor(private readonly file: BlockFile) {}

  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.count++;
    if (slot >= this.block.length) this.grow(slot + 1);
    this.block[slot] = -1;
    return slot;
  }

  release(slot: number): void {
    this.block[slot] = -1;
    this.masks[slot] = 0;
    this.frozen[slot] = 0;
    if (slot === this.count - 1) {
      // The last slot: shrink the file back so a failed append leaves no partial block behind.
      this.count--;
      this.file.truncate(this.count * B);
    } else {
      this.free.push(slot);
    }
  }

  grow(slots: number): void {
    const capacity = Math.max(slots, this.block.length * 2);
    const slotBlock = new Int32Array(capacity).fill(-1);
    slotBlock.set(this.block);
    const masks = new Uint16Array(capacity);
    masks.set(this.masks);
    const frozen = new Uint8Array(capacity);
    frozen.set(this.frozen);
    this.block = slotBlock;
    this.masks = masks;
    this.frozen = frozen;
  }
}
