// The guest image on both platforms: the manifest schema (vm-images writes public/vm/manifest.json), an
// AssetSource interface, and its fetch() implementation for the browser. Node's file implementation is in
// worker/node/file-assets.ts. Every failure names the file and says what to do (usually `npm run images`).
import { z } from 'zod';
import { VmFailure } from '../shared/contract.ts';
import { readBody } from './bytes.ts';

export const BUILD_COMMAND = 'npm run images';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const assetFileSchema = z.object({
  file: z.string().min(1),
  bytes: z.number().int().positive(),
  sha256: sha256Hex,
});

/** The boot snapshot entry worker/node/make-snapshot.ts adds to manifest.json (format: worker/vm/snapshot/). */
export const snapshotAssetSchema = assetFileSchema.extend({
  /** The manifest buildId the snapshot was taken on; a different one means the snapshot is stale. */
  buildId: z.string().min(1),
  memoryBytes: z.number().int().positive(),
  rawBytes: z.number().int().positive(),
  /**
   * The root disk chunks (of chunkBytes) a first docker run after restoring this snapshot read, in the order it
   * read them (make-snapshot.ts records them); the VM loads them in the background once the prompt is live.
   */
  prefetch: z
    .object({
      chunkBytes: z.number().int().positive(),
      chunks: z.array(z.number().int().nonnegative()),
      /** The commands whose reads were recorded. */
      recordedCommand: z.string(),
    })
    .optional(),
});

export const manifestSchema = z.object({
  formatVersion: z.literal(1),
  buildId: z.string().min(1),
  createdAt: z.string(),
  recommendedMemoryBytes: z.number().int().positive(),
  cmdline: z.string().min(1),
  files: z.object({
    bios: assetFileSchema,
    vgaBios: assetFileSchema,
    kernel: assetFileSchema,
    initrd: assetFileSchema,
    rootDisk: assetFileSchema,
  }),
  snapshot: snapshotAssetSchema.optional(),
  versions: z.record(z.string(), z.unknown()).optional(),
});

export type AssetFile = z.infer<typeof assetFileSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export type SnapshotAsset = z.infer<typeof snapshotAssetSchema>;
/** The files loaded whole into memory before boot (the root disk is read lazily instead). */
export type BootFileName = 'bios' | 'vgaBios' | 'kernel' | 'initrd';
export const BOOT_FILE_NAMES: readonly BootFileName[] = ['bios', 'vgaBios', 'kernel', 'initrd'];

/** What v86 gets for `hda`: a URL (browser, HTTP Range) or a file path (Node, read by ranges via fs). */
export interface DiskImageRef {
  url: string;
  sizeBytes: number;
  /**
   * Read the disk in aligned chunks of this size (the read unit of worker/vm/disk/image-cache.ts, which keeps a
   * bounded number of them): one HTTP range request per chunk missed.
   */
  chunkBytes?: number;
}

/** Default for DiskImageRef.chunkBytes: few enough requests at boot, little waste per request. */
export const DEFAULT_DISK_CHUNK_BYTES = 256 * 1024;

export type ProgressListener = (loadedBytes: number, totalBytes: number) => void;

/** Where the guest image comes from. One per platform; VmHost does not know which. */
export interface AssetSource {
  /** Human-readable location, used in messages. */
  readonly location: string;
  loadManifest(): Promise<Manifest>;
  /** The whole file, checked against the manifest's size and sha256. */
  loadFile(entry: AssetFile, onProgress?: ProgressListener): Promise<ArrayBuffer>;
  /** Checks the disk image exists with the expected size and can be read by ranges. */
  diskImage(entry: AssetFile): Promise<DiskImageRef>;
}

/** Validates parsed JSON; throws manifest-invalid listing every problem. */
export function parseManifest(json: unknown, location: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new VmFailure({
    code: 'manifest-invalid',
    message: `The VM image manifest at ${location} is not valid for this version of tabdock; rebuild the image with \`${BUILD_COMMAND}\`.`,
    detail: problems.join('\n'),
  });
}

export function missingAsset(what: string, location: string, detail?: string): VmFailure {
  return new VmFailure({
    code: 'asset-missing',
    message: `The VM image is not built or incomplete: ${what} is missing at ${location}. Build it with \`${BUILD_COMMAND}\`.`,
    ...(detail === undefined ? {} : { detail }),
  });
}

export function staleAsset(entry: AssetFile, problem: string): VmFailure {
  return new VmFailure({
    code: 'asset-hash-mismatch',
    message: `Stale VM image: ${entry.file} does not match its manifest (${problem}). Rebuild it with \`${BUILD_COMMAND}\`.`,
    detail: `expected ${entry.bytes} bytes, sha256 ${entry.sha256}`,
  });
}

export async function sha256HexOf(data: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as BufferSource);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Throws asset-hash-mismatch when size or sha256 differ from the manifest. */
export async function verifyAsset(entry: AssetFile, data: ArrayBuffer): Promise<void> {
  if (data.byteLength !== entry.bytes) throw staleAsset(entry, `${data.byteLength} bytes instead of ${entry.bytes}`);
  const actual = await sha256HexOf(data);
  if (actual !== entry.sha256) throw staleAsset(entry, `sha256 ${actual}`);
}

/** True when the bytes look like an HTML page (a dev server's or host's fallback for a missing file). */
export function looksLikeHtml(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 256)).trimStart().toLowerCase();
  return text.startsWith('<!doctype html') || text.startsWith('<html') || text.startsWith('<head');
}

function htmlInsteadOfBinary(url: string): VmFailure {
  return new VmFailure({
    code: 'asset-not-binary',
    message: `Got an HTML page where the VM file ${url} was expected: the server does not have it. Build the image with \`${BUILD_COMMAND}\` and serve public/vm.`,
    detail: url,
  });
}

function httpFailure(url: string, response: Response): VmFailure {
  if (response.status === 404) return missingAsset(url, url, `HTTP 404 ${response.statusText}`);
  return new VmFailure({
    code: 'asset-http',
    message: `Downloading ${url} failed with HTTP ${response.status}. Check that the server is up and reload.`,
    detail: `${response.status} ${response.statusText}`,
  });
}

/** Browser implementation: plain fetch() against a base URL (relative URLs resolve against the worker). */
export class FetchAssetSource implements AssetSource {
  readonly location: string;
  private readonly baseUrl: URL;

  constructor(
    assetBase: string,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
    private readonly diskChunkBytes: number | undefined = DEFAULT_DISK_CHUNK_BYTES,
  ) {
    const withSlash = assetBase.endsWith('/') ? assetBase : `${assetBase}/`;
    this.baseUrl = new URL(withSlash, globalThis.location?.href);
    this.location = this.baseUrl.href;
  }

  urlOf(file: string): string {
    return new URL(file, this.baseUrl).href;
  }

  async loadManifest(): Promise<Manifest> {
    const url = this.urlOf('manifest.json');
    const response = await this.request(url, { cache: 'no-cache' });
    if (response.status === 404) throw missingAsset('manifest.json', this.location);
    if (!response.ok) throw httpFailure(url, response);
    const text = await response.text();
    if (looksLikeHtml(new TextEncoder().encode(text))) throw htmlInsteadOfBinary(url);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new VmFailure({
        code: 'manifest-invalid',
        message: `The VM image manifest at ${url} is not JSON; rebuild the image with \`${BUILD_COMMAND}\`.`,
        detail: String(error),
      });
    }
    return parseManifest(json, url);
  }

  async loadFile(entry: AssetFile, onProgress?: ProgressListener): Promise<ArrayBuffer> {
    const url = this.urlOf(entry.file);
    const response = await this.request(url);
    if (!response.ok) throw httpFailure(url, response);
    const totalBytes = Number(response.headers.get('content-length')) || entry.bytes;
    const data = await readWholeBody(response, totalBytes, onProgress);
    if (looksLikeHtml(new Uint8Array(data, 0, Math.min(256, data.byteLength)))) throw htmlInsteadOfBinary(url);
    await verifyAsset(entry, data);
    return data;
  }

  async diskImage(entry: AssetFile): Promise<DiskImageRef> {
    const url = this.urlOf(entry.file);
    // v86 reads the disk with `Range` requests and gives up on a 200; check that here, where we can explain it.
    const response = await this.request(url, { headers: { Range: 'bytes=0-0' } });
    if (response.status !== 206) {
      if (!response.ok) throw httpFailure(url, response);
      await response.body?.cancel();
      const contentType = response.headers.get('content-type') ?? '';
      if (contentType.includes('text/html')) throw htmlInsteadOfBinary(url);
      throw new VmFailure({
        code: 'asset-http',
        message: `The server sent all of ${url} instead of the byte range asked for; serve public/vm from a server that supports HTTP Range (vite and most static hosts do).`,
        detail: `HTTP ${response.status}, expected 206`,
      });
    }
    await response.arrayBuffer();
    const totalBytes = Number(/\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1]);
    if (totalBytes !== entry.bytes) throw staleAsset(entry, `the server has ${totalBytes} bytes`);
    return this.diskChunkBytes === undefined ? { url, sizeBytes: entry.bytes } : { url, sizeBytes: entry.bytes, chunkBytes: this.diskChunkBytes };
  }

  private async request(url: string, init?: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(url, init);
    } catch (error) {
      throw new VmFailure({
        code: 'asset-http',
        message: `Could not reach ${url}; check your connection or that the dev server is running, then reload.`,
        detail: String(error),
      });
    }
  }
}

async function readWholeBody(response: Response, totalBytes: number, onProgress?: ProgressListener): Promise<ArrayBuffer> {
  const bytes = await readBody(response, { onBytes: (loadedBytes) => onProgress?.(loadedBytes, totalBytes) });
  if (!bytes) throw new Error('readBody gave up on a body without a size limit');
  return bytes.buffer;
}
