// Which block store a VM gets, and where saved sessions live. Under the app's folder (OPFS `tabdock/` in the
// browser, a directory in Node):
//   sessions/<id>/blocks.bin       the block store of one VM that owns the saved session (session.tdstate:
//   sessions/<id>/session.tdstate  its last save, blocks left in blocks.bin; `damaged`: moved aside)
//   scratch/<id>/blocks.bin        the store of a VM that does not own the saved session (a second tab)
//   exports/<name>.tdstate         standalone session files made for Download
// The saved session is the newest sessions/<id> with a session.tdstate and no `damaged` mark.
import type { DiskFolder } from './disk-folder.ts';
import { readSessionHeader, type SessionHeader } from './session-file.ts';

export const BLOCKS_FILE = 'blocks.bin';
export const SESSION_FILE = 'session.tdstate';
const DAMAGED_MARK = 'damaged';
const SESSIONS = 'sessions';
const SCRATCH = 'scratch';
const EXPORTS = 'exports';

/** navigator.locks as far as scratch stores need it: held while a tab uses its store. */
export interface FolderLocks {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

export interface SessionFolderRef {
  id: string;
  folder: DiskFolder;
}

export interface SavedSessionRef extends SessionFolderRef {
  file: Blob;
  /** Undefined when the header is not readable (a damaged save). */
  header: SessionHeader | undefined;
}

export interface DamagedSession {
  id: string;
  reason: string;
}

function newId(now: Date): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${now.toISOString().replace(/[:.]/g, '-')}-${random}`;
}

export class SessionDisks {
  constructor(
    private readonly root: DiskFolder,
    private readonly locks?: FolderLocks,
  ) {}

  /** The saved session to resume (the newest complete one), if any. */
  async saved(): Promise<SavedSessionRef | undefined> {
    const sessions = await this.root.child(SESSIONS, false);
    if (!sessions) return undefined;
    let best: SavedSessionRef | undefined;
    const key = (ref: SavedSessionRef) => `${ref.header?.createdAt ?? ''} ${ref.id}`;
    for (const id of await sessions.list()) {
      const folder = await sessions.child(id, false);
      if (!folder) continue;
      const names = await folder.list();
      if (names.includes(DAMAGED_MARK) || !names.includes(SESSION_FILE)) continue;
      const file = await folder.readBlob(SESSION_FILE);
      if (!file) continue;
      // An unreadable header still counts: resuming it fails, and the fallback moves it aside for download.
      const header = await readSessionHeader(file).then(
        (read) => read.header,
        () => undefined,
      );
      const ref: SavedSessionRef = { id, folder, file, header };
      if (!best || key(ref) > key(best)) best = ref;
    }
    return best;
  }

  /** A new folder for a VM that owns the saved session (it becomes the saved one at its first save). */
  async createSession(now = new Date()): Promise<SessionFolderRef> {
    const id = newId(now);
    const sessions = await this.root.child(SESSIONS, true);
    return { id, folder: (await sessions!.child(id, true))! };
  }

  async session(id: string): Promise<DiskFolder | undefined> {
    return (await this.root.child(SESSIONS, false))?.child(id, false);
  }

  /** A store for a VM that must not touch the saved session; held by a lock for as long as this worker lives. */
  async createScratch(now = new Date()): Promise<SessionFolderRef> {
    const id = newId(now);
    if (this.locks) {
      await new Promise<void>((resolve, reject) => {
        this.locks!
          .request(`tabdock-scratch-${id}`, { ifAvailable: true }, () => {
            resolve();
            return new Promise<never>(() => undefined);
          })
          .catch(reject);
      });
    }
    const scratch = await this.root.child(SCRATCH, true);
    return { id, folder: (await scratch!.child(id, true))! };
  }

  /** Moves a saved session aside (never deleted): it is no longer resumed, and can still be exported. */
  async markDamaged(id: string, reason: string): Promise<void> {
    const folder = await this.session(id);
    if (!folder) return;
    await folder.writeAtomic(DAMAGED_MARK, once(new TextEncoder().encode(reason)));
  }

  async damaged(): Promise<DamagedSession[]> {
    const sessions = await this.root.child(SESSIONS, false);
    const found: DamagedSession[] = [];
    for (const id of (await sessions?.list()) ?? []) {
      const folder = await sessions?.child(id, false);
      const mark = await folder?.readBlob(DAMAGED_MARK);
      if (mark) found.push({ id, reason: await mark.text() });
    }
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Reset: the saved session is deleted (its save file first, so it can never be resumed half-deleted). */
  async discardSaved(): Promise<void> {
    const saved = await this.saved();
    if (!saved) return;
    await saved.folder.remove(SESSION_FILE);
    await this.removeQuietly(SESSIONS, saved.id);
  }

  /**
   * After a save landed in `keepId`: every other session folder that is not marked damaged goes (older saves,
   * folders of VMs that never saved). A folder a closing worker still holds open is left for the next time.
   */
  async removeOthers(keepId: string): Promise<void> {
    const sessions = await this.root.child(SESSIONS, false);
    for (const id of (await sessions?.list()) ?? []) {
      if (id === keepId) continue;
      const folder = await sessions?.child(id, false);
      if (!folder || (await folder.list()).includes(DAMAGED_MARK)) continue;
      await this.removeQuietly(SESSIONS, id);
    }
  }

  /**
   * At start, before this VM makes its folder: session folders without a save (their VM ended unsaved) and
   * scratch folders whose tab is gone.
   */
  async cleanUp(): Promise<void> {
    const sessions = await this.root.child(SESSIONS, false);
    for (const id of (await sessions?.list()) ?? []) {
      const folder = await sessions?.child(id, false);
      const names = (await folder?.list()) ?? [];
      if (!names.includes(SESSION_FILE) && !names.includes(DAMAGED_MARK)) await this.removeQuietly(SESSIONS, id);
    }
    const scratch = await this.root.child(SCRATCH, false);
    for (const id of (await scratch?.list()) ?? []) {
      if (this.locks) {
        const free = await new Promise<boolean>((resolve, reject) => {
          this.locks!.request(`tabdock-scratch-${id}`, { ifAvailable: true }, async (lock) => resolve(lock !== null)).catch(reject);
        });
        if (!free) continue;
      }
      await this.removeQuietly(SCRATCH, id);
    }
  }

  /** The folder exports are written to; older exports are removed first (their downloads have long started). */
  async exportsFolder(): Promise<DiskFolder> {
    const exports = (await this.root.child(EXPORTS, true))!;
    for (const name of await exports.list()) await exports.remove(name).catch((error: unknown) => console.warn(`tabdock: could not remove the old export ${name}`, error));
    return exports;
  }

  private async removeQuietly(parent: string, id: string): Promise<void> {
    try {
      await (await this.root.child(parent, false))?.removeChild(id);
    } catch (error) {
      // Still open in a worker that is going away (NoModificationAllowedError); the next start removes it.
      console.warn(`tabdock: could not remove ${parent}/${id} yet`, error);
    }
  }
}

export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
