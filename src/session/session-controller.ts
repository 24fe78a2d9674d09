// Keeps the user's VM across reloads: decides whether this tab owns the saved session, saves on demand
// (button, Ctrl+S), when the tab is hidden and every few minutes after activity, and handles Reset, Download,
// Open and a damaged save (moved aside, offered as a download, a clean VM started). The VM worker keeps the
// session itself, beside the disk's block store (worker/vm/disk/); session-store.ts keeps only a format-1 save
// from before the block store, resumed once and removed at the next save.
import type { BootOptions, ResumeFrom, SavedState, SaveSteps, SessionExport, StartedFrom, VmNotice } from '../../worker/shared/contract.ts';
import { formatSeconds } from '../format.ts';
import { openOpfsDirectory } from './opfs-directory.ts';
import { downloadBytes, SessionBar } from './session-bar.ts';
import { looksLikeSessionFile, SessionStore, SessionStoreError } from './session-store.ts';
import { claimSessionOwnership } from './tab-owner.ts';

/** Periodic save interval, only when the user did something since the last save. */
export const AUTOSAVE_INTERVAL_MS = 5 * 60_000;
/** Hiding the tab saves only if the last save is older than this (switching tabs back and forth is common). */
const HIDDEN_SAVE_MIN_AGE_MS = 60_000;
const OTHER_TAB_MESSAGE =
  'Your saved session is open in another tab of this browser, so this tab started a separate clean VM and will not resume, save over or reset that session. Use Download to keep this tab\'s work.';

export interface SessionHooks {
  /** The running VM's saveState, or undefined when no VM runs. */
  saveState(): Promise<SavedState> | undefined;
  /** The running VM as a standalone session file, or undefined when no VM runs. */
  exportSession(): Promise<SessionExport> | undefined;
  /** A saved session that was moved aside, as a file (needs a VM worker). */
  exportDamaged(id: string): Promise<SessionExport> | undefined;
  /** Start a new VM as `start` says (the saved session, a file, or clean after Reset). */
  restart(start: SessionStart): void;
}

/** How the next VM starts, as far as sessions go: the part of BootOptions this controller decides. */
export type SessionStart = Required<Pick<BootOptions, 'disk' | 'resume'>>;

type SessionSource = 'store' | 'file' | 'none';

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

/** The save's steps for the message's tooltip: "guest caches dropped 1.2 s · state saved 2.0 s · …". */
export function saveStepsText(steps: SaveSteps): string {
  return [
    `guest caches dropped ${formatSeconds(steps.quiesce)}`,
    `state saved ${formatSeconds(steps.state)}`,
    `compressed ${formatSeconds(steps.compress)}`,
    `written ${formatSeconds(steps.write)}`,
  ].join(' · ');
}

function errorText(error: unknown): string {
  if (error instanceof SessionStoreError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Saving failed: ${message}`;
}

export class SessionController {
  private readonly bar: SessionBar;
  private store: SessionStore | undefined;
  private storeProblem: string | undefined;
  private running = false;
  private saving: Promise<void> | undefined;
  private lastSavedAtMs = 0;
  private activeSinceSave = false;
  private source: SessionSource = 'none';
  private autosaveTimer: ReturnType<typeof setInterval> | undefined;
  /** Another tab owns the saved session (tab-owner.ts): this tab never touches it. */
  private otherTabOwns = false;

  /** `otherwise`: what starts when no session does (`?snapshot=off`: the kernel). */
  constructor(
    header: HTMLElement,
    private readonly hooks: SessionHooks,
    private readonly otherwise: 'boot-snapshot' | 'kernel' = 'boot-snapshot',
  ) {
    this.bar = new SessionBar(header, {
      save: () => void this.save('button'),
      reset: () => void this.reset(),
      download: () => void this.download(),
      open: (file) => void this.open(file),
    });
    this.bar.setRunning(false);
    window.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
        event.preventDefault();
        void this.save('button');
      }
    }, { capture: true });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden' && this.activeSinceSave && Date.now() - this.lastSavedAtMs > HIDDEN_SAVE_MIN_AGE_MS) void this.save('auto');
    });
    // Closing or reloading with unsaved work: ask the browser to confirm (it shows its own generic text, and
    // only after the user interacted with the page: https://html.spec.whatwg.org/#prompt-to-unload-a-document).
    // A save starts at once, so if the user stays it completes; if they leave, browsers do not wait for it.
    window.addEventListener('beforeunload', (event) => {
      if (!this.hasUnsavedWork()) return;
      event.preventDefault();
      // Older Chromium and Safari need returnValue set to show the prompt.
      event.returnValue = true;
      void this.save('auto');
    });
  }

  /** Typed into the VM since the last save, or a save is still being written. */
  hasUnsavedWork(): boolean {
    return this.running && (this.activeSinceSave || this.saving !== undefined);
  }

  /** Settles when no save is in flight (at once when none is); never rejects. */
  async whenSaved(): Promise<void> {
    await this.saving;
  }

  /**
   * Decides whether this tab owns the saved session (tab-owner.ts) and how the first VM starts: an owner
   * resumes the saved session (the worker finds it), any other tab gets a scratch disk of its own.
   */
  async loadSaved(): Promise<SessionStart> {
    try {
      if (!(await claimSessionOwnership(navigator.locks))) {
        this.otherTabOwns = true;
        this.bar.show(OTHER_TAB_MESSAGE, 'error');
        return this.startOptions();
      }
      this.store = new SessionStore(await openOpfsDirectory(), navigator.locks);
      // Ask the browser not to evict saved sessions under storage pressure; it may say no, which is fine.
      void navigator.storage.persist?.().catch((error: unknown) => console.warn('tabdock: storage.persist() failed', error));
      const legacy = await this.store.load();
      this.source = 'store';
      return this.startOptions({ legacy: legacy ? new Blob([legacy as Uint8Array<ArrayBuffer>]) : undefined });
    } catch (error) {
      this.storeProblem = errorText(error);
      this.bar.show(this.storeProblem, 'error');
      return this.startOptions();
    }
  }

  /**
   * The session part of the boot options for this tab: its own store unless another tab owns the session; an
   * opened file, else the saved session (or the page's format-1 one) unless Reset discards it.
   */
  startOptions(extra: { legacy?: Blob | undefined; file?: Blob; discardSaved?: boolean } = {}): SessionStart {
    const { otherwise } = this;
    const resume: ResumeFrom = extra.file
      ? { kind: 'file', file: extra.file, otherwise }
      : this.otherTabOwns || extra.discardSaved
        ? { kind: otherwise }
        : { kind: 'saved-session', otherwise, ...(extra.legacy ? { legacy: extra.legacy } : {}) };
    if (this.otherTabOwns) return { disk: { store: 'scratch' }, resume };
    return { disk: { store: 'session', ...(extra.discardSaved ? { discardSaved: true } : {}) }, resume };
  }

  /** The user typed into the VM: there is something new to save. */
  noteActivity(): void {
    this.activeSinceSave = true;
  }

  booted(startedFrom: StartedFrom): void {
    this.running = true;
    this.bar.setRunning(true);
    if (startedFrom === 'session') {
      this.bar.show(this.source === 'file' ? 'Resumed the session from your file.' : 'Resumed your saved session.', 'info');
      // A session opened from a file becomes the saved one.
      if (this.source === 'file') void this.save('auto');
    }
    clearInterval(this.autosaveTimer);
    this.autosaveTimer = setInterval(() => {
      if (this.activeSinceSave) void this.save('auto');
    }, AUTOSAVE_INTERVAL_MS);
  }

  stopped(): void {
    this.running = false;
    this.bar.setRunning(false);
    clearInterval(this.autosaveTimer);
  }

  /** A notice from the VM; a refused session is moved aside (never deleted) and offered as a download. */
  notice(notice: VmNotice): void {
    switch (notice.code) {
      case 'session-unusable': {
        const damagedId = notice.damagedSessionId;
        if (damagedId) {
          // The worker moved the saved session aside; it makes a file of it on request.
          this.bar.show(notice.message, 'error', { label: 'Download the damaged file', onClick: () => void this.downloadExport(this.hooks.exportDamaged(damagedId)) });
        } else if (this.source === 'store') void this.quarantine(notice.message);
        else this.bar.show(notice.message.replace(/ the saved file was kept.*$/, ' the file was not loaded.'), 'error');
        return;
      }
      case 'snapshot-unusable':
      case 'disk-read-failed':
        this.bar.show(notice.message, 'info');
        return;
      case 'storage-full':
        this.bar.show(notice.message, 'error');
          return;
      case 'relay-unreachable':
      case 'relay-refused':
      case 'image-platform':
        // The network's business: the terminal shows them; the saved session is not concerned.
        return;
      default: {
        const unknown: never = notice.code;
        throw new Error(`unknown notice ${String(unknown)}`);
      }
    }
  }

  private async quarantine(message: string): Promise<void> {
    const name = await this.store?.quarantine().catch((error: unknown) => {
      this.bar.show(`${message} (Moving the damaged file aside failed: ${errorText(error)})`, 'error');
      return undefined;
    });
    if (!name) return;
    this.bar.show(message, 'error', {
      label: 'Download the damaged file',
      onClick: () => void this.store?.readFile(name).then((bytes) => bytes && downloadBytes(bytes as BlobPart, name)),
    });
  }

  private save(trigger: 'button' | 'auto'): Promise<void> {
    if (this.saving) return this.saving;
    if (this.otherTabOwns) {
      this.bar.show(OTHER_TAB_MESSAGE, 'error');
      return Promise.resolve();
    }
    const pending = this.hooks.saveState();
    if (!pending || !this.running) {
      if (trigger === 'button') this.bar.show('Nothing to save yet: the VM is not running.', 'info');
      return Promise.resolve();
    }
    if (!this.store) {
      this.bar.show(this.storeProblem ?? 'Browser storage is not available; use Download instead.', 'error');
      return Promise.resolve();
    }
    const store = this.store;
    this.bar.show('Saving…', 'info');
    this.activeSinceSave = false;
    this.saving = (async () => {
      try {
        const saved = await pending;
        // The worker wrote the save beside the disk's store; a format-1 save from before is superseded.
        await store.clear();
        this.lastSavedAtMs = Date.now();
        this.source = 'store';
        this.bar.show(
          `Saved ${megabytes(saved.fileBytes + saved.diskBytes)} at ${new Date().toLocaleTimeString()} (${megabytes(saved.diskBytes)} of it disk blocks, kept in place).`,
          'info',
          undefined,
          saveStepsText(saved.stepsMs),
        );
      } catch (error) {
        this.activeSinceSave = true;
        this.bar.show(errorText(error), 'error');
      } finally {
        this.saving = undefined;
      }
    })();
    return this.saving;
  }

  private async reset(): Promise<void> {
    if (this.otherTabOwns) {
      this.bar.show(OTHER_TAB_MESSAGE, 'error');
      return;
    }
    if (!window.confirm('Reset deletes your saved session and starts a clean VM. Continue?')) return;
    try {
      await this.saving;
      await this.store?.clear();
    } catch (error) {
      this.bar.show(`Could not delete the saved session: ${errorText(error)}`, 'error');
      return;
    }
    this.source = 'none';
    this.activeSinceSave = false;
    this.stopped();
    this.bar.show('Starting a clean VM…', 'info');
    // The new VM's worker deletes the saved session before it starts (the old worker has let go of it).
    this.hooks.restart(this.startOptions({ discardSaved: true }));
  }

  private download(): Promise<void> {
    return this.downloadExport(this.hooks.exportSession());
  }

  /** Writes the session file (in the worker, streamed from the disk's store), then hands it to the browser. */
  private async downloadExport(pending: Promise<SessionExport> | undefined): Promise<void> {
    if (!pending) {
      this.bar.show('No VM is running to make the file; try again once it has started.', 'info');
      return;
    }
    this.bar.show('Preparing the download…', 'info');
    try {
      const exported = await pending;
      // The file lives in the origin-private file system: the browser reads it from disk, not from memory.
      downloadBytes(exported.file, exported.fileName);
      this.bar.show(`Downloaded ${megabytes(exported.bytes)}.`, 'info');
    } catch (error) {
      this.bar.show(`Download failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }

  private async open(file: File): Promise<void> {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    if (!looksLikeSessionFile(head)) {
      this.bar.show(`${file.name} is not a tabdock session file; nothing was changed.`, 'error');
      return;
    }
    this.source = 'file';
    this.stopped();
    this.bar.show(`Opening ${file.name}…`, 'info');
    this.hooks.restart(this.startOptions({ file }));
  }
}
