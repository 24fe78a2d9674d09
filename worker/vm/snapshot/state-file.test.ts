// The state file wrapper and the start decision: damaged, truncated, foreign and stale states are caught
// before v86 sees them, and a bad state never blocks a boot (it becomes a notice).
import { describe, expect, it } from 'vitest';
import { sha256HexOf, type AssetFile, type AssetSource, type Manifest } from '../assets.ts';
import type { VmNotice } from '../../shared/contract.ts';
import { gzip, payloadToV86State } from './compression.ts';
import { planStart } from './start-plan.ts';
import { checkStateFile, encodeStateFile, readStateHeader, type StateHeader } from './state-file.ts';

const DISK_SHA = 'a'.repeat(64);
const image = { buildId: 'build-1', rootDiskSha256: DISK_SHA };
const meta: Omit<StateHeader, 'formatVersion' | 'payloadBytes' | 'payloadSha256'> = {
  kind: 'session',
  buildId: 'build-1',
  rootDiskSha256: DISK_SHA,
  memoryBytes: 512 * 1024 * 1024,
  createdAt: '2026-11-23T12:00:00.000Z',
  compression: 'none',
  rawBytes: 4096,
};

function payloadOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

describe('state file', () => {
  it('round-trips header and payload', async () => {
    const payload = payloadOf(4096);
    const check = await checkStateFile(await encodeStateFile(meta, payload), image);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.header).toMatchObject({ ...meta, formatVersion: 1, payloadBytes: 4096 });
    expect(check.payload).toEqual(payload);
  });

  it('rejects bytes that are not a state file', async () => {
    const check = await checkStateFile(new TextEncoder().encode('<!doctype html><p>not found</p>'), image);
    expect(check).toMatchObject({ ok: false, problem: { code: 'not-a-state-file' } });
    expect(await checkStateFile(new Uint8Array(0), image)).toMatchObject({ ok: false, problem: { code: 'not-a-state-file' } });
  });

  it('detects a truncated file, inside the payload and inside the header', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    expect(await checkStateFile(file.subarray(0, file.length - 1), image)).toMatchObject({ ok: false, problem: { code: 'truncated' } });
    expect(await checkStateFile(file.subarray(0, 20), image)).toMatchObject({ ok: false, problem: { code: 'truncated' } });
  });

  it('detects a flipped byte in the payload with the checksum', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    file[file.length - 100]! ^= 0x01;
    const check = await checkStateFile(file, image);
    expect(check).toMatchObject({ ok: false, problem: { code: 'checksum-mismatch' } });
  });

  it('skips only the payload hash when the caller verified the whole file, and still checks length and build', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    file[file.length - 100]! ^= 0x01;
    expect(await checkStateFile(file, image, { wholeFileVerified: true })).toMatchObject({ ok: true });
    expect(await checkStateFile(file.subarray(0, file.length - 1), image, { wholeFileVerified: true })).toMatchObject({ ok: false, problem: { code: 'truncated' } });
    expect(await checkStateFile(file, { ...image, buildId: 'build-2' }, { wholeFileVerified: true })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
  });

  it('detects appended bytes and a damaged header', async () => {
    const file = await encodeStateFile(meta, payloadOf(64));
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    expect(await checkStateFile(longer, image)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
    const badHeader = file.slice();
    badHeader[14] = 0x7b ^ 0xff; // the header JSON's first byte
    expect(await checkStateFile(badHeader, image)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
    const hugeLength = file.slice();
    new DataView(hugeLength.buffer).setUint32(8, 0x7fffffff, true);
    expect(readStateHeader(hugeLength)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
  });

  it('refuses a state from another image build or disk', async () => {
    const file = await encodeStateFile(meta, payloadOf(64));
    expect(await checkStateFile(file, { ...image, buildId: 'build-2' })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
    expect(await checkStateFile(file, { ...image, rootDiskSha256: 'b'.repeat(64) })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
  });

  it('gives v86 the raw state back from a gzip payload', async () => {
    const raw = payloadOf(100_000);
    const compressed = await gzip(raw);
    expect(compressed.length).toBeLessThan(raw.length);
    expect(new Uint8Array(await payloadToV86State(compressed, 'gzip'))).toEqual(raw);
    // A payload inside a bigger file comes out as its own exactly-sized buffer.
    const inFile = new Uint8Array(10 + raw.length);
    inFile.set(raw, 10);
    expect((await payloadToV86State(inFile.subarray(10), 'zstd')).byteLength).toBe(raw.length);
  });
});

/** An in-memory image: the asset source is a dependency of planStart, not the thing under test. */
function memorySource(files: Record<string, Uint8Array>): AssetSource {
  return {
    location: 'memory',
    loadManifest: () => Promise.reject(new Error('not used')),
    async loadFile(entry: AssetFile) {
      const data = files[entry.file];
      if (!data) throw new Error(`no ${entry.file}`);
      if (data.length !== entry.bytes || (await sha256HexOf(data)) !== entry.sha256) throw new Error(`${entry.file} does not match its manifest`);
      return data.slice().buffer;
    },
    diskImage: () => Promise.reject(new Error('not used')),
  };
}

async function imageWithSnapshot(snapshot: Uint8Array, overrides: { snapshotBuildId?: string; servedBytes?: Uint8Array } = {}) {
  const file = { file: 'x', bytes: 1, sha256: DISK_SHA };
  const manifest: Manifest = {
    formatVersion: 1,
    buildId: 'build-1',
    createdAt: '',
    recommendedMemoryBytes: 512 * 1024 * 1024,
    cmdline: 'console=ttyS0',
    files: { bios: file, vgaBios: file, kernel: file, initrd: file, rootDisk: file },
    snapshot: {
      file: 'snapshot.state',
      bytes: snapshot.length,
      sha256: await sha256HexOf(snapshot),
      buildId: overrides.snapshotBuildId ?? 'build-1',
      memoryBytes: 512 * 1024 * 1024,
      rawBytes: 4096,
    },
  };
  return { manifest, source: memorySource({ 'snapshot.state': overrides.servedBytes ?? snapshot }) };
}

describe('planStart', () => {
  const bootSnapshotMeta = { ...meta, kind: 'boot-snapshot' as const, compression: 'zstd' as const };

  it('restores a matching boot snapshot without a notice', async () => {
    const { manifest, source } = await imageWithSnapshot(await encodeStateFile(bootSnapshotMeta, payloadOf(256)));
    const notices: VmNotice[] = [];
    const plan = await planStart({ source, manifest, options: {}, notify: (n) => notices.push(n) });
    expect(plan).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    expect(notices).toEqual([]);
  });

  it('cold-boots with a notice when the snapshot is from an older build', async () => {
    const { manifest, source } = await imageWithSnapshot(await encodeStateFile(bootSnapshotMeta, payloadOf(256)), { snapshotBuildId: 'build-0' });
    const notices: VmNotice[] = [];
    expect(await planStart({ source, manifest, options: {}, notify: (n) => notices.push(n) })).toEqual({ kind: 'cold-boot' });
    expect(notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/older build/) }]);
  });

  it('cold-boots with a notice when the snapshot download is cut short', async () => {
    const snapshot = await encodeStateFile(bootSnapshotMeta, payloadOf(256));
    const { manifest, source } = await imageWithSnapshot(snapshot, { servedBytes: snapshot.subarray(0, 100) });
    const notices: VmNotice[] = [];
    expect(await planStart({ source, manifest, options: {}, notify: (n) => notices.push(n) })).toEqual({ kind: 'cold-boot' });
    expect(notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/downloaded intact/) }]);
  });

  it('falls back to the boot snapshot, with a notice, when the saved session is corrupt', async () => {
    const { manifest, source } = await imageWithSnapshot(await encodeStateFile(bootSnapshotMeta, payloadOf(256)));
    const session = await encodeStateFile(meta, payloadOf(512));
    session[session.length - 1]! ^= 0xff;
    const notices: VmNotice[] = [];
    const plan = await planStart({ source, manifest, options: { sessionState: session.buffer }, notify: (n) => notices.push(n) });
    expect(plan).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    expect(notices).toMatchObject([{ code: 'session-unusable', message: expect.stringMatching(/checksum/) }]);
  });

  it('resumes a good session and honours snapshot: off', async () => {
    const { manifest, source } = await imageWithSnapshot(await encodeStateFile(bootSnapshotMeta, payloadOf(256)));
    const session = await encodeStateFile({ ...meta, compression: 'gzip' }, await gzip(payloadOf(512)));
    const plan = await planStart({ source, manifest, options: { sessionState: session.buffer }, notify: () => undefined });
    expect(plan).toMatchObject({ kind: 'restore', from: 'session' });
    if (plan.kind === 'restore') expect(new Uint8Array(plan.state)).toEqual(payloadOf(512));
    expect(await planStart({ source, manifest, options: { snapshot: 'off' }, notify: () => undefined })).toEqual({ kind: 'cold-boot' });
  });

  it('cold-boots with a notice when another RAM size is asked for than the snapshot has', async () => {
    const { manifest, source } = await imageWithSnapshot(await encodeStateFile(bootSnapshotMeta, payloadOf(256)));
    const notices: VmNotice[] = [];
    const plan = await planStart({ source, manifest, options: { memoryBytes: 1024 * 1024 * 1024 }, notify: (n) => notices.push(n) });
    expect(plan).toEqual({ kind: 'cold-boot' });
    expect(notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/512 MiB of RAM, not the 1024 MiB/) }]);
  });
});
