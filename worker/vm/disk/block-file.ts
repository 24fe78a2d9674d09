// The one primitive the disk store writes through: a file with synchronous reads and writes at an offset.
// It is the shape of OPFS's FileSystemSyncAccessHandle (File System standard, "FileSystemSyncAccessHandle"),
// which only dedicated workers get; Node's version is worker/node/node-block-file.ts, tests use MemoryBlockFile.

/** Synchronous random access to one file. Writes past the end grow it; reads past the end return fewer bytes. */
export interface BlockFile {
  /** Reads into `into` from byte `at`; returns how many bytes were read (0 past the end). */
  read(into: Uint8Array, at: number): number;
  /** Writes all of `data` at byte `at`, growing the file; throws (e.g. a quota error) and may leave a partial write. */
  write(data: Uint8Array, at: number): void;
  sizeBytes(): number;
  truncate(bytes: number): void;
  /** Makes earlier writes durable before a commit that refers to them is written. */
  flush(): void;
  close(): void;
}

/** Why a write did not fit: the browser's storage quota, or the host's disk (ENOSPC, EDQUOT). */
export class StorageFullError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = 'StorageFullError';
  }
}

/** True for the errors a full quota or disk raises on each platform. */
export function isStorageFull(error: unknown): boolean {
  if (error instanceof StorageFullError) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'QuotaExceededError') return true;
  const code = (error as { code?: unknown }).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * An in-memory BlockFile for tests and for a browser without OPFS: `limitBytes` makes writes past it fail
 * like a full quota (after writing what fits, as a real short write does).
 */
export class MemoryBlockFile implements BlockFile {
  private bytes = new Uint8Array(0);
  private length = 0;
  closed = false;

  constructor(public limitBytes = Number.POSITIVE_INFINITY) {}

  read(into: Uint8Array, at: number): number {
    this.assertOpen();
    const count = Math.max(0, Math.min(into.byteLength, this.length - at));
    into.set(this.bytes.subarray(at, at + count));
    return count;
  }

  write(data: Uint8Array, at: number): void {
    this.assertOpen();
    const end = at + data.byteLength;
    const fits = Math.max(0, Math.min(end, this.limitBytes) - at);
    this.ensure(at + fits);
    this.bytes.set(data.subarray(0, fits), at);
    this.length = Math.max(this.length, at + fits);
    if (fits < data.byteLength) throw new StorageFullError('The storage quota is used up.', `limit ${this.limitBytes} bytes, write to ${end}`);
  }

  sizeBytes(): number {
    return this.length;
  }

  truncate(bytes: number): void {
    this.ensure(bytes);
    if (bytes < this.length) this.bytes.fill(0, bytes, this.length);
    this.length = bytes;
  }

  flush(): void {
    this.assertOpen();
  }

  close(): void {
    this.closed = true;
  }

  /** The content, readable after close() too (a reopened memory folder's file). */
  contents(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  /** A copy of the content, e.g. to reopen it as if after a crash. */
  snapshot(): MemoryBlockFile {
    const copy = new MemoryBlockFile(this.limitBytes);
    copy.write(this.bytes.subarray(0, this.length), 0);
    return copy;
  }

  private ensure(bytes: number): void {
    if (bytes <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(bytes, this.bytes.byteLength * 2, 64 * 1024));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryBlockFile used after close()');
  }
}
