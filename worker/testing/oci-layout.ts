// Builds a tiny multi-arch OCI image layout on disk (one file per layer, linux/386 and linux/amd64), so the
// pull tests need neither the network nor the colleague-built test images. Node-only.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface BuiltImage {
  layoutDir: string;
  tag: string;
  /** Digest of the image index (what a tag resolves to). */
  indexDigest: string;
  indexBytes: Buffer;
  /** Per architecture ('386', 'amd64'): manifest digest and bytes, and the layer blob. */
  platforms: Record<string, { manifestDigest: string; manifestBytes: Buffer; layerDigest: string; layerBytes: Buffer }>;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A one-file ustar archive (POSIX.1-1988 header layout). */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => header.write(text.slice(0, length), offset, 'latin1');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  put('00000000000\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  put(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/** An image index with one small image per architecture (by default linux/386 and linux/amd64). */
export async function buildOciLayout(layoutDir: string, tag: string, payloadBytes = 300 * 1024, architectures: readonly string[] = ['386', 'amd64']): Promise<BuiltImage> {
  const writeBlob = await blobWriter(layoutDir);
  const platforms: BuiltImage['platforms'] = {};
  const indexEntries: unknown[] = [];
  for (const arch of architectures) {
    // Random content: compresses badly, so the layer is big enough to exercise slicing and Range.
    const tar = tarOneFile(`hello-${arch}.bin`, randomBytes(payloadBytes));
    const layerBytes = gzipSync(tar);
    const layerDigest = await writeBlob(layerBytes);
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    );
    const configDigest = await writeBlob(configBytes);
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_MEDIA_TYPE,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBytes.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerBytes.length }],
      }),
    );
    const manifestDigest = await writeBlob(manifestBytes);
    platforms[arch] = { manifestDigest, manifestBytes, layerDigest, layerBytes };
    indexEntries.push({
      mediaType: MANIFEST_MEDIA_TYPE,
      digest: manifestDigest,
      size: manifestBytes.length,
      platform: { architecture: arch, os: 'linux' },
    });
  }
  const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: indexEntries }));
  const indexDigest = await writeBlob(indexBytes);
  await writeLayoutIndex(layoutDir, tag, indexDigest, indexBytes.length);
  return { layoutDir, tag, indexDigest, indexBytes, platforms };
}

export interface ExtendedImage {
  layoutDir: string;
  tag: string;
  indexDigest: string;
  manifestDigest: string;
  /** Digest and size of the added layer, which no guest has seen before. */
  layerDigest: string;
  layerBytes: number;
}

/**
 * Copies a single-platform OCI layout (e.g. public/vm/test-images/busybox) and adds one layer holding `files`,
 * so a pull must download a layer the guest cannot already have.
 */
export async function extendOciLayout(
  baseLayoutDir: string,
  layoutDir: string,
  tag: string,
  files: Record<string, Buffer>,
): Promise<ExtendedImage> {
  const readBlob = (digest: string) => readFile(join(baseLayoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  const layoutIndex = JSON.parse(await readFile(join(baseLayoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  let top = JSON.parse((await readBlob(layoutIndex.manifests[0]?.digest ?? '')).toString()) as Record<string, unknown>;
  let platform: unknown = { architecture: '386', os: 'linux' };
  if (top.mediaType === INDEX_MEDIA_TYPE) {
    const entry = (top.manifests as Array<{ digest: string; platform?: unknown }>)[0];
    platform = entry?.platform ?? platform;
    top = JSON.parse((await readBlob(entry?.digest ?? '')).toString()) as Record<string, unknown>;
  }
  const manifest = top as { config: { digest: string }; layers: Array<{ digest: string; size: number; mediaType: string }> };
  const config = JSON.parse((await readBlob(manifest.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
  const writeBlob = await blobWriter(layoutDir);
  for (const layer of manifest.layers) await writeBlob(await readBlob(layer.digest));
  const tar = Buffer.concat(
    Object.entries(files).map(([name, content]) => tarOneFile(name, content).subarray(0, -1024)).concat([Buffer.alloc(1024)]),
  );
  const layer = gzipSync(tar);
  const layerDigest = await writeBlob(layer);
  config.rootfs.diff_ids.push(sha256(tar));
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await writeBlob(configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      ...manifest,
      config: { ...manifest.config, digest: configDigest, size: configBytes.length },
      layers: [...manifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = await writeBlob(manifestBytes);
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX_MEDIA_TYPE,
      manifests: [{ mediaType: MANIFEST_MEDIA_TYPE, digest: manifestDigest, size: manifestBytes.length, platform }],
    }),
  );
  const indexDigest = await writeBlob(indexBytes);
  await writeLayoutIndex(layoutDir, tag, indexDigest, indexBytes.length);
  return { layoutDir, tag, indexDigest, manifestDigest, layerDigest, layerBytes: layer.length };
}

/** The layout's marker file and its index.json, naming the image index `indexDigest` as `tag` (OCI image layout spec). */
async function writeLayoutIndex(layoutDir: string, tag: string, indexDigest: string, indexSizeBytes: number): Promise<void> {
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = { mediaType: INDEX_MEDIA_TYPE, digest: indexDigest, size: indexSizeBytes, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

/** Creates the layout's blob folder; the function it returns stores a blob under its digest and returns the digest. */
async function blobWriter(layoutDir: string): Promise<(bytes: Buffer) => Promise<string>> {
  const blobsDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  return async (bytes) => {
    const digest = sha256(bytes);
    await writeFile(join(blobsDir, digest.slice('sha256:'.length)), bytes);
    return digest;
  };
}
