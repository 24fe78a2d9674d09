// The block store against a plain in-memory model of the disk: random sector-aligned writes and reads, saves
// (commits), reopening after a crash at any point, and a quota that runs out.
import { describe, expect, it } from 'vitest';
import { MemoryBlockFile } from './block-file.ts';
import { decodeIndex, encodeIndex, SECTOR_BYTES, STORE_BLOCK_BYTES, type CommittedIndex } from './block-index.ts';
import { BlockStore, StoreDamaged, type StoreFull } from './block-store.ts';
import { prng as random } from '../../testing/prng.ts';

const DISK_BYTES = 2 * 1024 * 1024;

/** Byte-array equality that reports the first difference (a generic deep-equal diff of MBs never ends). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  expect(actual.byteLength, `${what}: length`).toBe(expected.byteLength);
  const at = actual.findIndex((byte, i) => byte !== expected[i]);
  expect(at, `${what}: first difference at byte ${at}`).toBe(-1);
}

function randomBytes(next: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

/** What a reader sees: the image's bytes with the store's sectors over them (what the v86 adapter does). */
function readThrough(store: BlockStore, image: Uint8Array, offset: number, length: number): Uint8Array {
  const into = image.slice(offset, offset + length);
  store.overlay(offset, into);
  return into;
}

/** A random aligned range: mostly whole 4 KiB blocks, sometimes odd sectors, sometimes spanning blocks. */
function randomRange(next: () => number): [offset: number, length: number] {
  const sectors = DISK_BYTES / SECTOR_BYTES;
  const wholeBlocks = next() < 0.6;
  if (wholeBlocks) {
    const blocks = DISK_BYTES / STORE_BLOCK_BYTES;
    const first = Math.floor(next() * blocks);
    const count = 1 + Math.floor(next() * Math.min(8, blocks - first));
    return [first * STORE_BLOCK_BYTES, count * STORE_BLOCK_BYTES];
  }
  const first = Math.floor(next() * sectors);
  const count = 1 + Math.floor(next() * Math.min(40, sectors - first));
  return [first * SECTOR_BYTES, count * SECTOR_BYTES];
}

describe('BlockStore against an in-memory disk', () => {
  it('reads back what random writes left, across saves, with the image under unwritten sectors', () => {
    const next = random(1);
    const image = randomBytes(next, DISK_BYTES);
    const model = image.slice();
    const store = new BlockStore({ diskBytes: DISK_BYTES, file: new MemoryBlockFile() });
    for (let step = 0; step < 3000; step++) {
      const [offset, length] = randomRange(next);
      const choice = next();
      if (choice < 0.5) {
        const data = randomBytes(next, length);
        store.write(offset, data);
        model.set(data, offset);
      } else if (choice < 0.97) {
        expectSameBytes(readThrough(store, image, offset, length), model.subarray(offset, offset + length));
        if (store.covers(offset, length)) {
          const into = new Uint8Array(length);
          store.overlay(offset, into);
          expectSameBytes(into, model.subarray(offset, offset + length), 'covered read');
        }
      } else {
        store.commitSaved(store.commit());
      }
    }
    expectSameBytes(readThrough(store, image, 0, DISK_BYTES), model);
    // Copy-on-write slots are reused after saves: the file stays near the number of blocks written.
    expect(store.fileBytes).toBeLessThanOrEqual(2 * store.storedBlocks * STORE_BLOCK_BYTES + 64 * STORE_BLOCK_BYTES);
  });

  it('covers() is true only where every sector was written', () => {
    const store = new BlockStore({ diskBytes: DISK_BYTES, file: new MemoryBlockFile() });
    store.write(4096 + 512, new Uint8Array(512).fill(1));
    expect(store.covers(4096 + 512, 512)).toBe(true);
    expect(store.covers(4096 + 256, 512)).toBe(false);
    expect(store.covers(4096, 4096)).toBe(false);
    expect(() => store.write(100, new Uint8Array(256))).toThrow(RangeError);
    expect(() => store.write(DISK_BYTES, new Uint8Array(256))).toThrow(RangeError);
  });

  it('reopens at the last save after a crash at any point, whatever was written after it', () => {
    const next = random(2);
    const image = randomBytes(next, DISK_BYTES);
    const model = image.slice();
    const file = new MemoryBlockFile();
    const store = new BlockStore({ diskBytes: DISK_BYTES, file });
    let saved: { index: Uint8Array; disk: Uint8Array } = { index: encodeIndex({ blocks: new Uint32Array(0), slots: new Uint32Array(0), masks: new Uint16Array(0) }), disk: image.slice() };
    for (let step = 0; step < 1500; step++) {
      const [offset, length] = randomRange(next);
      const data = randomBytes(next, length);
      store.write(offset, data);
      model.set(data, offset);
      if (next() < 0.03) {
        const commit = store.commit();
        // The session file (the index) is written after the commit; then the old slots are released.
        saved = { index: encodeIndex(commit.index), disk: model.slice() };
        store.commitSaved(commit);
      }
      if (next() < 0.05) {
        // A crash now: the file holds blocks written after the save, the saved index does not know them.
        const reopened = new BlockStore({ diskBytes: DISK_BYTES, file: file.snapshot(), committed: decodeIndex(saved.index, DISK_BYTES / STORE_BLOCK_BYTES) });
        expectSameBytes(readThrough(reopened, image, 0, DISK_BYTES), saved.disk);
      }
    }
  });

  it('keeps the saved session intact when a save is taken but its session file never lands', () => {
    const image = new Uint8Array(DISK_BYTES);
    const file = new MemoryBlockFile();
    const store = new BlockStore({ diskBytes: DISK_BYTES, file });
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(1));
    const first = store.commit();
    store.commitSaved(first);
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(2));
    store.commit(); // its file write failed: commitSaved is never called
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(3));
    const reopened = new BlockStore({ diskBytes: DISK_BYTES, file: file.snapshot(), committed: first.index });
    expectSameBytes(readThrough(reopened, image, 0, 256), new Uint8Array(256).fill(1));
  });

  it('a crash between a block write and its index update leaves the block as it was saved', () => {
    const image = new Uint8Array(DISK_BYTES).fill(7);
    const file = new MemoryBlockFile();
    const store = new BlockStore({ diskBytes: DISK_BYTES, file });
    store.write(8192, new Uint8Array(STORE_BLOCK_BYTES).fill(1));
    const commit = store.commit();
    store.commitSaved(commit);
    // The file write of the next version lands, then the process dies before the in-memory index changes:
    // simulated by copying the file right after the data write, inside the write itself.
    let atCrash: MemoryBlockFile | undefined;
    const spy = file.write.bind(file);
    file.write = (data, at) => {
      spy(data, at);
      atCrash ??= file.snapshot();
    };
    store.write(8192, new Uint8Array(512).fill(9));
    expect(atCrash).toBeDefined();
    const reopened = new BlockStore({ diskBytes: DISK_BYTES, file: atCrash!, committed: commit.index });
    expectSameBytes(readThrough(reopened, image, 8192, STORE_BLOCK_BYTES), new Uint8Array(STORE_BLOCK_BYTES).fill(1));
    // And the live store has the new sectors over the saved ones.
    const live = readThrough(store, image, 8192, STORE_BLOCK_BYTES);
    expect(live.subarray(0, 512)).toEqual(new Uint8Array(512).fill(9));
    expect(live.subarray(512)).toEqual(new Uint8Array(STORE_BLOCK_BYTES - 512).fill(1));
  });

  it('refuses a saved index that points past the end of the file', () => {
    const file = new MemoryBlockFile();
    const store = new BlockStore({ diskBytes: DISK_BYTES, file });
    store.write(0, new Uint8Array(2 * STORE_BLOCK_BYTES).fill(1));
    const commit = store.commit();
    const cut = file.snapshot();
    cut.truncate(STORE_BLOCK_BYTES);
    expect(() => new BlockStore({ diskBytes: DISK_BYTES, file: cut, committed: commit.index })).toThrow(StoreDamaged);
  });

  it('a pinned export view stays unchanged while the disk is written', () => {
    const image = new Uint8Array(DISK_BYTES);
    const store = new BlockStore({ diskBytes: DISK_BYTES, file: new MemoryBlockFile() });
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(4));
    const pinned = store.pin();
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(5));
    const slotData = new Uint8Array(STORE_BLOCK_BYTES);
    store.readSlot(pinned.index.slots[0]!, slotData);
    expect(slotData).toEqual(new Uint8Array(STORE_BLOCK_BYTES).fill(4));
    store.unpin(pinned);
    const before = store.fileBytes;
    store.write(0, new Uint8Array(STORE_BLOCK_BYTES).fill(6));
    store.write(STORE_BLOCK_BYTES, new Uint8Array(STORE_BLOCK_BYTES).fill(6));
    // The pinned slot was freed and reused by the next new block.
    expect(store.fileBytes).toBe(before);
    expectSameBytes(readThrough(store, image, 0, 256), new Uint8Array(256).fill(6));
  });
});

describe('BlockStore with a full quota', () => {
  it('reports it once, keeps every written byte readable, overwrites nothing saved, and catches up when space returns', () => {
    const next = random(3);
    const image = randomBytes(next, DISK_BYTES);
    const model = image.slice();
    const file = new MemoryBlockFile();
    const reports: StoreFull[] = [];
    let nowMs = 0;
    const store = new BlockStore({ diskBytes: DISK_BYTES, file, onFull: (full) => reports.push(full), now: () => nowMs, retryIntervalMs: 1000 });
    const first = new Uint8Array(16 * STORE_BLOCK_BYTES).fill(1);
    store.write(0, first);
    model.set(first, 0);
    const saved = store.commit();
    store.commitSaved(saved);
    const savedDisk = model.slice();
    file.limitBytes = file.sizeBytes() + 3 * STORE_BLOCK_BYTES;
    for (let step = 0; step < 400; step++) {
      const [offset, length] = randomRange(next);
      const data = randomBytes(next, length);
      store.write(offset, data);
      model.set(data, offset);
      nowMs += 10;
    }
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ pendingBytes: expect.any(Number), detail: expect.stringContaining('StorageFullError') });
    expect(store.heldBytes).toBeGreaterThan(0);
    expectSameBytes(readThrough(store, image, 0, DISK_BYTES), model);
    // A save cannot commit what does not fit, and says so.
    expect(() => store.commit()).toThrow(/do not fit/);
    // The saved session's blocks were never overwritten.
    const reopened = new BlockStore({ diskBytes: DISK_BYTES, file: file.snapshot(), committed: saved.index });
    expectSameBytes(readThrough(reopened, image, 0, DISK_BYTES), savedDisk);
    // Space again: the next write after the retry interval moves the held blocks into the file.
    file.limitBytes = Number.POSITIVE_INFINITY;
    nowMs += 5000;
    store.write(0, new Uint8Array(SECTOR_BYTES).fill(8));
    model.fill(8, 0, SECTOR_BYTES);
    expect(store.heldBytes).toBe(0);
    const commit = store.commit();
    store.commitSaved(commit);
    const afterSpace = new BlockStore({ diskBytes: DISK_BYTES, file: file.snapshot(), committed: roundTrip(commit.index) });
    expectSameBytes(readThrough(afterSpace, image, 0, DISK_BYTES), model);
  });
});

function roundTrip(index: CommittedIndex): CommittedIndex {
  return decodeIndex(encodeIndex(index), DISK_BYTES / STORE_BLOCK_BYTES);
}

describe('the committed index', () => {
  it('round-trips and rejects damage', () => {
    const index = { blocks: Uint32Array.of(1, 5, 9), slots: Uint32Array.of(2, 0, 1), masks: Uint16Array.of(0xffff, 1, 0x8000) };
    expect(roundTrip(index)).toEqual(index);
    const bytes = encodeIndex(index);
    expect(() => decodeIndex(bytes.subarray(0, bytes.byteLength - 1), 512)).toThrow(/blocks but is/);
    const unordered = encodeIndex({ ...index, blocks: Uint32Array.of(5, 1, 9) });
    expect(() => decodeIndex(unordered, 512)).toThrow(/out of order/);
    expect(() => decodeIndex(bytes, 8)).toThrow(/beyond the disk/);
  });
});
