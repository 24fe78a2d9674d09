/// <reference types="vite/client" />
// The browser's VM worker: one VmHost per worker, so one VM per tab and nothing shared between tabs, exposed
// to the page with comlink. The page reaches it only through the VmApi in contract.ts.
import * as Comlink from 'comlink';
import wasmUrl from 'v86/build/v86.wasm?url';
import { FetchAssetSource } from './assets.ts';
import { MemoryFolder, type DiskFolder } from './disk/disk-folder.ts';
import { DEFAULT_IMAGE_CACHE, httpImageSource } from './disk/image-cache.ts';
import { openOpfsRoot } from './disk/opfs-folder.ts';
import { compressStateInWorker } from './snapshot/browser-state-compressor.ts';
import { attachRelayedNetwork } from './net/relayed-network.ts';
import { VmFailure, type VmApi } from '../shared/contract.ts';
import { VmHost } from './vm-host.ts';

/**
 * comlink's own throw handler sends only name, message and stack of an Error (comlink src/comlink.ts,
 * throwTransferHandler), which would strip a VmFailure's code and detail. Sending them too is enough: the
 * page's unchanged deserializer Object.assigns every field onto the Error it rethrows.
 */
const defaultThrowHandler = Comlink.transferHandlers.get('throw');
if (!defaultThrowHandler) throw new Error('comlink has no "throw" transfer handler; check the pinned comlink version');
Comlink.transferHandlers.set('throw', {
  canHandle: (value: unknown): value is unknown => defaultThrowHandler.canHandle(value),
  serialize(thrown) {
    const value = (thrown as { value?: unknown }).value;
    if (value instanceof Error && 'code' in value) {
      const { message, name, stack } = value;
      const { code, detail } = value as Error & { code: unknown; detail?: unknown };
      return [{ isError: true, value: { message, name, stack, code, detail } }, []];
    }
    return defaultThrowHandler.serialize(thrown);
  },
  deserialize: (serialized) => defaultThrowHandler.deserialize(serialized),
});

/**
 * The guest disk's written blocks live in the origin-private file system, through synchronous access handles
 * that only a dedicated worker gets. A browser without it (some private modes) keeps them in memory: the VM
 * works, nothing is saved, and saving says so.
 */
async function diskRoot(): Promise<DiskFolder> {
  try {
    return await openOpfsRoot();
  } catch (error) {
    console.warn('tabdock: no origin-private file system; the disk stays in memory', error);
    return new MemoryFolder('memory');
  }
}

const host = new VmHost({
  assets: (assetBase) => new FetchAssetSource(assetBase),
  disk: {
    root: diskRoot,
    imageSource: (ref) => httpImageSource(ref.url, ref.sizeBytes),
    imageCache: DEFAULT_IMAGE_CACHE,
    locks: self.navigator.locks,
    zstdState: compressStateInWorker,
  },
  // Vite emits v86.wasm as a hashed asset and gives its URL relative to this worker's own URL.
  wasmPath: new URL(wasmUrl, import.meta.url).href,
  wasmBytes: () => fetch(new URL(wasmUrl, import.meta.url)).then((response) => response.arrayBuffer()),
  browserWorker: true,
  // The shim and the page's Wisp relay, with the page's complete network settings (boot() below insists).
  attachNetwork: (emulator, options, sink) => {
    if (!options) throw new Error('BootOptions.network is missing');
    return attachRelayedNetwork(emulator, options, sink);
  },
});

/**
 * Exactly the VmApi, spelled out so the compiler checks what the page can call. Session files cross as Blobs
 * (disk-backed files of the origin-private file system), never as buffers of their bytes.
 */
const api: VmApi = {
  subscribe: (listener) => host.subscribe(listener),
  unsubscribe: (id) => host.unsubscribe(id),
  boot: (options) =>
    options.network
      ? host.boot(options)
      : Promise.reject(
          new VmFailure({
            code: 'internal',
            message: 'The page started the VM without its network settings (BootOptions.network). Reload the page; report it if it repeats.',
          }),
        ),
  sendInput: (data) => host.sendInput(data),
  resize: (cols, rows) => host.resize(cols, rows),
  exec: (command, options) => host.exec(command, options),
  saveState: () => host.saveState(),
  exportSession: () => host.exportSession(),
  exportDamagedSession: (id) => host.exportDamagedSession(id),
  forwardGuestHttp: (request, reply) => host.forwardGuestHttp(request, reply),
  engineQuery: (query) => host.engineQuery(query),
  engineAction: (action) => host.engineAction(action),
  diagnostics: () => host.diagnostics(),
  watchEngine: (on) => host.watchEngine(on),
  followEngineLogs: (containerId, reply) => host.followEngineLogs(containerId, reply),
  shutdown: () => host.shutdown(),
};

Comlink.expose(api);
