// The v86 disk buffer over the store and the image cache: reads merge the image with written sectors, the
// image is read in bounded chunks, states from v86's own AsyncXHRBuffer (older sessions and snapshots) and
// this module's embedded form both come back, and a failed image read is retried and reported.
import { describe, expect, it } from 'vitest';
import { MemoryBlockFile } from './block-file.ts';
import { BlockStore } from './block-store.ts';
import { ImageCache, type ImageSource } from './image-cache.ts';
import { DISK_STATE_TAG, saveV86State, StoreDisk, type DiskProblem } from './v86-disk.ts';

const DISK_BYTES = 8 * 1024 * 1024;

function countingImage(): ImageSource & { reads: number } {
  const source = {
    sizeBytes: DISK_BYTES,
    location: 'test image',
    reads: 0,
    async read(start: number, length: number) {
      source.reads++;
      return new Uint8Array(length).map((_, i) => (start + i) % 253);
    },
  };
  return source;
}

function newDisk(source: ImageSource = countingImage(), problems: DiskProblem[] = []): StoreDisk {
  const store = new BlockStore({ diskBytes: DISK_BYTES, file: new MemoryBlockFile() });
  return new StoreDisk(store, new ImageCache(source, { chunkBytes: 64 * 1024, capacityBytes: 256 * 1024 }), { onProblem: (p) => problems.push(p), retryDelaysMs: [1] });
}

function get(disk: StoreDisk, start: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve) => disk.get(start, length, resolve));
}

describe('StoreDisk', () => {
  it('reads the image where nothing was written and the store where it was', async () => {
    const disk = newDisk();
    disk.set(4096 + 512, new Uint8Array(512).fill(0xee), () => undefined);
    const bytes = await get(disk, 4096, 4096);
    expect(bytes[0]).toBe((4096 % 253) & 0xff);
    expect(bytes.subarray(512, 1024)).toEqual(new Uint8Array(512).fill(0xee));
    expect(bytes[1024]).toBe((4096 + 1024) % 253);
    // Whole written blocks never touch the image.
    disk.set(65536, new Uint8Array(8192).fill(1), () => undefined);
    let sync: Uint8Array | undefined;
    disk.get(65536, 8192, (data) => (sync = data));
    expect(sync).toEqual(new Uint8Array(8192).fill(1));
  });

  it('keeps at most its capacity of image chunks, however much is read', async () => {
    const source = countingImage();
    const disk = newDisk(source);
    for (let offset = 0; offset < 4 * 1024 * 1024; offset += 64 * 1024) await get(disk, offset, 4096);
    expect(disk.image.counters.cachedBytes).toBeLessThanOrEqual(256 * 1024);
    const before = source.reads;
    await get(disk, 4 * 1024 * 1024 - 64 * 1024, 4096);
    expect(source.reads).toBe(before);
    await get(disk, 0, 4096);
    expect(source.reads).toBe(before + 1);
    // The MBR read before v86's init is served from the cache afterwards (geometry).
    await new Promise<Uint8Array>((resolve) => disk.get_and_cache(0, 512, resolve));
    expect(disk.get_from_cache(0, 512)).toBeDefined();
  });

  it('restores the written blocks of a state saved by v86\'s own async disk (256-byte blocks)', async () => {
    const disk = newDisk();
    disk.set_state([[[16, new Uint8Array(256).fill(5)], [17, new Uint8Array(256).fill(6)]]]);
    const bytes = await get(disk, 4096, 1024);
    expect(bytes.subarray(0, 256)).toEqual(new Uint8Array(256).fill(5));
    expect(bytes.subarray(256, 512)).toEqual(new Uint8Array(256).fill(6));
    expect(bytes[512]).toBe((4096 + 512) % 253);
    expect(() => disk.set_state([[[1, new Uint8Array(10)]]])).toThrow(/malformed/);
  });

  it('embeds its blocks in a state for the boot snapshot, and a new disk takes them back', async () => {
    const disk = newDisk();
    disk.set(12288, new Uint8Array(4096).fill(9), () => undefined);
    disk.set(512, new Uint8Array(256).fill(4), () => undefined);
    let state: unknown[] = [];
    await saveV86State({ save_state: async () => ((state = disk.get_state()), new ArrayBuffer(0)) }, disk, 'embedded');
    expect(state.slice(0, 3)).toEqual([DISK_STATE_TAG, 1, 'embedded']);
    const copy = newDisk();
    copy.set_state(state);
    expect(await get(copy, 12288, 4096)).toEqual(new Uint8Array(4096).fill(9));
    expect((await get(copy, 512, 256))).toEqual(new Uint8Array(256).fill(4));
    expect((await get(copy, 0, 256))[1]).toBe(1);
  });

  it('leaves the blocks in the store for a session save and checks the pairing on restore', async () => {
    const disk = newDisk();
    disk.set(0, new Uint8Array(8192).fill(2), () => undefined);
    let state: unknown[] = [];
    await saveV86State({ save_state: async () => ((state = disk.get_state()), new ArrayBuffer(0)) }, disk, 'commit');
    expect(state).toEqual([DISK_STATE_TAG, 1, 'external', 2]);
    expect(disk.takeCommit()?.index.blocks).toEqual(Uint32Array.of(0, 1));
    expect(() => newDisk().set_state(state)).toThrow(/expects 2 disk blocks/);
  });

  it('retries a failed image read, reporting it, and answers once it works', async () => {
    let failures = 2;
    const flaky: ImageSource = {
      sizeBytes: DISK_BYTES,
      location: 'flaky',
      read: async (start, length) => {
        if (failures-- > 0) throw new Error('network down');
        return new Uint8Array(length).fill(start === 0 ? 8 : 0);
      },
    };
    const problems: DiskProblem[] = [];
    const disk = newDisk(flaky, problems);
    expect((await get(disk, 0, 512))[0]).toBe(8);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ kind: 'image-read-failed', detail: expect.stringContaining('network down') });
  });
});
