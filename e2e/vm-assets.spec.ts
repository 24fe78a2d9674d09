// How the preview server hands out the guest image: exact HTTP Range answers (v86 reads the disk lazily by
// ranges), a fresh manifest, and cacheable content-hashed files. Asked over HTTP like the browser does.
import { expect, test } from '@playwright/test';

interface ManifestFiles {
  files: Record<string, { file: string; bytes: number }>;
}

test('vm/ files are served with exact byte ranges and the right caching', async ({ request }) => {
  const manifestResponse = await request.get('./vm/manifest.json');
  expect(manifestResponse.status()).toBe(200);
  expect(manifestResponse.headers()['cache-control']).toBe('no-cache');
  const manifest = (await manifestResponse.json()) as ManifestFiles;
  const disk = manifest.files['rootDisk'];
  if (!disk) throw new Error('manifest.json names no rootDisk; rebuild the image with `npm run images`');
  const diskUrl = `./vm/${disk.file}`;

  // A one-byte probe: Vite's own static server would send the whole disk here.
  const first = await request.get(diskUrl, { headers: { Range: 'bytes=0-0' } });
  expect(first.status()).toBe(206);
  expect(first.headers()['content-range']).toBe(`bytes 0-0/${disk.bytes}`);
  expect((await first.body()).byteLength).toBe(1);
  expect(first.headers()['cache-control']).toContain('immutable');
  // A strong validator, or Chromium keeps no 206 answer in its HTTP cache and a returning visit reads the disk again.
  expect(first.headers()['etag']).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
  expect(Date.parse(first.headers()['last-modified'] ?? '')).not.toBeNaN();

  // The ext4 superblock sits at byte 1024; its magic 0xEF53 at offset 0x38 of it (ext4 disk layout).
  const superblock = await request.get(diskUrl, { headers: { Range: 'bytes=1024-2047' } });
  expect(superblock.status()).toBe(206);
  const bytes = await superblock.body();
  expect(bytes.byteLength).toBe(1024);
  expect(bytes.readUInt16LE(0x38)).toBe(0xef53);

  const tail = await request.get(diskUrl, { headers: { Range: `bytes=${disk.bytes - 10}-` } });
  expect(tail.status()).toBe(206);
  expect(tail.headers()['content-range']).toBe(`bytes ${disk.bytes - 10}-${disk.bytes - 1}/${disk.bytes}`);

  const beyond = await request.get(diskUrl, { headers: { Range: `bytes=${disk.bytes}-` } });
  expect(beyond.status()).toBe(416);
});
