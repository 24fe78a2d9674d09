// Where a boot starts and where it goes next, for each resume choice, over an in-memory image and a fake disk
// side: every state is checked before v86 sees it, and a bad one is a notice and the next source, never a failure.
import { describe, expect, it } from 'vitest';
import { sha256HexOf, type AssetFile, type AssetSource, type Manifest } from '../assets.ts';
import type { ResumeFrom, VmNotice } from '../../shared/contract.ts';
import { gzip } from './compression.ts';
import { resumeChoice, StartPlanner, type SessionPlans, type StartPlan } from './start-plan.ts';
import { encodeStateFile, type StateHeader } from './state-file.ts';

const DISK_SHA = 'a'.repeat(64);
const sessionMeta: Omit<StateHeader, 'formatVersion' | 'payloadBytes' | 'payloadSha256'> = {
  kind: 'session',
  buildId: 'build-1',
  rootDiskSha256: DISK_SHA,
  memoryBytes: 512 * 1024 * 1024,
  createdAt: '2026-11-23T12:00:00.000Z',
  compression: 'none',
  rawBytes: 4096,
};
const snapshotMeta = { ...sessionMeta, kind: 'boot-snapshot' as const, compression: 'zstd' as const };

function payloadOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** An in-memory image: the asset source is a dependency of the planner, not the thing under test. */
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

async function imageWithSnapshot(overrides: { snapshotBuildId?: string; servedBytes?: Uint8Array } = {}) {
  const snapshot = await encodeStateFile(snapshotMeta, payloadOf(256));
  const file = { file: 'x', bytes: 1, sha256: DISK_SHA };
  const manifest: Manifest = {
    formatVersion: 1,
    buildId: 'build-1',
    createdAt: '',
    recommendedMemoryBytes: 512 * 1024 * 1024,
    cmdline: 'console=ttyS0',
    files: { bios: file, vgaBios: file, kernel: file, initrd: file, rootDisk: file },
    snapshot: { file: 'snapshot.state', bytes: snapshot.length, sha256: await sha256HexOf(snapshot), buildId: overrides.snapshotBuildId ?? 'build-1', memoryBytes: 512 * 1024 * 1024, rawBytes: 4096 },
  };
  return { manifest, source: memorySource({ 'snapshot.state': overrides.servedBytes ?? snapshot }), snapshot };
}

const folderSession: StartPlan = { kind: 'restore', from: 'session', header: { kind: 'session' } as StateHeader, state: new ArrayBuffer(1) };

/** The disk side, faked: what it was asked, and what it answers. */
function fakeSessions(saved: Awaited<ReturnType<SessionPlans['planSaved']>>, file?: Awaited<ReturnType<SessionPlans['planFile']>>) {
  const asked: string[] = [];
  const sessions: SessionPlans = {
    planFile: async (blob) => {
      asked.push(`file of ${blob.size} bytes`);
      return file;
    },
    planSaved: async () => {
      asked.push('saved');
      return saved;
    },
  };
  return { sessions, asked };
}

async function planner(resume: ResumeFrom, options: { sessions?: SessionPlans; memoryBytes?: number; image?: Awaited<ReturnType<typeof imageWithSnapshot>> } = {}) {
  const { manifest, source } = options.image ?? (await imageWithSnapshot());
  const notices: VmNotice[] = [];
  const made = new StartPlanner({ source, manifest, resume, memoryBytes: options.memoryBytes, sessions: options.sessions ?? fakeSessions('none').sessions, notify: (notice) => notices.push(notice) });
  return { planner: made, notices };
}

describe('StartPlanner: the boot snapshot', () => {
  it('restores a matching boot snapshot without a notice, and cold-boots after it', async () => {
    const { planner: p, notices } = await planner({ kind: 'boot-snapshot' });
    const first = await p.first();
    expect(first).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    expect(notices).toEqual([]);
    if (first.kind === 'restore') expect(await p.next(first)).toEqual({ kind: 'cold-boot' });
  });

  it('cold-boots with a notice when the snapshot is from an older build, cut short, or of another RAM size', async () => {
    const older = await planner({ kind: 'boot-snapshot' }, { image: await imageWithSnapshot({ snapshotBuildId: 'build-0' }) });
    expect(await older.planner.first()).toEqual({ kind: 'cold-boot' });
    expect(older.notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/older build/) }]);
    const image = await imageWithSnapshot();
    const cut = await planner({ kind: 'boot-snapshot' }, { image: await imageWithSnapshot({ servedBytes: image.snapshot.subarray(0, 100) }) });
    expect(await cut.planner.first()).toEqual({ kind: 'cold-boot' });
    expect(cut.notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/downloaded intact/) }]);
    const bigger = await planner({ kind: 'boot-snapshot' }, { memoryBytes: 1024 * 1024 * 1024 });
    expect(await bigger.planner.first()).toEqual({ kind: 'cold-boot' });
    expect(bigger.notices).toMatchObject([{ code: 'snapshot-unusable', message: expect.stringMatching(/512 MiB of RAM, not the 1024 MiB/) }]);
  });

  it('boots the kernel when asked, without looking at the snapshot or a notice', async () => {
    const { planner: p, notices } = await planner({ kind: 'kernel' });
    expect(await p.first()).toEqual({ kind: 'cold-boot' });
    expect(notices).toEqual([]);
  });
});

describe('StartPlanner: sessions', () => {
  it('resumes a format-1 file itself (gzip payload) and a format-2 file through the disk side', async () => {
    const format1 = await encodeStateFile({ ...sessionMeta, compression: 'gzip' }, await gzip(payloadOf(512)));
    const fromFormat1 = await (await planner({ kind: 'file', file: new Blob([format1 as BlobPart]) })).planner.first();
    expect(fromFormat1).toMatchObject({ kind: 'restore', from: 'session' });
    if (fromFormat1.kind === 'restore') expect(new Uint8Array(fromFormat1.state)).toEqual(payloadOf(512));
    const disk = fakeSessions('none', folderSession);
    const format2 = new Blob(['TDSESSION2 not format 1']);
    expect(await (await planner({ kind: 'file', file: format2 }, { sessions: disk.sessions })).planner.first()).toBe(folderSession);
    expect(disk.asked).toEqual([`file of ${format2.size} bytes`]);
  });

  it('falls back to the boot snapshot with a notice when a format-1 file is corrupt, or to the kernel when asked', async () => {
    const corrupt = await encodeStateFile(sessionMeta, payloadOf(512));
    corrupt[corrupt.length - 1]! ^= 0xff;
    const file = new Blob([corrupt as BlobPart]);
    const toSnapshot = await planner({ kind: 'file', file });
    expect(await toSnapshot.planner.first()).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    expect(toSnapshot.notices).toMatchObject([{ code: 'session-unusable', message: expect.stringMatching(/checksum.*kept so you can download it/) }]);
    expect(await (await planner({ kind: 'file', file, otherwise: 'kernel' })).planner.first()).toEqual({ kind: 'cold-boot' });
  });

  it("resumes this tab's saved session; without a save, the page's format-1 one; with a damaged save, neither", async () => {
    const legacy = new Blob([(await encodeStateFile(sessionMeta, payloadOf(64))) as BlobPart]);
    const saved = fakeSessions(folderSession);
    expect(await (await planner({ kind: 'saved-session', legacy }, { sessions: saved.sessions })).planner.first()).toBe(folderSession);
    expect(await (await planner({ kind: 'saved-session', legacy })).planner.first()).toMatchObject({ kind: 'restore', from: 'session', header: { kind: 'session' } });
    const damaged = fakeSessions(undefined);
    expect(await (await planner({ kind: 'saved-session', legacy }, { sessions: damaged.sessions })).planner.first()).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    expect(await (await planner({ kind: 'saved-session' })).planner.first()).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
  });

  it('after a session that did not come back: the boot snapshot, or the kernel when asked', async () => {
    const { planner: p } = await planner({ kind: 'saved-session' }, { sessions: fakeSessions(folderSession).sessions });
    const failed = await p.first();
    if (failed.kind !== 'restore') throw new Error('expected a restore');
    expect(await p.next(failed)).toMatchObject({ kind: 'restore', from: 'boot-snapshot' });
    const { planner: cold } = await planner({ kind: 'saved-session', otherwise: 'kernel' }, { sessions: fakeSessions(folderSession).sessions });
    expect(await cold.next(failed)).toEqual({ kind: 'cold-boot' });
  });
});

describe('resumeChoice', () => {
  it('defaults to the boot snapshot and lets only the owner of the saved session resume it', () => {
    expect(resumeChoice({})).toEqual({ kind: 'boot-snapshot' });
    expect(resumeChoice({ resume: { kind: 'saved-session' }, disk: { store: 'session' } })).toEqual({ kind: 'saved-session' });
    expect(() => resumeChoice({ resume: { kind: 'saved-session' }, disk: { store: 'scratch' } })).toThrow(/needs disk \{store: 'session'\}/);
  });
});
