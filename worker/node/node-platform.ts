// Builds a VmHost for Node: the image comes from a directory, v86.wasm from node_modules, v86 runs in-process.
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_IMAGE_CACHE, type ImageSource } from '../disk/image-cache.ts';
import type { DiskPlatform } from '../disk/vm-disk.ts';
import { NodeFolder } from './node-folder.ts';
import { attachNetwork, type NetworkConfig, type V86NetworkLike } from '../net/index.ts';
import { VmHost, type VmHostPlatform } from '../vm-host.ts';
import { FileAssetSource, type FileAssetSourceOptions } from './file-assets.ts';

/** Default image directory, relative to the repository root (where npm scripts run). */
export const DEFAULT_ASSET_DIR = 'public/vm';

export function v86WasmPath(): string {
  // The package's main is build/libv86.mjs; v86.wasm sits beside it.
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('v86')), 'v86.wasm');
}

export interface NodeVmHostOptions extends FileAssetSourceOptions, Pick<VmHostPlatform, 'v86Options'> {
  /** The network shim's settings; Node needs no CORS proxy, so by default the guest's HTTP is fetched directly. */
  network?: NetworkConfig | false;
  /**
   * Where the disk's block stores and saved sessions live (boot with `disk: {store: 'session'}` to resume
   * and save there). Default: a temporary directory removed when the host shuts down.
   */
  diskDirectory?: string;
}

/** The root disk image read by ranges from its file (synchronous reads of a local file are the cheapest). */
export function fileImageSource(filePath: string, sizeBytes: number): ImageSource & { close(): void } {
  let fd: number | undefined;
  return {
    sizeBytes,
    location: filePath,
    async read(start, length) {
      fd ??= openSync(filePath, 'r');
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const count = readSync(fd, bytes, done, length - done, start + done);
        if (count === 0) throw new Error(`${filePath} ends at ${start + done}, before ${start + length}`);
        done += count;
      }
      return bytes;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function nodeDiskPlatform(directory: string | undefined): DiskPlatform {
  let temporary: string | undefined;
  const images: { close(): void }[] = [];
  return {
    async root() {
      if (directory) return new NodeFolder(directory);
      temporary ??= mkdtempSync(path.join(tmpdir(), 'tabdock-disk-'));
      return new NodeFolder(temporary);
    },
    imageSource(ref) {
      const source = fileImageSource(ref.url, ref.sizeBytes);
      images.push(source);
      return source;
    },
    imageCache: DEFAULT_IMAGE_CACHE,
    async dispose() {
      for (const image of images.splice(0)) image.close();
      if (temporary) rmSync(temporary, { recursive: true, force: true });
      temporary = undefined;
    },
  };
}

export function createNodeVmHost(options: NodeVmHostOptions = {}): VmHost {
  const platform: VmHostPlatform = {
    assets: (assetBase) => new FileAssetSource(assetBase, options),
    wasmPath: v86WasmPath(),
    disk: nodeDiskPlatform(options.diskDirectory),
  };
  const network = options.network;
  if (network !== false) {
    platform.onEmulatorLoaded = (emulator) => {
      attachNetwork(emulator as unknown as V86NetworkLike, network ?? {});
    };
  }
  if (options.v86Options) platform.v86Options = options.v86Options;
  return new VmHost(platform);
}
