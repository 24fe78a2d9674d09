// DiskFolder over the origin-private file system, for the VM worker: block files through
// createSyncAccessHandle() (dedicated workers only; it also locks the file against a second opener), other
// files through createWritable(), whose swap file replaces the target only on close() (File System standard).
import { StorageFullError, type BlockFile } from './block-file.ts';
import type { DiskFolder } from './disk-folder.ts';

/** The app's folder in OPFS (the page keeps its older session files there too). */
export const OPFS_ROOT_FOLDER = 'tabdock';

export async function openOpfsRoot(): Promise<DiskFolder> {
  const root = await navigator.storage.getDirectory();
  return new OpfsFolder(await root.getDirectoryHandle(OPFS_ROOT_FOLDER, { create: true }));
}

/** How long to wait for a file another worker (a closing tab, the VM being replaced) still has open. */
const OPEN_RETRY_DELAYS_MS = [100, 250, 500, 1000, 2000];

export class OpfsFolder implements DiskFolder {
  constructor(private readonly handle: FileSystemDirectoryHandle) {}

  get name(): string {
    return this.handle.name;
  }

  async openBlockFile(name: string): Promise<BlockFile> {
    const file = await this.handle.getFileHandle(name, { create: true });
    for (const delayMs of [0, ...OPEN_RETRY_DELAYS_MS]) {
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      try {
        return syncAccessBlockFile(await file.createSyncAccessHandle());
      } catch (error) {
        // NoModificationAllowedError: another handle is open (a worker that is going away).
        if (!(error instanceof DOMException && error.name === 'NoModificationAllowedError') || delayMs === OPEN_RETRY_DELAYS_MS.at(-1)) throw error;
      }
    }
    throw new Error('unreachable');
  }

  async readBlob(name: string): Promise<Blob | undefined> {
    try {
      return await (await this.handle.getFileHandle(name)).getFile();
    } catch (error) {
      if (error instanceof DOMException && error.name === 'NotFoundError') return undefined;
      throw error;
    }
  }

  async writeAtomic(name: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    const file = await this.handle.getFileHandle(name, { create: true });
    const writable = await file.createWritable();
    try {
      for await (const part of parts) await writable.write(part as Uint8Array<ArrayBuffer>);
      await writable.close();
    } catch (error) {
      // Drop the swap file; the target keeps its old content. The write's own error is what matters.
      await writable.abort().catch((abortError: unknown) => console.warn('tabdock: discarding a failed write failed too', abortError));
      if (error instanceof DOMException && error.name === 'QuotaExceededError') throw new StorageFullError(`Not enough browser storage to write ${name}.`, String(error));
      throw error;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.handle.removeEntry(name);
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'NotFoundError')) throw error;
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const name of (this.handle as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  }

  async child(name: string, create: boolean): Promise<DiskFolder | undefined> {
    try {
      return new OpfsFolder(await this.handle.getDirectoryHandle(name, { create }));
    } catch (error) {
      if (!create && error instanceof DOMException && (error.name === 'NotFoundError' || error.name === 'TypeMismatchError')) return undefined;
      throw error;
    }
  }

  async removeChild(name: string): Promise<void> {
    await this.remove(name).catch(async (error: unknown) => {
      // A non-empty folder needs { recursive: true }.
      if (error instanceof DOMException && error.name === 'InvalidModificationError') await this.handle.removeEntry(name, { recursive: true });
      else throw error;
    });
  }

  async freeBytes(): Promise<number | undefined> {
    const estimate = await navigator.storage.estimate();
    return estimate.quota === undefined || estimate.usage === undefined ? undefined : estimate.quota - estimate.usage;
  }
}

/** A FileSystemSyncAccessHandle seen as a BlockFile (browser worker). */
export function syncAccessBlockFile(handle: FileSystemSyncAccessHandle): BlockFile {
  return {
    read: (into, at) => handle.read(into as Uint8Array<ArrayBuffer>, { at }),
    write(data, at) {
      const written = handle.write(data as Uint8Array<ArrayBuffer>, { at });
      // The standard returns the bytes written; a short write means the quota ran out part way.
      if (written !== data.byteLength) throw new StorageFullError('The browser wrote only part of a disk block.', `${written} of ${data.byteLength} bytes at ${at}`);
    },
    sizeBytes: () => handle.getSize(),
    truncate: (bytes) => handle.truncate(bytes),
    flush: () => handle.flush(),
    close: () => handle.close(),
  };
}
