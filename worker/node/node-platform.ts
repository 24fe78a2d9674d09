// Builds a VmHost for Node: the image comes from a directory, v86.wasm from node_modules, v86 runs in-process.
import { readFile } from 'node:fs/promises';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_IMAGE_CACHE, type ImageSource } from '../vm/disk/image-cache.ts';
import type { DiskPlatform } from '../vm/disk/vm-disk.ts';
import { NodeFolder } from './node-folder.ts';
import { compressStateInNode } from './node-state-compressor.ts';
import { attachNetwork, type NetworkConfig, type V86NetworkLike } from '../vm/net/index.ts';
import type { EgressNotice } from '../vm/net/egress.ts';
import type { EgressDialer } from '../shared/egress-dialer.ts';
import { NodeTcpDialer, type NodeTcpDialerOptions } from '../proxy/node/tcp-dialer.ts';
import { VmHost, type VmHostPlatform } from '../vm/vm-host.ts';
import type { EmulatorTuning } from '../shared/contract.ts';
import { readTuningSettings } from '../shared/tuning-settings.ts';
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
   * Guest TCP the shim does not serve is relayed from this process with the relay policy (node:net, no
   * WebSocket); `policy.hostPorts` opens host.tabdock.internal:PORT. false: no egress (names resolve to the shim).
   */
  egress?: (NodeTcpDialerOptions & { onNotice?: (notice: EgressNotice) => void; dialer?: EgressDialer }) | false;
  /**
   * Where the disk's block stores and saved sessions live (boot with `disk: {store: 'session'}` to save there,
   * and `resume: {kind: 'saved-session'}` to resume). Default: a temporary directory removed when the host shuts down.
   */
  diskDirectory?: string;
  /** Replaces the network above: e.g. the browser worker's (net/relayed-network.ts) with BootOptions.network, in tests. */
  attachNetwork?: VmHostPlatform['attachNetwork'];
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
    zstdState: compressStateInNode,
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
    wasmBytes: async () => {
      const bytes = await readFile(v86WasmPath());
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    disk: nodeDiskPlatform(options.diskDirectory),
  };
  const network = options.network;
  const egress = options.egress;
  if (network !== false) {
    platform.attachNetwork = (emulator, _bootNetwork, sink) => {
      // A dialer the caller gave stays the caller's; one made here ends with the emulator.
      const ownDialer = egress === false || egress?.dialer ? undefined : new NodeTcpDialer(egress ?? {});
      const dialer = egress === false ? undefined : (egress?.dialer ?? ownDialer);
      const shim = attachNetwork(emulator as unknown as V86NetworkLike, {
        onLayerProgress: (progress) => sink.layerProgress(progress),
        onPlatformAdvice: (advice) => sink.notice({ code: 'image-platform', message: advice }),
        ...(network ?? {}),
        ...(dialer ? { egress: { dialer, ...(egress && egress.onNotice ? { onNotice: egress.onNotice } : {}) } } : {}),
      });
      return {
        detach() {
          shim.detach();
          ownDialer?.close();
        },
      };
    };
  }
  if (options.attachNetwork) platform.attachNetwork = options.attachNetwork;
  if (options.v86Options) platform.v86Options = options.v86Options;
  return new VmHost(platform);
}

/**
 * Emulator settings from the environment, for measurements in Node (npm run bench, npm run vm): the page's
 * `?jit...` parameters as TABDOCK_JIT_THRESHOLD, TABDOCK_JIT_SYNC (0 or 1), TABDOCK_JIT_MAX_PAGES and
 * TABDOCK_JIT_MAX_EXTRA_BLOCKS, and `?prefetch=` as TABDOCK_DISK_PREFETCH (0 or 1). A value that is not a
 * positive whole number (or 0/1) is an error, not ignored.
 */
export function tuningFromEnv(env: NodeJS.ProcessEnv = process.env): EmulatorTuning {
  return readTuningSettings({
    names: {
      jitThreshold: 'TABDOCK_JIT_THRESHOLD',
      jitMaxPages: 'TABDOCK_JIT_MAX_PAGES',
      jitMaxExtraBasicBlocks: 'TABDOCK_JIT_MAX_EXTRA_BLOCKS',
      jitSyncCompile: 'TABDOCK_JIT_SYNC',
      diskPrefetch: 'TABDOCK_DISK_PREFETCH',
    },
    read: (name) => env[name],
    invalid: (name, text, expected) => {
      throw new Error(`${name}=${text}: expected ${expected}`);
    },
  });
}
