// Sessions over the block store without an emulator: a fake v86 whose save_state() asks the disk for its
// state the way v86's does (synchronously), saved into and resumed from a folder, exported to a standalone
// file and opened again, a damaged save moved aside, a full quota reported, a tab without the session refused.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { V86 } from 'v86';
import type { Manifest } from '../assets.ts';
import type { VmNotice } from '../../shared/contract.ts';
import { MemoryFolder } from './disk-folder.ts';
import type { ImageSource } from './image-cache.ts';
import { StoreDisk } from './v86-disk.ts';
import { VmDisks } from './vm-disk.ts';
import { compressStateInNode } from '../../node/node-state-compressor.ts';
import { gzip } from '../snapshot/compression.ts';
import { sessionFileParts } from './session-file.ts';
import { emptyIndex } from './block-index.ts';

const DISK_BYTES = 4 * 1024 * 1024;
const image: ImageSource = {
  sizeBytes: DISK_BYTES,
  location: 'memory image',
  read: async (start, length) => new Uint8Array(length).fill((start / 256) % 251),
};
const manifest = {
  buildId: 'build-1',
  recommendedMemoryBytes: 64 * 1024 * 1024,
  files: { rootDisk: { file: 'rootfs.ext4', bytes: DISK_BYTES, sha256: 'a'.repeat(64) } },
} as unknown as Manifest;
const ref = { url: 'rootfs.ext4', sizeBytes: DISK_BYTES };

/** v86's save_state() as far as the disk sees it: get_state() runs synchronously inside the call. */
function fakeEmulator(disk: StoreDisk): V86 {
  return {
    save_state: async () => {
      const state = disk.get_state();
      return new TextEncoder().encode(JSON.stringify(state.map((part) => (ArrayBuffer.isView(part) ? part.byteLength : part)))).buffer;
    },
  } as unknown as V86;
}

function read(disk: StoreDisk, start: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve) => disk.get(start, length, resolve));
}

function setup(root = new MemoryFolder()) {
  const notices: VmNotice[] = [];
  const quiesced: string[] = [];
  const disks = new VmDisks({ root: async () => root, imageSource: () => image, zstdState: compressStateInNode }, (notice) => notices.push(notice), async () => void quiesced.push('quiesce'));
  return { root, disks, notices, quiesced };
}

describe('VmDisks', () => {
  it('saves into the session folder and resumes from it with the same disk', async () => {
    const { root, disks } = setup();
    await disks.prepare({ store: 'session' });
    expect(await disks.planSaved(manifest, DISK_BYTES)).toBe('none');
    const disk = await disks.open(undefined, ref);
    disk.set(8192, new Uint8Array(4096).fill(7), () => undefined);
    const saved = await disks.save(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    expect(saved.diskBytes).toBe(4096);
    expect(Object.keys(saved.stepsMs)).toEqual(['quiesce', 'state', 'compress', 'write']);
    expect(Object.values(saved.stepsMs).every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    // Written after the save: not part of it.
    disk.set(8192, new Uint8Array(4096).fill(9), () => undefined);
    await disks.close();

    const next = setup(root);
    await next.disks.prepare({ store: 'session' });
    const plan = await next.disks.planSaved(manifest, DISK_BYTES);
    if (plan === 'none' || !plan) throw new Error(`expected a plan, got ${plan}`);
    expect(plan).toMatchObject({ kind: 'restore', from: 'session', disk: { kind: 'folder' } });
    // The state is zstd, which v86 decodes itself: the payload goes to it as saved, and zstd's own CLI reads it.
    expect(plan.header.compression).toBe('zstd');
    const stateText = execFileSync('zstd', ['-d', '-q', '-c'], { input: new Uint8Array(plan.state) }).toString();
    expect(JSON.parse(stateText)).toEqual(expect.arrayContaining([expect.any(Number)]));
    const resumed = await next.disks.open(plan.disk, ref);
    expect(await read(resumed, 8192, 4096)).toEqual(new Uint8Array(4096).fill(7));
    expect(await read(resumed, 0, 512)).toEqual((await image.read(0, 512)));
  });

  it('exports a standalone file that a tab without the saved session opens', async () => {
    const { disks } = setup();
    await disks.prepare({ store: 'scratch' });
    const disk = await disks.open(undefined, ref);
    const written = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    disk.set(512 * 1024, written, () => undefined);
    disk.set(256, new Uint8Array(256).fill(3), () => undefined);
    const exported = await disks.export(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    expect(exported.bytes).toBeGreaterThan(written.byteLength);

    const other = setup();
    await other.disks.prepare({ store: 'scratch' });
    const plan = await other.disks.planFile(exported.file, manifest, DISK_BYTES);
    expect(plan).toMatchObject({ disk: { kind: 'inline' } });
    const opened = await other.disks.open(plan?.disk, ref);
    // Buffer.equals: a deep-equal of MBs in the test framework takes seconds.
    expect(Buffer.from(await read(opened, 512 * 1024, written.byteLength)).equals(written)).toBe(true);
    const first = await read(opened, 0, 1024);
    expect(first.subarray(256, 512)).toEqual(new Uint8Array(256).fill(3));
    expect(first.subarray(0, 256)).toEqual((await image.read(0, 256)));
  });

  it('opens a session file whose state was saved as gzip, before saves used zstd', async () => {
    const raw = new TextEncoder().encode(JSON.stringify(['a state saved by an older tabdock', 4096]));
    const parts = sessionFileParts({
      meta: { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, memoryBytes: 64 * 1024 * 1024, createdAt: new Date(0).toISOString(), compression: 'gzip', rawBytes: raw.byteLength },
      diskBytes: DISK_BYTES,
      payload: await gzip(raw),
      index: emptyIndex(),
      readSlot: () => undefined,
    });
    const chunks: Uint8Array[] = [];
    for await (const part of parts) chunks.push(part);
    const { disks } = setup();
    await disks.prepare({ store: 'scratch' });
    const plan = await disks.planFile(new Blob(chunks as BlobPart[]), manifest, DISK_BYTES);
    expect(plan).toMatchObject({ kind: 'restore', from: 'session', header: { compression: 'gzip' }, disk: { kind: 'inline' } });
    // gzip is decoded here (v86 reads only zstd and raw states).
    expect(new Uint8Array(plan?.state ?? new ArrayBuffer(0))).toEqual(raw);
  });

  it('refuses an export with a flipped block byte, naming the checksum', async () => {
    const { disks } = setup();
    await disks.prepare(undefined);
    const disk = await disks.open(undefined, ref);
    disk.set(0, new Uint8Array(4096).fill(1), () => undefined);
    const exported = await disks.export(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    const bytes = new Uint8Array(await exported.file.arrayBuffer());
    bytes[bytes.length - 10]! ^= 1;
    const other = setup();
    await other.disks.prepare(undefined);
    const plan = await other.disks.planFile(new Blob([bytes]), manifest, DISK_BYTES);
    await expect(other.disks.open(plan?.disk, ref)).rejects.toThrow(/does not match its checksum/);
  });

  it('moves a damaged save aside with a notice, and still hands it out', async () => {
    const { root, disks } = setup();
    await disks.prepare({ store: 'session' });
    const disk = await disks.open(undefined, ref);
    await disks.save(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    await disks.close();
    const sessions = (await root.child('sessions', false)) as MemoryFolder;
    const [id] = [...sessions.children.keys()];
    const folder = sessions.children.get(id!)!;
    const file = folder.files.get('session.tdstate')!;
    file[file.length - 1]! ^= 0xff;

    const next = setup(root);
    await next.disks.prepare({ store: 'session' });
    expect(await next.disks.planSaved(manifest, DISK_BYTES)).toBeUndefined();
    expect(next.notices).toMatchObject([{ code: 'session-unusable', damagedSessionId: id, message: expect.stringMatching(/checksum/) }]);
    expect(folder.files.has('damaged')).toBe(true);
    const exported = await next.disks.exportDamaged(id!, manifest);
    expect(exported.fileName).toBe(`damaged-${id}.tdstate`);
    // Not resumed again.
    const again = setup(root);
    await again.disks.prepare({ store: 'session' });
    expect(await again.disks.planSaved(manifest, DISK_BYTES)).toBe('none');
    expect(again.notices).toEqual([]);
  });

  it('has the guest drop its caches before each save and export, and counts that time in the save', async () => {
    const { disks, quiesced } = setup();
    await disks.prepare({ store: 'session' });
    const disk = await disks.open(undefined, ref);
    const saved = await disks.save(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    await disks.export(fakeEmulator(disk), manifest, 64 * 1024 * 1024);
    expect(quiesced).toEqual(['quiesce', 'quiesce']);
    expect(saved.stepsMs.quiesce).toBeGreaterThanOrEqual(0);
  });

  it('refuses to save from a tab that does not own the session, and says how much space a save needs', async () => {
    const { disks } = setup();
    await disks.prepare({ store: 'scratch' });
    const disk = await disks.open(undefined, ref);
    await expect(disks.save(fakeEmulator(disk), manifest, 1)).rejects.toThrow(/does not own the saved session/);

    const full = setup();
    await full.disks.prepare({ store: 'session' });
    const fullDisk = await full.disks.open(undefined, ref);
    fullDisk.set(0, new Uint8Array(65536).fill(1), () => undefined);
    full.root.free = 10;
    const sessions = (await full.root.child('sessions', false)) as MemoryFolder;
    for (const child of sessions.children.values()) child.free = 10;
    await expect(full.disks.save(fakeEmulator(fullDisk), manifest, 1)).rejects.toThrow(/this needs \d+ MB, \d+ MB are free/);
  });
});
