// Where the page keeps the user's saved session: one file in a StateDirectory (the origin-private file
// system in the browser, memory in tests). Saves are serialised across tabs with a Web Lock and replace the
// old file atomically; a session the VM refused is moved aside, never deleted, so the user can download it.

/** A folder of named files. `write` must be atomic: if it fails, the old content is still there. */
export interface StateDirectory {
  read(name: string): Promise<Uint8Array | undefined>;
  write(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<string[]>;
  /** Bytes this origin may still store, when the browser says. */
  freeBytes(): Promise<number | undefined>;
}

/** The subset of navigator.locks used here (https://w3c.github.io/web-locks/). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export type SessionStoreErrorCode = 'quota-exceeded' | 'storage-unavailable' | 'write-failed' | 'not-a-session';

export class SessionStoreError extends Error {
  constructor(
    readonly code: SessionStoreErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'SessionStoreError';
  }
}

export const SESSION_FILE = 'session.tdstate';
const DAMAGED_PREFIX = 'damaged-';
const LOCK_NAME = 'tabdock-session';
/** The first bytes of every tabdock state file (worker/vm/snapshot/state-file.ts STATE_FILE_MAGIC; a unit test keeps them equal). */
export const STATE_FILE_MAGIC = new Uint8Array([0x54, 0x44, 0x53, 0x54, 0x41, 0x54, 0x45, 0x01]);

export function looksLikeStateFile(bytes: Uint8Array): boolean {
  return bytes.byteLength > STATE_FILE_MAGIC.length && STATE_FILE_MAGIC.every((byte, i) => bytes[i] === byte);
}

/** The first bytes of a format-2 session file, which carries the disk's blocks (worker/vm/disk/session-file.ts). */
export const SESSION_FILE_MAGIC = new Uint8Array([0x54, 0x44, 0x53, 0x54, 0x41, 0x54, 0x45, 0x02]);

/** A session file of either format (Open… accepts both). */
export function looksLikeSessionFile(head: Uint8Array): boolean {
  return looksLikeStateFile(head) || (head.byteLength > SESSION_FILE_MAGIC.length && SESSION_FILE_MAGIC.every((byte, i) => head[i] === byte));
}

function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / (1024 * 1024))} MB`;
}

export class SessionStore {
  constructor(
    private readonly directory: StateDirectory,
    private readonly locks: LockManagerLike | undefined,
  ) {}

  /** The saved session's bytes, or undefined when there is none. */
  load(): Promise<Uint8Array | undefined> {
    return this.directory.read(SESSION_FILE);
  }

  /**
   * Replaces the saved session. Refuses bytes that are not a state file, and says how much space is missing
   * before trying when the browser reports its quota; a failed write leaves the previous session intact.
   */
  async save(bytes: Uint8Array): Promise<void> {
    if (!looksLikeStateFile(bytes)) {
      throw new SessionStoreError('not-a-session', 'Refused to save: the data is not a tabdock session, so the saved session was left as it was.');
    }
    await this.withLock(async () => {
      const existing = await this.directory.read(SESSION_FILE);
      const freeBytes = await this.directory.freeBytes();
      // The old file stays until the new one is complete, so both must fit for a moment.
      if (freeBytes !== undefined && freeBytes + (existing?.byteLength ?? 0) < bytes.byteLength) {
        throw quotaError(bytes.byteLength, freeBytes);
      }
      try {
        await this.directory.write(SESSION_FILE, bytes);
      } catch (error) {
        throw toStoreError(error, bytes.byteLength, freeBytes);
      }
    });
  }

  /** Moves the saved session aside as damaged-<time>.tdstate and returns that name (undefined: nothing saved). */
  async quarantine(now = new Date()): Promise<string | undefined> {
    return this.withLock(async () => {
      const bytes = await this.directory.read(SESSION_FILE);
      if (!bytes) return undefined;
      const name = `${DAMAGED_PREFIX}${now.toISOString().replace(/[:.]/g, '-')}.tdstate`;
      try {
        await this.directory.write(name, bytes);
      } catch (error) {
        throw toStoreError(error, bytes.byteLength, await this.directory.freeBytes());
      }
      await this.directory.remove(SESSION_FILE);
      return name;
    });
  }

  /** Deletes the saved session (Reset). Damaged files are kept. */
  async clear(): Promise<void> {
    await this.withLock(() => this.directory.remove(SESSION_FILE));
  }

  async damagedFiles(): Promise<string[]> {
    return (await this.directory.list()).filter((name) => name.startsWith(DAMAGED_PREFIX)).sort();
  }

  readFile(name: string): Promise<Uint8Array | undefined> {
    return this.directory.read(name);
  }

  private withLock<T>(work: () => Promise<T>): Promise<T> {
    // Without Web Locks (very old browsers) saves still replace the file atomically; only ordering is lost.
    return this.locks ? this.locks.request(LOCK_NAME, work) : work();
  }
}

function quotaError(neededBytes: number, freeBytes: number | undefined, detail?: string): SessionStoreError {
  const free = freeBytes === undefined ? '' : ` (it needs ${megabytes(neededBytes)}, ${megabytes(freeBytes)} are free)`;
  return new SessionStoreError(
    'quota-exceeded',
    `Not enough browser storage to save the session${free}. Your previous save is unchanged. Free space for this site, or use Download to keep the session as a file.`,
    detail,
  );
}

function toStoreError(error: unknown, neededBytes: number, freeBytes: number | undefined): SessionStoreError {
  if (error instanceof SessionStoreError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof Error && error.name === 'QuotaExceededError') return quotaError(neededBytes, freeBytes, detail);
  return new SessionStoreError('write-failed', 'Saving the session failed; your previous save is unchanged. Try again, or use Download.', detail);
}
