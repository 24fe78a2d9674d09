// The browser's StateDirectory: a folder in the origin-private file system. createWritable() writes to a swap
// file that replaces the target only on close() (File System standard, "FileSystemWritableFileStream"), which
// gives the atomic replace SessionStore relies on.
import { SessionStoreError, type StateDirectory } from './session-store.ts';

const FOLDER = 'tabdock';

export async function openOpfsDirectory(): Promise<StateDirectory> {
  let folder: FileSystemDirectoryHandle;
  try {
    folder = await (await navigator.storage.getDirectory()).getDirectoryHandle(FOLDER, { create: true });
  } catch (error) {
    throw new SessionStoreError(
      'storage-unavailable',
      'This browser does not let the page store files (private mode or storage turned off), so sessions cannot be saved here. Use Download to keep a session as a file.',
      String(error),
    );
  }
  return {
    async read(name) {
      let handle: FileSystemFileHandle;
      try {
        handle = await folder.getFileHandle(name);
      } catch (error) {
        if (error instanceof DOMException && error.name === 'NotFoundError') return undefined;
        throw error;
      }
      return new Uint8Array(await (await handle.getFile()).arrayBuffer());
    },
    async write(name, bytes) {
      const handle = await folder.getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      try {
        await writable.write(bytes as BufferSource);
        await writable.close();
      } catch (error) {
        // Drop the swap file; the target keeps its old content. The write's own error is what matters.
        await writable.abort().catch((abortError: unknown) => console.warn('tabdock: discarding a failed session write failed too', abortError));
        throw error;
      }
    },
    async remove(name) {
      try {
        await folder.removeEntry(name);
      } catch (error) {
        if (!(error instanceof DOMException && error.name === 'NotFoundError')) throw error;
      }
    },
    async list() {
      const names: string[] = [];
      for await (const name of (folder as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      return names;
    },
    async freeBytes() {
      const estimate = await navigator.storage.estimate();
      return estimate.quota === undefined || estimate.usage === undefined ? undefined : estimate.quota - estimate.usage;
    },
  };
}
