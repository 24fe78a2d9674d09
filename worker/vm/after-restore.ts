// What follows a restore, with the prompt live at once: the guest clock set before anything typed runs, the
// check that the guest answers (snapshot/resume.ts), the welcome text and a fresh prompt, the disk chunks a first
// docker run reads loaded in the background, and the optional warm-up container once the guest answered and
// nobody typed. VmHost owns one and cancels it when it drops the emulator it worked for.
import type { ExecResult, StartStep, VmDiagnostics } from '../shared/contract.ts';
import type { SnapshotAsset } from './assets.ts';
import type { ImageCache } from './disk/image-cache.ts';
import type { GuestAgent } from './guest-agent.ts';
import { welcomeOutput } from './snapshot/restore.ts';
import { checkResumedGuest, RestoreFailed, type RestorePlan } from './snapshot/resume.ts';

/**
 * How long the prompt and the user's typing wait for the guest clock after a restore. The agent answers in
 * well under a second; past this the prompt comes anyway (the restore check then decides whether the guest lives).
 */
export const CLOCK_SET_TIMEOUT_MS = 10_000;
/** How long after the guest answered a restore the warm-up waits for the user to start typing (or not). */
const WARM_UP_DELAY_MS = 2_000;
const WARM_UP_TIMEOUT_MS = 300_000;
/** vm-images/config/tabdock-warm-up. */
const WARM_UP_COMMAND = '/usr/local/libexec/tabdock-warm-up';
/** Prefetch requests in flight at once: enough to keep a link busy, few enough to leave room for the guest's. */
const DISK_PREFETCH_CONCURRENCY = 2;

export interface AfterRestoreDeps {
  /** The resumed guest's consoles (a sibling part): its agent, the shell's input, the terminal. */
  consoles: RestoredConsoles;
  /** The terminal is live: the VM is ready (the check goes on behind). */
  ready(plan: RestorePlan): void;
  /** A command the way VmHost.exec runs one (the warm-up). */
  exec(command: string, timeoutMs: number): Promise<ExecResult>;
  step(step: StartStep): void;
  /** For the error log. */
  note(text: string): void;
  /** Whether the VM still runs; the prefetch and the warm-up stop when it does not. */
  running(): boolean;
  /** Waits before the warm-up (tests pass their own). */
  delay?: (ms: number) => Promise<void>;
}

export interface AfterRestoreSettings {
  /** BootOptions.warmUp. */
  warmUp: boolean;
  /** EmulatorTuning.diskPrefetch. */
  diskPrefetch: boolean;
}

export interface RestoredConsoles {
  readonly agent: Pick<GuestAgent, 'setClock' | 'exec'>;
  agentWasReady(): void;
  holdShellInput(): void;
  releaseShellInput(): void;
  showInTerminal(bytes: Uint8Array): void;
  typeIntoShell(data: string): void;
}

/** The root disk's image cache and the boot snapshot's list of the chunks a first docker run read. */
export interface PrefetchTarget {
  image: Pick<ImageCache, 'options' | 'prefetchChunks'>;
  list: NonNullable<SnapshotAsset['prefetch']>;
}

export class AfterRestore {
  /** Counts restores and cancels: work begun for an earlier one finds it changed and stops. */
  private round = 0;
  private settings: AfterRestoreSettings = { warmUp: false, diskPrefetch: true };
  private checking: ((failure: RestoreFailed) => void) | undefined;
  private typedSinceRestore = false;
  private readyAtMs = 0;
  private diskPrefetch: VmDiagnostics['diskPrefetch'];
  private warmUpFigures: VmDiagnostics['warmUp'];
  private readonly delay: (ms: number) => Promise<void>;

  constructor(private readonly deps: AfterRestoreDeps) {
    this.delay = deps.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  configure(settings: AfterRestoreSettings): void {
    this.settings = settings;
  }

  /**
   * Right after the state loaded. The guest clock stood still from the save until now: nothing the user types
   * runs until it is set, so a command never sees the clock jump under it. The check starts, the terminal is
   * live, and the returned promise resolves once the guest answered (the warm-up follows), or rejects with
   * RestoreFailed when it does not.
   */
  begin(plan: RestorePlan, prefetch: PrefetchTarget | undefined): Promise<void> {
    const round = ++this.round;
    const current = () => this.round === round;
    const { consoles } = this.deps;
    // The agent printed its banner before the save; this host never saw it.
    consoles.agentWasReady();
    const agent = consoles.agent;
    consoles.holdShellInput();
    const releaseShell = () => {
      if (current()) consoles.releaseShellInput();
    };
    void agent.setClock(CLOCK_SET_TIMEOUT_MS).then(
      (exitCode) => {
        if (exitCode !== 0) this.deps.note(`setting the guest clock after the restore failed (date exited ${exitCode})`);
        if (current()) this.deps.step('clock-set');
        releaseShell();
      },
      (error: unknown) => {
        this.deps.note(`the guest clock was not set after the restore: ${String(error)}`);
        releaseShell();
      },
    );
    const guestFailure = new Promise<never>((_, reject) => {
      this.checking = reject;
    });
    const check = checkResumedGuest({ plan, exec: (command, timeoutMs) => agent.exec(command, timeoutMs), guestFailure }).finally(() => {
      if (current()) this.checking = undefined;
    });
    this.typedSinceRestore = false;
    this.warmUpFigures = undefined;
    this.deps.ready(plan);
    this.readyAtMs = performance.now();
    // The user's terminal is empty after a reload: the boot snapshot's welcome text, then a fresh prompt.
    const welcome = welcomeOutput(plan.header);
    if (welcome) consoles.showInTerminal(welcome);
    consoles.typeIntoShell('\n');
    this.prefetch(prefetch);
    return check.then(() => {
      if (!current()) return;
      this.deps.step('guest-answered');
      if (this.settings.warmUp) void this.warmUp(round);
    });
  }

  /**
   * The prompt is live. After a restore the guest's page cache is empty, so a first docker run reads its
   * programs from the lazily loaded disk (tens of MB, one request per chunk, while the guest waits). The boot
   * snapshot lists the chunks such a run read at build time; they load in the background while the user reads
   * the prompt.
   */
  private prefetch(prefetch: PrefetchTarget | undefined): void {
    if (!this.settings.diskPrefetch || !prefetch || prefetch.image.options.chunkBytes !== prefetch.list.chunkBytes) return;
    const round = this.round;
    const startedMs = performance.now();
    void prefetch.image.prefetchChunks(prefetch.list.chunks, DISK_PREFETCH_CONCURRENCY, () => this.round === round && this.deps.running()).then(({ loadedBytes, failed }) => {
      this.diskPrefetch = { loadedBytes, failed, ms: Math.round(performance.now() - startedMs) };
    });
  }

  /** The serial console reported a failure: true when a check was waiting for one (it fails with it). */
  guestFailed(failure: RestoreFailed): boolean {
    const checking = this.checking;
    if (!checking) return false;
    checking(failure);
    return true;
  }

  userTyped(): void {
    this.typedSinceRestore = true;
  }

  /** The emulator this worked for is gone: nothing more is done for it. */
  cancel(): void {
    this.round++;
    this.checking = undefined;
  }

  /** The last prefetch (once it finished) and warm-up, for VmApi.diagnostics. */
  figures(): Pick<VmDiagnostics, 'diskPrefetch' | 'warmUp'> {
    return { ...(this.diskPrefetch ? { diskPrefetch: this.diskPrefetch } : {}), ...(this.warmUpFigures ? { warmUp: this.warmUpFigures } : {}) };
  }

  /**
   * One throwaway container while the user reads the prompt (BootOptions.warmUp): after a restore the JIT is
   * empty and a first docker run pays for compiling the docker CLI, dockerd, containerd, the shim and crun.
   * Only when nothing was typed since the restore; it is niced in the guest and never cancelled (killing the
   * CLI halfway would leave a created container behind).
   */
  private async warmUp(round: number): Promise<void> {
    await this.delay(WARM_UP_DELAY_MS);
    if (this.round !== round || !this.deps.running()) return;
    if (this.typedSinceRestore) {
      this.warmUpFigures = { skipped: true };
      return;
    }
    const startedMs = performance.now();
    const result = await this.deps.exec(WARM_UP_COMMAND, WARM_UP_TIMEOUT_MS).catch((error: unknown) => {
      this.deps.note(`the warm-up after the restore failed: ${String(error)}`);
      return undefined;
    });
    if (this.round !== round) return;
    this.warmUpFigures = { startedAfterReadyMs: Math.round(startedMs - this.readyAtMs), ms: Math.round(performance.now() - startedMs), exitCode: result?.exitCode ?? -1 };
  }
}
