// Unit tests for manifest-check.ts on a small guest folder made here (real files, real hashes), so they run
// without a built image; each test breaks one property the browser relies on and expects that problem.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkGuestFolder, checkManifestShape, MANIFEST_FILE_ROLES, type GuestManifest } from './manifest-check.ts';

let dir = '';
let manifest: GuestManifest;

async function writeManifest(): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabdock-manifest-'));
  const files = {} as GuestManifest['files'];
  for (const role of MANIFEST_FILE_ROLES) {
    const content = Buffer.from(`content of ${role}\n`);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const file = `${role}.${sha256.slice(0, 8)}.bin`;
    await writeFile(join(dir, file), content);
    files[role] = { file, bytes: content.length, sha256 };
  }
  manifest = {
    formatVersion: 1,
    buildId: 'a'.repeat(64),
    createdAt: '2026-11-23T12:00:00Z',
    recommendedMemoryBytes: 1073741824,
    cmdline: 'console=ttyS0,115200 quiet root=/dev/sda',
    files,
    versions: { 'docker.io': '20.10.24+dfsg1-1+deb12u1+b6' },
  };
  await writeManifest();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkGuestFolder', () => {
  it('accepts a folder whose files match the manifest', async () => {
    expect(await checkGuestFolder(dir)).toEqual([]);
  });

  it('reports a missing manifest with a hint to build', async () => {
    await rm(join(dir, 'manifest.json'));
    const problems = await checkGuestFolder(dir);
    expect(problems.map((p) => p.code)).toEqual(['manifest-unreadable']);
    expect(problems[0]?.message).toContain('npm run images');
  });

  it('reports a missing file', async () => {
    await rm(join(dir, manifest.files.kernel.file));
    expect(await checkGuestFolder(dir)).toMatchObject([{ code: 'file-missing', role: 'kernel' }]);
  });

  it('reports a size and hash mismatch', async () => {
    await truncate(join(dir, manifest.files.rootDisk.file), 3);
    const codes = (await checkGuestFolder(dir)).map((p) => p.code);
    expect(codes).toEqual(['file-size', 'file-hash']);
  });

  it('reports a name without its content hash', async () => {
    const entry = manifest.files.initrd;
    const plain = 'initrd.img';
    await writeFile(join(dir, plain), `content of initrd\n`);
    manifest.files.initrd = { ...entry, file: plain };
    await writeManifest();
    expect(await checkGuestFolder(dir)).toMatchObject([{ code: 'file-name', role: 'initrd' }]);
  });
});

describe('checkManifestShape', () => {
  it('names each malformed field', () => {
    const broken = { ...manifest, formatVersion: 2, cmdline: 'quiet', files: { ...manifest.files, bios: { file: 'x' } } };
    const fields = checkManifestShape(broken).map((p) => (p.code === 'manifest-field' ? p.field : p.code));
    expect(fields).toEqual(['formatVersion', 'cmdline', 'files.bios']);
  });
});
