// What a platform gives the VM host (worker/vm/vm-host.ts): the image, v86 and its wasm, the guest's network and
// the disk's storage. The browser worker (worker.ts) and the Node harness (worker/node/node-platform.ts) each make one.
import type { V86 } from 'v86';
import type { NetworkOptions } from '../shared/contract.ts';
import type { AssetSource } from './assets.ts';
import type { DiskPlatform } from './disk/vm-disk.ts';
import type { EmulatorPlatform } from './emulator-start.ts';
import type { NetworkAttachment, NetworkSink } from './net/index.ts';

export interface VmHostPlatform extends EmulatorPlatform {
  /** The asset source for BootOptions.assetBase (fetch in the browser, files in Node). */
  assets(assetBase: string): AssetSource;
  /**
   * Connects the guest's network (worker/vm/net/) to a new emulator at its 'emulator-loaded', long before the
   * guest brings it up, with BootOptions.network (the page's; the Node harness has its own). VmHost keeps the
   * attachment and detaches it when it drops that emulator or shuts down.
   */
  attachNetwork?(emulator: V86, options: NetworkOptions | undefined, sink: NetworkSink): NetworkAttachment;
  /** The guest disk's block store and saved sessions (worker/vm/disk/). */
  disk: DiskPlatform;
}
