// Where disk stores and saved sessions live: a folder with one exclusive random-access file per store and
// small files replaced atomically. The browser's is a folder of the origin-private file system, opened in the
// VM worker (opfs-folder.ts); Node's is a directory (worker/node/node-folder.ts); tests use MemoryFolder.
import { MemoryBlockFile, type BlockFile } from './block-file.ts';

export interface DiskFolder {
  /** The folder's name, for messages and ids. */
  readonly name: string;
  /** Opens (creating) a file for synchronous access; one opener at a time. */
  openBlockFile(name: string): Promise<BlockFile>;
  /** A file's content as a Blob (disk-backed where the platform can), or undefined when it does not exist. */
  readBlob(name: string): Promise<Blob | undefined>;
  /** Writes a file from parts, replacing the old one only once all parts are written (atomic replace). */
  writeAtomic(name: string, parts: AsyncIterable<Uint8Array>): Promise<void>;
  remove(name: string): Promise<void>;
  /** Names of files and subfolders. */
  list(): Promise<string[]>;
  /** A subfolder; undefined when it does not exist and `create` is false. */
  child(name: string, create: boolean): Promise<DiskFolder | undefined>;
  /** Removes a subfolder and everything in it (absent: nothing to do). */
  removeChild(name: string): Promise<void>;
  /** Bytes this origin or disk may still store, when known. */
  freeBytes(): Promise<number | undefined>;
}

/** A folder in memory: for unit tests, and for a browser that gives the worker no OPFS (nothing persists). */
export class MemoryFolder implements DiskFolder {
  readonly files = new Map<string, Uint8Array>();
  readonly blockFiles = new Map<string, MemoryBlockFile>();
  readonly children = new Map<string, MemoryFolder>();
  free: number | undefined;
  /** Make the next atomic write fail after reading its parts (like a quota error on close). */
  failNextWrite: Error | undefined;

  constructor(readonly name = 'memory') {}

  async openBlockFile(name: string): Promise<BlockFile> {
    let file = this.blockFiles.get(name);
    if (!file || file.closed) {
      const previous = file;
      file = new MemoryBlockFile();
      if (previous) file.write(previous.contents(), 0);
      this.blockFiles.set(name, file);
    }
    return file;
  }

  async readBlob(name: string): Promise<Blob | undefined> {
    const bytes = this.files.get(name);
    return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : undefined;
  }

  async writeAtomic(name: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    for await (const part of parts) chunks.push(part.slice());
    const failure = this.failNextWrite;
    this.failNextWrite = undefined;
    if (failure) throw failure;
    this.files.set(name, new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer()));
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
    this.blockFiles.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.files.keys(), ...this.blockFiles.keys(), ...this.children.keys()];
  }

  async child(name: string, create: boolean): Promise<DiskFolder | undefined> {
    let child = this.children.get(name);
    if (!child && create) {
      child = new MemoryFolder(name);
      this.children.set(name, child);
    }
    return child;
  }

  async removeChild(name: string): Promise<void> {
    this.children.delete(name);
  }

  async freeBytes(): Promise<number | undefined> {
    return this.free;
  }
}
