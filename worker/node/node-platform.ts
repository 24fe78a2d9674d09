// Builds a VmHost for Node: the image comes from a directory, v86.wasm from node_modules, v86 runs in-process.
import { createRequire } from 'node:module';
import path from 'node:path';
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
}

export function createNodeVmHost(options: NodeVmHostOptions = {}): VmHost {
  let host: VmHost | undefined;
  const platform: VmHostPlatform = {
    assets: (assetBase) => new FileAssetSource(assetBase, options),
    wasmPath: v86WasmPath(),
  };
  const network = options.network;
  if (network !== false) {
    platform.onEmulatorLoaded = (emulator) => {
      attachNetwork(emulator as unknown as V86NetworkLike, { onLayerProgress: (progress) => host?.layerProgress(progress), ...network });
    };
  }
  if (options.v86Options) platform.v86Options = options.v86Options;
  host = new VmHost(platform);
  return host;
}
