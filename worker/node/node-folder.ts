// DiskFolder for Node: a directory. Block files are plain files read and written with positional I/O; they
// grow only as the guest writes (slots are appended), so an 8 GiB disk costs nothing until written. Atomic
// replace is write-to-temporary + rename (POSIX rename(2) replaces atomically).
import { closeSync, fstatSync, ftruncateSync, fsyncSync, openAsBlob, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { BlockFile } from '../vm/disk/block-file.ts';
import type { DiskFolder } from '../vm/disk/disk-folder.ts';

export function nodeBlockFile(filePath: string): BlockFile {
  const fd = openSync(filePath, 'a+');
  closeSync(fd);
  const handle = openSync(filePath, 'r+');
  return {
    read(into, at) {
      let done = 0;
      while (done < into.byteLength) {
        const count = readSync(handle, into, done, into.byteLength - done, at + done);
        if (count === 0) break;
        done += count;
      }
      return done;
    },
    write(data, at) {
      let done = 0;
      while (done < data.byteLength) done += writeSync(handle, data, done, data.byteLength - done, at + done);
    },
    sizeBytes: () => fstatSync(handle).size,
    truncate: (bytes) => ftruncateSync(handle, bytes),
    flush: () => fsyncSync(handle),
    close: () => closeSync(handle),
  };
}

export class NodeFolder implements DiskFolder {
  constructor(readonly directory: string) {}

  get name(): string {
    return path.basename(this.directory);
  }

  async openBlockFile(name: string): Promise<BlockFile> {
    await mkdir(this.directory, { recursive: true });
    return nodeBlockFile(path.join(this.directory, name));
  }

  async readBlob(name: string): Promise<Blob | undefined> {
    const file = path.join(this.directory, name);
    try {
      await stat(file);
    } catch {
      return undefined;
    }
    return openAsBlob(file);
  }

  async writeAtomic(name: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const target = path.join(this.directory, name);
    const temporary = `${target}.tmp-${process.pid}`;
    const handle = await open(temporary, 'w');
    try {
      for await (const part of parts) await handle.write(part);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await handle.close();
    await rename(temporary, target);
  }

  async remove(name: string): Promise<void> {
    await rm(path.join(this.directory, name), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      return await readdir(this.directory);
    } catch {
      return [];
    }
  }

  async child(name: string, create: boolean): Promise<DiskFolder | undefined> {
    const directory = path.join(this.directory, name);
    if (create) await mkdir(directory, { recursive: true });
    else if (!(await stat(directory).then((s) => s.isDirectory(), () => false))) return undefined;
    return new NodeFolder(directory);
  }

  async removeChild(name: string): Promise<void> {
    await rm(path.join(this.directory, name), { recursive: true, force: true });
  }

  async freeBytes(): Promise<number | undefined> {
    try {
      const fs = await statfs(this.directory);
      return fs.bavail * fs.bsize;
    } catch {
      return undefined;
    }
  }
}
