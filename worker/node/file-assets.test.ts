// Unit tests for the Node file asset source against a real temporary directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256HexOf } from '../vm/assets.ts';
import { FileAssetSource } from './file-assets.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tabdock-assets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeImage(disk: Uint8Array) {
  const small = new TextEncoder().encode('x'.repeat(64));
  const entry = async (file: string, data: Uint8Array) => {
    await writeFile(path.join(dir, file), data);
    return { file, bytes: data.length, sha256: await sha256HexOf(data) };
  };
  const manifest = {
    formatVersion: 1,
    buildId: 'b',
    createdAt: 'now',
    recommendedMemoryBytes: 512 * 1024 * 1024,
    cmdline: 'console=ttyS0',
    files: {
      bios: await entry('bios.bin', small),
      vgaBios: await entry('vgabios.bin', small),
      kernel: await entry('bzImage', small),
      initrd: await entry('initrd.img', small),
      rootDisk: await entry('root.img', disk),
    },
  };
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

describe('FileAssetSource', () => {
  it('names the missing manifest and the build command', async () => {
    await expect(new FileAssetSource(dir).loadManifest()).rejects.toMatchObject({
      code: 'asset-missing',
      message: expect.stringMatching(/manifest\.json.*npm run images/),
    });
  });

  it('loads verified files and returns the disk path with its size', async () => {
    await writeImage(new Uint8Array(1024));
    const source = new FileAssetSource(dir, { verifyDiskHash: true });
    const manifest = await source.loadManifest();
    expect((await source.loadFile(manifest.files.kernel)).byteLength).toBe(64);
    await expect(source.diskImage(manifest.files.rootDisk)).resolves.toEqual({ url: path.join(dir, 'root.img'), sizeBytes: 1024 });
  });

  it('calls a changed disk a stale image', async () => {
    await writeImage(new Uint8Array(1024));
    await writeFile(path.join(dir, 'root.img'), new Uint8Array(1024).fill(1));
    const source = new FileAssetSource(dir, { verifyDiskHash: true });
    const manifest = await source.loadManifest();
    await expect(source.diskImage(manifest.files.rootDisk)).rejects.toMatchObject({ code: 'asset-hash-mismatch' });
  });

  it('names a missing kernel', async () => {
    const manifest = await writeImage(new Uint8Array(16));
    await rm(path.join(dir, 'bzImage'));
    await expect(new FileAssetSource(dir).loadFile(manifest.files.kernel)).rejects.toMatchObject({
      code: 'asset-missing',
      message: expect.stringContaining('bzImage'),
    });
  });
});
