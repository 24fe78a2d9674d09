// Unit tests for manifest validation and the browser asset source, served by real Response objects.
import { describe, expect, it } from 'vitest';
import { FetchAssetSource, looksLikeHtml, parseManifest, sha256HexOf, type Manifest } from './assets.ts';

const enc = new TextEncoder();

async function entryFor(file: string, data: Uint8Array) {
  return { file, bytes: data.length, sha256: await sha256HexOf(data) };
}

async function sampleImage() {
  const contents: Record<string, Uint8Array> = {
    'bios.bin': enc.encode('BIOS'.repeat(100)),
    'vgabios.bin': enc.encode('VGA!'.repeat(50)),
    'bzImage': enc.encode('KERNEL'.repeat(1000)),
    'initrd.img': enc.encode('INITRD'.repeat(500)),
    'root-abc123.img': new Uint8Array(4096).fill(7),
  };
  const manifest: Manifest = {
    formatVersion: 1,
    buildId: 'test',
    createdAt: '2026-11-23T00:00:00Z',
    recommendedMemoryBytes: 1024 * 1024 * 1024,
    cmdline: 'console=ttyS0',
    files: {
      bios: await entryFor('bios.bin', contents['bios.bin']!),
      vgaBios: await entryFor('vgabios.bin', contents['vgabios.bin']!),
      kernel: await entryFor('bzImage', contents['bzImage']!),
      initrd: await entryFor('initrd.img', contents['initrd.img']!),
      rootDisk: await entryFor('root-abc123.img', contents['root-abc123.img']!),
    },
    versions: { v86: '0.5.462' },
  };
  return { manifest, contents };
}

/** A tiny static server as a fetch function: 404 for unknown files, HTML when `spa` is set, Range support. */
function serve(files: Record<string, Uint8Array | string>, options: { spa?: boolean; ranges?: boolean } = {}): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const name = url.pathname.split('/').pop()!;
    const body = files[name];
    if (body === undefined) {
      return options.spa
        ? new Response('<!DOCTYPE html><html><body>app</body></html>', { headers: { 'content-type': 'text/html' } })
        : new Response('not found', { status: 404, statusText: 'Not Found' });
    }
    const bytes = typeof body === 'string' ? enc.encode(body) : body;
    const range = new Headers(init?.headers).get('range');
    if (range && options.ranges !== false) {
      const [, start, end] = /bytes=(\d+)-(\d+)/.exec(range)!;
      return new Response(bytes.slice(Number(start), Number(end) + 1) as Uint8Array<ArrayBuffer>, {
        status: 206,
        headers: { 'content-range': `bytes ${start}-${end}/${bytes.length}` },
      });
    }
    return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.length) } });
  };
}

describe('parseManifest', () => {
  it('accepts a well-formed manifest', async () => {
    const { manifest } = await sampleImage();
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)), 'x')).toEqual(manifest);
  });

  it('lists every problem and says how to rebuild', () => {
    const broken = { formatVersion: 2, files: { bios: { file: 'bios.bin', bytes: -1, sha256: 'nope' } } };
    try {
      parseManifest(broken, '/vm/manifest.json');
      expect.unreachable('parseManifest accepted a broken manifest');
    } catch (error) {
      expect(error).toMatchObject({ code: 'manifest-invalid', message: expect.stringContaining('npm run images') });
      const detail = (error as { detail: string }).detail;
      expect(detail).toContain('formatVersion');
      expect(detail).toContain('files.bios.bytes');
      expect(detail).toContain('files.kernel');
    }
  });
});

describe('FetchAssetSource', () => {
  it('loads and verifies files, reporting progress', async () => {
    const { manifest, contents } = await sampleImage();
    const source = new FetchAssetSource('http://host/vm', serve({ ...contents, 'manifest.json': JSON.stringify(manifest) }));
    const loaded = await source.loadManifest();
    const progress: number[] = [];
    const kernel = await source.loadFile(loaded.files.kernel, (bytes) => progress.push(bytes));
    expect(new Uint8Array(kernel)).toEqual(contents['bzImage']);
    expect(progress.at(-1)).toBe(contents['bzImage']!.length);
    await expect(source.diskImage(loaded.files.rootDisk)).resolves.toEqual({
      url: 'http://host/vm/root-abc123.img',
      sizeBytes: 4096,
      chunkBytes: 256 * 1024,
    });
  });

  it('says the image is missing and how to build it when manifest.json is 404', async () => {
    const source = new FetchAssetSource('http://host/vm/', serve({}));
    await expect(source.loadManifest()).rejects.toMatchObject({
      code: 'asset-missing',
      message: expect.stringMatching(/manifest\.json.*npm run images/),
    });
  });

  it('recognises an HTML fallback page where a binary was expected', async () => {
    const { manifest, contents } = await sampleImage();
    const { bzImage: _dropped, ...withoutKernel } = contents;
    const source = new FetchAssetSource('http://host/vm/', serve({ ...withoutKernel, 'manifest.json': JSON.stringify(manifest) }, { spa: true }));
    await expect(source.loadFile(manifest.files.kernel)).rejects.toMatchObject({ code: 'asset-not-binary' });
    expect(looksLikeHtml(enc.encode('  <!DOCTYPE html>'))).toBe(true);
    expect(looksLikeHtml(contents['bzImage']!)).toBe(false);
  });

  it('calls a file with the wrong content a stale image', async () => {
    const { manifest, contents } = await sampleImage();
    const tampered = contents['initrd.img']!.slice();
    tampered[0] = 0;
    const source = new FetchAssetSource('http://host/vm/', serve({ ...contents, 'initrd.img': tampered }));
    await expect(source.loadFile(manifest.files.initrd)).rejects.toMatchObject({
      code: 'asset-hash-mismatch',
      message: expect.stringMatching(/Stale.*initrd\.img.*npm run images/),
    });
  });

  it('rejects a server without Range support and a disk of the wrong size', async () => {
    const { manifest, contents } = await sampleImage();
    const noRanges = new FetchAssetSource('http://host/vm/', serve(contents, { ranges: false }));
    await expect(noRanges.diskImage(manifest.files.rootDisk)).rejects.toMatchObject({ code: 'asset-http', message: expect.stringContaining('Range') });
    const shorter = new FetchAssetSource('http://host/vm/', serve({ ...contents, 'root-abc123.img': new Uint8Array(100) }));
    await expect(shorter.diskImage(manifest.files.rootDisk)).rejects.toMatchObject({ code: 'asset-hash-mismatch' });
  });

  it('reports HTTP errors other than 404 with the status', async () => {
    const source = new FetchAssetSource('http://host/vm/', async () => new Response('boom', { status: 503, statusText: 'Service Unavailable' }));
    await expect(source.loadManifest()).rejects.toMatchObject({ code: 'asset-http', message: expect.stringContaining('503') });
  });
});
