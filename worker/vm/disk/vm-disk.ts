// The VM host's side of the disk: which block store each start gets (the saved session's, a new one, or a
// scratch one), the start plan for a saved or opened session file (format 2, for snapshot/start-plan.ts), and
// saving and exporting sessions. VmHost calls it; v86 sees only the StoreDisk.
import type { V86 } from 'v86';
import type { DiskImageRef, Manifest } from '../assets.ts';
import type { BootOptions, SavedState, SessionExport, VmNotice } from '../../shared/contract.ts';
import { payloadToV86State } from '../snapshot/compression.ts';
import { openSessionFile, readSessionHeader, SessionDamaged, sessionFileParts, type OpenedSession, type SessionHeader } from './session-file.ts';
import type { StateHeader } from '../snapshot/state-file.ts';
import type { SessionPlans } from '../snapshot/start-plan.ts';
import { compressState, type ZstdStateCompressor } from '../snapshot/state-zstd.ts';
import { StorageFullError, isStorageFull } from './block-file.ts';
import { STORE_BLOCK_BYTES, type CommittedIndex } from './block-index.ts';
import { BlockStore, type StoreFull } from './block-store.ts';
import type { DiskFolder } from './disk-folder.ts';
import { DEFAULT_IMAGE_CACHE, ImageCache, type ImageCacheOptions, type ImageSource } from './image-cache.ts';
import { BLOCKS_FILE, SESSION_FILE, SessionDisks, type FolderLocks, type SessionFolderRef } from './session-disks.ts';
import { saveV86State, StoreDisk, type DiskProblem } from './v86-disk.ts';

export interface DiskPlatform {
  /** The app's folder for block stores and sessions (OPFS in the browser worker, a directory in Node). */
  root(): Promise<DiskFolder>;
  /** Reads of the root disk image (HTTP ranges, or a file). */
  imageSource(ref: DiskImageRef): ImageSource;
  imageCache?: ImageCacheOptions;
  /** Web Locks, so a scratch store is removed only once its tab is gone. */
  locks?: FolderLocks;
  /** Compresses a saved machine state as one zstd frame (state-zstd.ts); may take the raw state's buffer. */
  zstdState: ZstdStateCompressor;
  /** Called when the host shuts down (Node removes a temporary root). */
  dispose?(): Promise<void>;
}

/** How a session start gets its disk: the saved session's own store, or blocks imported from a file. */
export type SessionDiskPlan = { kind: 'folder'; id: string; index: CommittedIndex } | { kind: 'inline'; opened: OpenedSession };

/** A restore plan for a format-2 session (start-plan.ts's shape, plus the disk). */
export interface SessionRestorePlan {
  kind: 'restore';
  from: 'session';
  header: StateHeader;
  state: ArrayBuffer;
  disk: SessionDiskPlan;
}

const ZERO_SHA256 = '0'.repeat(64);

/**
 * Run by the guest agent before a session save: written data to the disk, then the clean page cache dropped
 * (`1`: page cache only; dentries and inodes stay). Freed pages are zeroed (init_on_free=1) and v86 leaves
 * zero pages out of a state, so the state holds what programs use, not copies of files on the disk: after a
 * 1 GiB write the cache held ~900 MB, and the state took 35 s to save and 0.9 GB of file without this.
 */
export const SAVE_QUIESCE_COMMAND = 'sync; echo 1 > /proc/sys/vm/drop_caches';

/** A format-2 header seen through the format-1 fields the restore code reads (memory size, kind). */
function asStateHeader(header: SessionHeader): StateHeader {
  return {
    formatVersion: 1,
    kind: 'session',
    buildId: header.buildId,
    rootDiskSha256: header.rootDiskSha256,
    memoryBytes: header.memoryBytes,
    createdAt: header.createdAt,
    compression: header.compression,
    payloadBytes: header.payloadBytes,
    payloadSha256: header.payloadSha256 || ZERO_SHA256,
    rawBytes: header.rawBytes,
  };
}

function imageOf(manifest: Manifest, diskBytes: number) {
  return { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, diskBytes };
}

function megabytes(bytes: number): string {
  return `${Math.ceil(bytes / (1024 * 1024))} MB`;
}

export class VmDisks implements SessionPlans {
  private sessions: SessionDisks | undefined;
  private owner = false;
  private current: { disk: StoreDisk; ref: SessionFolderRef } | undefined;

  constructor(
    private readonly platform: DiskPlatform,
    private readonly notify: (notice: VmNotice) => void,
    /** Before a save or an export: the guest's clean page cache out of its RAM (SAVE_QUIESCE_COMMAND). */
    private readonly quiesce: () => Promise<void>,
  ) {}

  /** The store of the running VM (bench and tests read its figures). */
  get disk(): StoreDisk | undefined {
    return this.current?.disk;
  }

  /** Once per boot, before anything else: cleans up what earlier VMs left and applies Reset. */
  async prepare(disk: BootOptions['disk']): Promise<void> {
    this.owner = disk?.store === 'session';
    this.sessions = new SessionDisks(await this.platform.root(), this.platform.locks);
    if (!this.owner) return;
    await this.sessions.cleanUp();
    if (disk?.discardSaved) await this.sessions.discardSaved();
  }

  /** The start plan for an opened format-2 file; undefined, with a notice, when it cannot be used. */
  async planFile(file: Blob, manifest: Manifest, diskBytes: number): Promise<SessionRestorePlan | undefined> {
    try {
      const opened = await openSessionFile(file, imageOf(manifest, diskBytes));
      return { kind: 'restore', from: 'session', header: asStateHeader(opened.header), state: await payloadToV86State(opened.payload, opened.header.compression), disk: { kind: 'inline', opened } };
    } catch (error) {
      if (!(error instanceof SessionDamaged)) throw error;
      this.notify({ code: 'session-unusable', message: `${error.message} Started a clean VM instead; the file was not loaded.`, detail: `${error.problem.code}: ${error.problem.detail}` });
      return undefined;
    }
  }

  /**
   * The start plan for this tab's saved session: 'none' when there is no save (or the tab does not own the
   * session); undefined when it is damaged (moved aside, with a notice).
   */
  async planSaved(manifest: Manifest, diskBytes: number): Promise<SessionRestorePlan | 'none' | undefined> {
    const saved = this.owner ? await this.sessionsOrThrow().saved() : undefined;
    if (!saved) return 'none';
    try {
      const opened = await openSessionFile(saved.file, imageOf(manifest, diskBytes));
      if (opened.header.disk.blocks !== 'folder') throw new SessionDamaged({ code: 'header-invalid', message: 'The saved session is not a browser session.', detail: 'blocks inline' });
      return {
        kind: 'restore',
        from: 'session',
        header: asStateHeader(opened.header),
        state: await payloadToV86State(opened.payload, opened.header.compression),
        disk: { kind: 'folder', id: saved.id, index: opened.index },
      };
    } catch (error) {
      const problem = error instanceof SessionDamaged ? error.problem : { code: 'header-invalid', message: 'The saved session could not be read.', detail: String(error) };
      await this.sessionsOrThrow().markDamaged(saved.id, `${problem.code}: ${problem.detail}`);
      this.notify({
        code: 'session-unusable',
        message: `${problem.message} Started a clean VM instead; the saved session was kept so you can download it.`,
        detail: `${problem.code}: ${problem.detail}`,
        damagedSessionId: saved.id,
      });
      return undefined;
    }
  }

  /** The disk for one start attempt: the saved session's store, or a new one (with an opened file's blocks). */
  async open(disk: SessionDiskPlan | undefined, ref: DiskImageRef): Promise<StoreDisk> {
    await this.close();
    const sessions = this.sessionsOrThrow();
    const cache = this.platform.imageCache ?? DEFAULT_IMAGE_CACHE;
    const image = new ImageCache(this.platform.imageSource(ref), ref.chunkBytes ? { ...cache, chunkBytes: ref.chunkBytes } : cache);
    const onFull = (full: StoreFull) => this.storageFull(full);
    if (disk?.kind === 'folder') {
      const folder = await sessions.session(disk.id);
      if (!folder) throw new Error(`the saved session ${disk.id} disappeared`);
      const file = await folder.openBlockFile(BLOCKS_FILE);
      const store = new BlockStore({ diskBytes: ref.sizeBytes, file, committed: disk.index, onFull });
      return this.use(store, image, { id: disk.id, folder });
    }
    const folderRef = this.owner ? await sessions.createSession() : await sessions.createScratch();
    const store = new BlockStore({ diskBytes: ref.sizeBytes, file: await folderRef.folder.openBlockFile(BLOCKS_FILE), onFull });
    if (disk?.kind === 'inline') {
      const { index } = disk.opened;
      for await (const { first, data } of disk.opened.blocks()) {
        for (let i = 0; i * STORE_BLOCK_BYTES < data.byteLength; i++) {
          store.importBlock(index.blocks[first + i] ?? 0, index.masks[first + i] ?? 0, data.subarray(i * STORE_BLOCK_BYTES, (i + 1) * STORE_BLOCK_BYTES));
        }
      }
    }
    return this.use(store, image, folderRef);
  }

  /** A start attempt failed: its store is closed; a saved session that would not resume is moved aside. */
  async attemptFailed(disk: SessionDiskPlan | undefined, reason: string): Promise<string | undefined> {
    await this.close();
    if (disk?.kind !== 'folder') return undefined;
    await this.sessionsOrThrow().markDamaged(disk.id, reason);
    return disk.id;
  }

  /** Saves the running VM into its session folder: state + index, the blocks stay where they are. */
  async save(emulator: V86, manifest: Manifest, memoryBytes: number, now = new Date()): Promise<SavedState> {
    const current = this.current;
    if (!current || !this.owner) {
      throw new StorageFullError('This tab does not own the saved session, so it cannot save into it. Use Download to keep this tab\'s work.', 'scratch store');
    }
    const quiesceStarted = performance.now();
    await this.quiesce();
    const stateStarted = performance.now();
    const raw = new Uint8Array(await saveV86State(emulator, current.disk, 'commit'));
    const commit = current.disk.takeCommit();
    if (!commit) throw new Error('the disk did not take part in the save (v86 did not call its get_state)');
    const rawBytes = raw.byteLength;
    const compressStarted = performance.now();
    const { payload, compression } = await compressState(raw, this.platform.zstdState);
    const writeStarted = performance.now();
    const createdAt = now.toISOString();
    let fileBytes = 0;
    const parts = sessionFileParts({
      meta: { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, memoryBytes, createdAt, compression, rawBytes },
      diskBytes: current.disk.byteLength,
      payload,
      index: commit.index,
    });
    await this.checkSpace(current.ref.folder, payload.byteLength + commit.index.blocks.length * 10);
    try {
      await current.ref.folder.writeAtomic(SESSION_FILE, counted(parts, (bytes) => (fileBytes += bytes)));
    } catch (error) {
      throw this.saveError(error, payload.byteLength);
    }
    current.disk.store.commitSaved(commit);
    await this.sessionsOrThrow().removeOthers(current.ref.id);
    const stepsMs = {
      quiesce: Math.round(stateStarted - quiesceStarted),
      state: Math.round(compressStarted - stateStarted),
      compress: Math.round(writeStarted - compressStarted),
      write: Math.round(performance.now() - writeStarted),
    };
    return { fileBytes, diskBytes: commit.index.blocks.length * STORE_BLOCK_BYTES, rawBytes, buildId: manifest.buildId, createdAt, stepsMs };
  }

  /** The running VM as one standalone file (state, index, blocks) for Download, streamed from the store. */
  async export(emulator: V86, manifest: Manifest, memoryBytes: number, now = new Date()): Promise<SessionExport> {
    const current = this.current;
    if (!current) throw new Error('no disk to export');
    await this.quiesce();
    const raw = new Uint8Array(await saveV86State(emulator, current.disk, 'pin'));
    // The export's view of the disk, taken with the state: pinned until written, while the VM writes on.
    const pinned = current.disk.takeCommit();
    if (!pinned) throw new Error('the disk did not take part in the save (v86 did not call its get_state)');
    try {
      const rawBytes = raw.byteLength;
      const { payload, compression } = await compressState(raw, this.platform.zstdState);
      const createdAt = now.toISOString();
      const store = current.disk.store;
      return await this.writeExport(
        sessionFileParts({
          meta: { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, memoryBytes, createdAt, compression, rawBytes },
          diskBytes: current.disk.byteLength,
          payload,
          index: pinned.index,
          readSlot: (slot, into) => store.readSlot(slot, into),
        }),
        createdAt,
        payload.byteLength + pinned.index.blocks.length * STORE_BLOCK_BYTES,
      );
    } finally {
      current.disk.store.unpin(pinned);
    }
  }

  /** A session moved aside, as a standalone file: its blocks read from its own store when it has one. */
  async exportDamaged(id: string, manifest: Manifest): Promise<SessionExport> {
    const folder = await this.sessionsOrThrow().session(id);
    const file = await folder?.readBlob(SESSION_FILE);
    if (!folder || !file) throw new Error(`There is no session ${id} to download any more.`);
    const image = { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256, diskBytes: 0 };
    let opened: OpenedSession;
    try {
      // Damaged for another reason than its file (another build, or v86 refused it): still exportable whole.
      const { header } = await readSessionHeader(file);
      opened = await openSessionFile(file, { ...image, buildId: header.buildId, rootDiskSha256: header.rootDiskSha256, diskBytes: header.disk.diskBytes });
    } catch {
      // Not readable as a session: hand over the file as it is.
      return { file, fileName: `damaged-${id}.tdstate`, bytes: file.size, createdAt: id };
    }
    const blocks = await folder.openBlockFile(BLOCKS_FILE);
    try {
      const store = new BlockStore({ diskBytes: opened.header.disk.diskBytes, file: blocks, committed: opened.index });
      const { header } = opened;
      return await this.writeExport(
        sessionFileParts({
          meta: { buildId: header.buildId, rootDiskSha256: header.rootDiskSha256, memoryBytes: header.memoryBytes, createdAt: header.createdAt, compression: header.compression, rawBytes: header.rawBytes },
          diskBytes: header.disk.diskBytes,
          payload: opened.payload,
          index: opened.index,
          readSlot: (slot, into) => store.readSlot(slot, into),
        }),
        header.createdAt,
        opened.payload.byteLength + opened.index.blocks.length * STORE_BLOCK_BYTES,
        `damaged-${id}.tdstate`,
      );
    } finally {
      blocks.close();
    }
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    current?.disk.close();
  }

  private use(store: BlockStore, image: ImageCache, ref: SessionFolderRef): StoreDisk {
    const disk = new StoreDisk(store, image, { onProblem: (problem) => this.diskProblem(problem) });
    this.current = { disk, ref };
    return disk;
  }

  private async writeExport(parts: AsyncIterable<Uint8Array>, createdAt: string, expectedBytes: number, name?: string): Promise<SessionExport> {
    const exports = await this.sessionsOrThrow().exportsFolder();
    const fileName = name ?? `tabdock-session-${createdAt.replace(/[:.]/g, '-').slice(0, 19)}.tdstate`;
    // A download is staged in this site's storage first, so it needs that much free space itself.
    await this.checkSpace(exports, expectedBytes, 'download');
    try {
      await exports.writeAtomic(fileName, parts);
    } catch (error) {
      throw this.saveError(error, expectedBytes, 'download');
    }
    const file = await exports.readBlob(fileName);
    if (!file) throw new Error(`the export ${fileName} vanished after it was written`);
    return { file, fileName, bytes: file.size, createdAt };
  }

  private async checkSpace(folder: DiskFolder, neededBytes: number, what: 'save' | 'download' = 'save'): Promise<void> {
    const free = await folder.freeBytes();
    if (free !== undefined && free < neededBytes) {
      throw new StorageFullError(
        `Not enough storage: this needs ${megabytes(neededBytes)}, ${megabytes(free)} are free. Your previous save is unchanged. ${freeSpaceAdvice(what)}`,
        `needs ${neededBytes} bytes, ${free} free`,
      );
    }
  }

  private saveError(error: unknown, neededBytes: number, what: 'save' | 'download' = 'save'): Error {
    if (error instanceof StorageFullError && /needs|This tab/.test(error.message)) return error;
    if (isStorageFull(error)) {
      return new StorageFullError(
        `Not enough browser storage to ${what} (about ${megabytes(neededBytes)} needed). Your previous save is unchanged. ${freeSpaceAdvice(what)}`,
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  private storageFull(full: StoreFull): void {
    this.notify({
      code: 'storage-full',
      message: `Browser storage is full: the VM's disk needs at least ${megabytes(full.pendingBytes)} more (its store holds ${megabytes(full.fileBytes)}). Nothing is lost: the new blocks wait in memory, but saving needs the space. ${freeSpaceAdvice('save')}`,
      detail: full.detail,
    });
  }

  private diskProblem(problem: DiskProblem): void {
    switch (problem.kind) {
      case 'image-read-failed':
        this.notify({ code: 'disk-read-failed', message: 'Reading the VM\'s disk image failed; retrying. Check your connection: the VM waits meanwhile.', detail: problem.detail });
        return;
      case 'store-failed':
        this.notify({ code: 'storage-full', message: 'Writing the VM\'s disk to browser storage failed; the guest will see an I/O error. Download the session, then reload.', detail: problem.detail });
        return;
      default: {
        const unreachable: never = problem;
        throw new Error(`unknown disk problem ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private sessionsOrThrow(): SessionDisks {
    if (!this.sessions) throw new Error('VmDisks.plan() must run before the disk is used');
    return this.sessions;
  }
}

async function* counted(parts: AsyncIterable<Uint8Array>, add: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const part of parts) {
    add(part.byteLength);
    yield part;
  }
}

/**
 * What a person can do when this site's storage is full. Download stages the file in the same storage, so it
 * is offered only where there is room for it: the last save is kept, and Download of it works once space is free.
 */
function freeSpaceAdvice(what: 'save' | 'download'): string {
  const free = "Free space: delete other sites' data in the browser settings (Settings, Privacy, Site data)";
  return what === 'download'
    ? `${free}. Download stages the whole session in this site's storage before the browser saves it, so it needs that much free space.`
    : `${free}, then Save again; Download also needs free space as large as the session.`;
}
