// SessionStore over an in-memory directory: saves replace atomically, bad data and full quotas never
// overwrite a good save, concurrent saves are serialised by the lock, damaged sessions are kept aside.
import { describe, expect, it } from 'vitest';
import { STATE_FILE_MAGIC as WORKER_MAGIC } from '../../worker/vm/snapshot/state-file.ts';
import { SESSION_FILE, SessionStore, STATE_FILE_MAGIC, type LockManagerLike, type StateDirectory } from './session-store.ts';

class MemoryDirectory implements StateDirectory {
  readonly files = new Map<string, Uint8Array>();
  free: number | undefined = undefined;
  failNextWrite: Error | undefined;
  writesInFlight = 0;
  maxWritesInFlight = 0;

  async read(name: string) {
    return this.files.get(name)?.slice();
  }
  async write(name: string, bytes: Uint8Array) {
    this.writesInFlight++;
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.writesInFlight--;
    const failure = this.failNextWrite;
    this.failNextWrite = undefined;
    if (failure) throw failure;
    this.files.set(name, bytes.slice());
  }
  async remove(name: string) {
    this.files.delete(name);
  }
  async list() {
    return [...this.files.keys()];
  }
  async freeBytes() {
    return this.free;
  }
}

/** One exclusive lock per name, like navigator.locks.request with default options. */
class MemoryLocks implements LockManagerLike {
  private tails = new Map<string, Promise<unknown>>();
  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const run = previous.then(callback, callback);
    this.tails.set(name, run.catch(() => undefined));
    return run;
  }
}

function session(fill: number, size = 64): Uint8Array {
  const bytes = new Uint8Array(size).fill(fill);
  bytes.set(STATE_FILE_MAGIC);
  return bytes;
}

describe('SessionStore', () => {
  it('uses the same magic as the worker state file', () => {
    expect(STATE_FILE_MAGIC).toEqual(WORKER_MAGIC);
  });

  it('saves and loads a session', async () => {
    const store = new SessionStore(new MemoryDirectory(), new MemoryLocks());
    expect(await store.load()).toBeUndefined();
    await store.save(session(1));
    expect(await store.load()).toEqual(session(1));
  });

  it('refuses to save bytes that are not a session and keeps the good one', async () => {
    const store = new SessionStore(new MemoryDirectory(), new MemoryLocks());
    await store.save(session(1));
    await expect(store.save(new TextEncoder().encode('garbage'))).rejects.toMatchObject({ code: 'not-a-session' });
    expect(await store.load()).toEqual(session(1));
  });

  it('reports a full quota before writing, with sizes, and keeps the old save', async () => {
    const directory = new MemoryDirectory();
    const store = new SessionStore(directory, new MemoryLocks());
    await store.save(session(1, 64));
    directory.free = 10;
    await expect(store.save(session(2, 4 * 1024 * 1024))).rejects.toMatchObject({ code: 'quota-exceeded', message: expect.stringMatching(/needs 4 MB/) });
    expect(await store.load()).toEqual(session(1, 64));
  });

  it('turns a QuotaExceededError from the write into a quota message and keeps the old save', async () => {
    const directory = new MemoryDirectory();
    const store = new SessionStore(directory, new MemoryLocks());
    await store.save(session(1));
    directory.failNextWrite = Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    await expect(store.save(session(2))).rejects.toMatchObject({ code: 'quota-exceeded' });
    directory.failNextWrite = new Error('disk gone');
    await expect(store.save(session(3))).rejects.toMatchObject({ code: 'write-failed', detail: expect.stringMatching(/disk gone/) });
    expect(await store.load()).toEqual(session(1));
  });

  it('serialises saves from two tabs sharing the lock; the last complete save wins', async () => {
    const directory = new MemoryDirectory();
    const locks = new MemoryLocks();
    const tabA = new SessionStore(directory, locks);
    const tabB = new SessionStore(directory, locks);
    await Promise.all([tabA.save(session(1)), tabB.save(session(2)), tabA.save(session(3))]);
    expect(directory.maxWritesInFlight).toBe(1);
    expect(await tabB.load()).toEqual(session(3));
  });

  it('moves a damaged session aside instead of deleting it', async () => {
    const store = new SessionStore(new MemoryDirectory(), new MemoryLocks());
    await store.save(session(7));
    const name = await store.quarantine(new Date('2026-11-23T12:00:00Z'));
    expect(name).toBe('damaged-2026-11-23T12-00-00-000Z.tdstate');
    expect(await store.load()).toBeUndefined();
    expect(await store.damagedFiles()).toEqual([name]);
    expect(await store.readFile(name!)).toEqual(session(7));
    expect(await store.quarantine()).toBeUndefined();
  });

  it('clears the session on reset but keeps damaged files', async () => {
    const directory = new MemoryDirectory();
    const store = new SessionStore(directory, undefined);
    await store.save(session(1));
    await store.quarantine();
    await store.save(session(2));
    await store.clear();
    expect(directory.files.has(SESSION_FILE)).toBe(false);
    expect(await store.damagedFiles()).toHaveLength(1);
  });
});
