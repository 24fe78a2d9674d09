// The Node AssetSource: the guest image is a directory (public/vm by default) read with fs. v86 itself reads
// the root disk by ranges from the path we hand it (its Node load_file uses fs.open + read at an offset).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VmFailure } from '../shared/contract.ts';
import {
  BUILD_COMMAND,
  missingAsset,
  parseManifest,
  staleAsset,
  verifyAsset,
  type AssetFile,
  type AssetSource,
  type DiskImageRef,
  type Manifest,
  type ProgressListener,
} from '../vm/assets.ts';

export interface FileAssetSourceOptions {
  /** Hash the whole root disk too (about a second for 400 MB); size is always checked. */
  verifyDiskHash?: boolean;
  /** The image cache's read unit for the disk (see DiskImageRef.chunkBytes); unset: the cache's default. */
  diskChunkBytes?: number;
}

export class FileAssetSource implements AssetSource {
  readonly location: string;

  constructor(directory: string, private readonly options: FileAssetSourceOptions = {}) {
    this.location = path.resolve(directory);
  }

  async loadManifest(): Promise<Manifest> {
    const manifestPath = path.join(this.location, 'manifest.json');
    const text = await this.read(manifestPath, 'manifest.json');
    let json: unknown;
    try {
      json = JSON.parse(text.toString('utf8'));
    } catch (error) {
      throw new VmFailure({
        code: 'manifest-invalid',
        message: `${manifestPath} is not JSON; rebuild the image with \`${BUILD_COMMAND}\`.`,
        detail: String(error),
      });
    }
    return parseManifest(json, manifestPath);
  }

  async loadFile(entry: AssetFile, onProgress?: ProgressListener): Promise<ArrayBuffer> {
    const data = await this.read(path.join(this.location, entry.file), entry.file);
    // Copy into a fresh ArrayBuffer: Buffers may share a pooled one, and v86 takes the whole buffer.
    const buffer = new Uint8Array(data).buffer;
    onProgress?.(buffer.byteLength, entry.bytes);
    await verifyAsset(entry, buffer);
    return buffer;
  }

  async diskImage(entry: AssetFile): Promise<DiskImageRef> {
    const diskPath = path.join(this.location, entry.file);
    let sizeBytes: number;
    try {
      sizeBytes = (await stat(diskPath)).size;
    } catch (error) {
      throw missingAsset(entry.file, this.location, String(error));
    }
    if (sizeBytes !== entry.bytes) throw staleAsset(entry, `${sizeBytes} bytes on disk`);
    if (this.options.verifyDiskHash) {
      const actual = await sha256OfFile(diskPath);
      if (actual !== entry.sha256) throw staleAsset(entry, `sha256 ${actual}`);
    }
    return this.options.diskChunkBytes === undefined ? { url: diskPath, sizeBytes } : { url: diskPath, sizeBytes, chunkBytes: this.options.diskChunkBytes };
  }

  private async read(filePath: string, name: string): Promise<Buffer> {
    try {
      return await readFile(filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingAsset(name, this.location);
      throw new VmFailure({
        code: 'asset-missing',
        message: `Could not read ${filePath}; check its permissions or rebuild the image with \`${BUILD_COMMAND}\`.`,
        detail: String(error),
      });
    }
  }
}

async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
