// The one owner of v86: boots the guest image, reports stages and failures, bridges the shell console (hvc0)
// and the guest agent (hvc1). Runs unchanged in a Web Worker and in Node; the platform is injected.
import type { V86 } from 'v86';
import {
  VmFailure,
  type BootOptions,
  type BootResult,
  type EmulatorTuning,
  type EngineAction,
  type EngineQuery,
  type EngineQueryResults,
  type ExecOptions,
  type ExecResult,
  type GuestHttpRequest,
  type VmDiagnostics,
  type SavedState,
  type SessionExport,
  type StartedFrom,
  type VmApi,
  type VmError,
  type VmEvent,
  type VmEventListener,
  type NetworkOptions,
  type VmNotice,
  type VmState,
} from '../shared/contract.ts';
import type { AssetSource, Manifest } from './assets.ts';
import { BootTimeline, type GuestNote, type StageTiming } from './boot-timeline.ts';
import { BootMonitor, failureFromSignal, type SerialSignal } from './boot-monitor.ts';
import { VmProbe } from './vm-probe.ts';
import { AfterRestore, type PrefetchTarget } from './after-restore.ts';
import { GuestConsoles, consoleWiresOf, type ConsoleAttachment } from './guest-consoles.ts';
import { internalsOf } from './v86-internals.ts';
import { planStart, type StartPlan } from './snapshot/start-plan.ts';
import { DEFAULT_TUNING, EmulatorStart, type EmulatorPlatform, type StartedEmulator } from './emulator-start.ts';
import { GuestHttpError, guestFetch, type GuestDialer, type GuestFetchOptions, type GuestHttpResponse } from './net/guest-http-client.ts';
import { answerOnPort, type ReplyPort } from './net/guest-http-port.ts';
import { ENGINE_API_PORT } from '../shared/engine-contract.ts';
import { EngineBridge, type LogPort } from './engine/engine-bridge.ts';
import type { GuestSocket } from './net/guest-socket.ts';
import { welcomeOutput } from './snapshot/restore.ts';
import { loadState, RestoreFailed, startWithFallback, stepDown, type FallbackInputs, type RestorePlan } from './snapshot/resume.ts';
import { legacySessionAsState, SAVE_QUIESCE_COMMAND, VmDisks, withLegacySession, type DiskPlatform, type SessionDiskPlan } from './disk/vm-disk.ts';
import type { NetworkAttachment, NetworkSink } from './net/index.ts';

export type { GuestNote, StageTiming } from './boot-timeline.ts';

export interface VmHostPlatform extends EmulatorPlatform {
  /** The asset source for BootOptions.assetBase (fetch in the browser, files in Node). */
  assets(assetBase: string): AssetSource;
  /**
   * Connects the guest's network (worker/vm/net/) to a new emulator at its 'emulator-loaded', long before the
   * guest brings it up, with BootOptions.network (the page's; the Node harness has its own). VmHost keeps the
   * attachment and detaches it when it drops that emulator or shuts down.
   */
  attachNetwork?(emulator: V86, options: NetworkOptions | undefined, sink: NetworkSink): NetworkAttachment;
  /** The guest disk's block store and saved sessions (worker/vm/disk/). */
  disk: DiskPlatform;
}

export const DEFAULT_BOOT_TIMEOUT_MS = 240_000;
export const DEFAULT_EXEC_TIMEOUT_MS = 600_000;

/** What one start attempt made and attached: dropping the attempt detaches all of it. */
interface Attempt {
  readonly started: StartedEmulator;
  readonly consoles: ConsoleAttachment;
  /** Attached at 'emulator-loaded'. */
  network: NetworkAttachment | undefined;
  /** A saved session's store: moved aside when the attempt fails. */
  readonly disk: SessionDiskPlan | undefined;
}

export class VmHost implements VmApi {
  private readonly listeners = new Map<number, VmEventListener>();
  private nextListenerId = 1;
  /** The start attempt running now: its emulator and what is attached to it. */
  private attempt: Attempt | undefined;
  /** BootOptions.network, for each emulator's network. */
  private network: NetworkOptions | undefined;
  private state: VmState = 'idle';
  private memoryBytes = 0;
  private manifest: Manifest | undefined;
  private startedFrom: StartedFrom = 'cold-boot';
  private tuning: Required<EmulatorTuning> = { ...DEFAULT_TUNING };
  /** The after-restore check still running behind an early 'ready' (resume); never rejects. */
  private restoreCheck: Promise<void> | undefined;
  /** How boot() starts from the next source; kept for a restore that fails after 'ready'. */
  private fallback: Omit<FallbackInputs, 'first'> | undefined;
  private readonly bootTimeline = new BootTimeline({ stage: (stage, atMs) => this.emit({ type: 'stage', stage, atMs }) });
  private monitor = new BootMonitor((signal) => this.onSerialSignal(signal));
  private bootSettle: { resolve: () => void; reject: (error: VmFailure) => void } | undefined;
  private bootTimer: ReturnType<typeof setTimeout> | undefined;
  /** The serial log, the shell (hvc0) and the agent (hvc1), attached to each attempt's emulator. */
  private readonly consoles = new GuestConsoles({
    serialByte: (byte) => {
      this.monitor.pushByte(byte);
      this.probe.serialByte(byte);
    },
    shellOutput: (data) => this.emit({ type: 'console', data }),
    agentNote: (text) => this.monitorNote(`agent: ${text}`),
    sockets: (sockets) => this.emit({ type: 'listening-sockets', sockets }),
    lastConsoleLines: (count) => this.monitor.lastLines(count),
  });
  /** Clock, check, prefetch and warm-up after a restore (after-restore.ts). */
  private readonly afterRestore = new AfterRestore({
    agent: () => this.consoles.agent,
    exec: (command, timeoutMs) => this.exec(command, { timeoutMs }),
    holdShellInput: () => this.consoles.holdShellInput(),
    releaseShellInput: () => this.consoles.releaseShellInput(),
    step: (step) => this.bootTimeline.step(step),
    note: (text) => this.monitorNote(text),
    running: () => this.state === 'running',
  });
  /** The Docker view's Engine API calls and /events watch (engine/engine-bridge.ts). */
  private readonly engine = new EngineBridge({
    dialer: () => (this.state === 'running' && this.emulator ? (internalsOf(this.emulator).network_adapter as unknown as GuestDialer | undefined) : undefined),
    emit: (update) => this.emit({ type: 'engine', update }),
  });
  private readonly disks: VmDisks;
  private damagedSessionId: string | undefined;

  private readonly emulators: EmulatorStart;
  /** The bench's and tests' window into the running VM (vm-probe.ts). */
  readonly probe = new VmProbe({
    started: () => this.attempt?.started,
    disk: () => this.disks.disk,
    afterRestore: () => this.afterRestore.figures(),
    tuning: () => this.tuning,
    stages: () => this.bootTimeline.stages,
    notes: () => this.bootTimeline.notes,
  });

  constructor(private readonly platform: VmHostPlatform) {
    this.disks = new VmDisks(platform.disk, (notice) => this.emit({ type: 'notice', notice }));
    this.emulators = new EmulatorStart(platform, {
      download: (loadedBytes, totalBytes) => this.emit({ type: 'download', loadedBytes, totalBytes }),
      loaded: (emulator) => {
        const attempt = this.attempt;
        if (attempt?.started.emulator !== emulator) return;
        this.consoles.devicesLoaded();
        attempt.network = platform.attachNetwork?.(emulator, this.network, {
          notice: (notice) => this.emit({ type: 'notice', notice }),
          layerProgress: (progress) => this.engine.layerProgress(progress),
        });
      },
    });
  }

  private get emulator(): V86 | undefined {
    return this.attempt?.started.emulator;
  }

  subscribe(listener: VmEventListener): number {
    const id = this.nextListenerId++;
    this.listeners.set(id, listener);
    return id;
  }

  unsubscribe(id: number): void {
    this.listeners.delete(id);
  }

  async diagnostics(): Promise<VmDiagnostics> {
    return this.probe.diagnostics();
  }

  async boot(options: BootOptions): Promise<BootResult> {
    if (this.state !== 'idle') {
      throw new VmFailure({ code: 'internal', message: `boot() was called while the VM is ${this.state}; create a new VmHost to boot again.` });
    }
    if (typeof WebAssembly === 'undefined') {
      const failure = new VmFailure({
        code: 'no-webassembly',
        message: 'This browser has WebAssembly turned off or unsupported, and the emulator needs it. Use a current Chrome, Firefox or Safari with WebAssembly enabled.',
      });
      this.fail(failure);
      throw failure;
    }
    this.bootTimeline.start();
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.afterRestore.configure({ warmUp: options.warmUp === true, diskPrefetch: this.tuning.diskPrefetch });
    this.network = options.network;
    this.setState('booting');
    this.bootTimeline.reach('downloading');
    try {
      const source = this.platform.assets(options.assetBase);
      const manifest = await source.loadManifest();
      this.manifest = manifest;
      // A saved session that would not resume was moved aside by the disk side: say under which id.
      const notify = (notice: VmNotice) => {
        const damagedSessionId = notice.code === 'session-unusable' ? this.damagedSessionId : undefined;
        this.damagedSessionId = undefined;
        this.emit({ type: 'notice', notice: damagedSessionId ? { ...notice, damagedSessionId } : notice });
      };
      options = await legacySessionAsState(options);
      const sessionPlan = await this.disks.plan(options, manifest, manifest.files.rootDisk.bytes);
      options = await withLegacySession(options, this.disks);
      // Snapshot/session hook (worker/vm/snapshot/): a checked state to resume, or a cold boot.
      const onSnapshotProgress = (loadedBytes: number, totalBytes: number) => this.emit({ type: 'download', loadedBytes, totalBytes });
      const plan = sessionPlan ?? (await planStart({ source, manifest, options, notify, onSnapshotProgress }));
      this.bootTimeline.step('state-read');
      this.fallback = {
        attempt: (next) => this.startAttempt(source, manifest, options, next),
        discard: () => this.discardEmulator(),
        notify,
        planWithoutSession: () => {
          const { sessionState: _failed, sessionFile: _failedFile, ...withoutSession } = options;
          return planStart({ source, manifest, options: withoutSession, notify, onSnapshotProgress }).then((next) => {
            this.bootTimeline.step('state-read');
            return next;
          });
        },
        note: (text) => this.monitorNote(text),
      };
      await startWithFallback({ first: plan, ...this.fallback });
    } catch (error) {
      const failure = toFailure(error);
      this.fail(failure);
      throw failure;
    }
    return { ...this.bootTimeline.result(), restoredFromSnapshot: this.startedFrom !== 'cold-boot', startedFrom: this.startedFrom };
  }

  async saveState(): Promise<SavedState> {
    // Never save a resumed guest before it has proved it answers: that could put a dead state over a good one.
    await this.restoreCheck;
    if (this.state !== 'running' || !this.emulator || !this.manifest) {
      throw new VmFailure({ code: 'not-running', message: `Cannot save: the VM is ${this.state}. Wait for it to finish booting.` });
    }
    // A state saved before the agent is up would resume without one; it comes up seconds after 'ready'.
    await this.consoles.agentReady('save', 60_000);
    const quiesceStarted = performance.now();
    await this.dropGuestCaches();
    const quiesce = Math.round(performance.now() - quiesceStarted);
    const saved = await this.disks.save(this.emulator, this.manifest, this.memoryBytes);
    return { ...saved, stepsMs: { ...saved.stepsMs, quiesce } };
  }

  async exportSession(): Promise<SessionExport> {
    await this.restoreCheck;
    if (this.state !== 'running' || !this.emulator || !this.manifest) {
      throw new VmFailure({ code: 'not-running', message: `Cannot download the session: the VM is ${this.state}. Wait for it to finish booting.` });
    }
    await this.consoles.agentReady('download', 60_000);
    await this.dropGuestCaches();
    return this.disks.export(this.emulator, this.manifest, this.memoryBytes);
  }

  /**
   * Before a save: the guest's clean page cache out of its RAM (SAVE_QUIESCE_COMMAND). After a 1 GiB write the
   * cache held ~900 MB of it, and the state took 35 s to save and 0.9 GB of file. Best effort: a guest that
   * does not answer in time is saved as it is.
   */
  private async dropGuestCaches(): Promise<void> {
    try {
      await this.consoles.agent.exec(SAVE_QUIESCE_COMMAND, 30_000);
    } catch (error) {
      this.monitorNote(`dropping the guest's caches before a save failed: ${String(error)}`);
    }
  }

  async exportDamagedSession(id: string): Promise<SessionExport> {
    if (!this.manifest) throw new VmFailure({ code: 'not-running', message: 'The VM has not started yet; try again in a moment.' });
    return this.disks.exportDamaged(id, this.manifest);
  }

  sendInput(data: Uint8Array | string): void {
    this.afterRestore.userTyped();
    this.consoles.typeIntoShell(data);
  }

  resize(cols: number, rows: number): void {
    this.consoles.resize(cols, rows);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    // After a restore, commands run once the clock is set and the guest has answered (resume).
    if (this.state === 'running') await this.restoreCheck;
    if (this.state !== 'running' || !this.emulator) {
      throw new VmFailure({
        code: 'not-running',
        message: `Cannot run \`${command}\`: the VM is ${this.state}. Wait for it to finish booting, or restart it.`,
      });
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    await this.consoles.agentReady(command, timeoutMs);
    return this.consoles.agent.exec(command, timeoutMs);
  }

  /** Port preview: one HTTP request into a guest TCP port (worker/vm/net/guest-http-client.ts). */
  guestFetch(request: GuestHttpRequest, options?: GuestFetchOptions): Promise<GuestHttpResponse> {
    // The Engine API is root on the guest: a site in the preview (same origin as the page) must not reach it.
    if (request.port === ENGINE_API_PORT) {
      return Promise.reject(new GuestHttpError('bad-request', `Port ${ENGINE_API_PORT} is the Docker daemon's own API; the port preview does not open it.`));
    }
    const adapter = this.emulator ? internalsOf(this.emulator).network_adapter : undefined;
    if (this.state !== 'running' || !adapter) {
      return Promise.reject(
        new GuestHttpError('vm-not-running', `The VM is ${this.state}, so port ${request.port} cannot be reached. Wait for it to boot, or restart it.`),
      );
    }
    return guestFetch(adapter as unknown as GuestDialer, request, options);
  }

  forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort): void {
    void answerOnPort(this.guestFetch(request), reply as unknown as ReplyPort);
  }

  async engineQuery<K extends EngineQuery['kind']>(query: Extract<EngineQuery, { kind: K }>): Promise<EngineQueryResults[K]> {
    await this.restoreCheck;
    return this.engine.query(query);
  }

  async engineAction(action: EngineAction): Promise<void> {
    await this.restoreCheck;
    return this.engine.act(action);
  }

  watchEngine(on: boolean): void {
    this.engine.watch(on);
  }

  followEngineLogs(containerId: string, reply: MessagePort): void {
    void this.engine.followLogs(containerId, reply as unknown as LogPort);
  }

  /** A raw TCP connection to the guest's Engine API; not part of VmApi (the Node CLI's --docker-socket). */
  dialEngine(): Promise<GuestSocket> {
    return this.engine.dial();
  }

  async shutdown(): Promise<void> {
    this.engine.watch(false);
    this.clearBootTimer();
    if (this.state !== 'failed') this.setState('stopped');
    const stopped = new VmFailure({ code: 'not-running', message: 'The VM was shut down before it finished; start it again to continue.' });
    const dropping = this.dropAttempt(stopped);
    this.consoles.dispose(stopped);
    this.bootSettle?.reject(stopped);
    this.bootSettle = undefined;
    await dropping;
    await this.disks.close();
    await this.platform.disk.dispose?.();
  }

  /** One start from one source; a restore that does not come back rejects with RestoreFailed. */
  private async startAttempt(source: AssetSource, manifest: Manifest, options: BootOptions, plan: StartPlan): Promise<void> {
    const [files, diskRef] = await Promise.all([
      this.emulators.files(source, manifest, plan),
      source.diskImage(manifest.files.rootDisk),
    ]);
    const sessionDisk = plan.kind === 'restore' ? (plan as { disk?: SessionDiskPlan }).disk : undefined;
    const disk = await this.disks.open(sessionDisk, diskRef);
    this.memoryBytes = plan.kind === 'restore' ? plan.header.memoryBytes : (options.memoryBytes ?? manifest.recommendedMemoryBytes);
    // Settled by the 'ready' stage marker (cold boot) or rejected by fail() (boot timeout, kernel panic...).
    const ready = new Promise<void>((resolve, reject) => {
      this.bootSettle = { resolve, reject };
    });
    if (this.bootTimer === undefined) {
      const timeoutMs = options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
      this.bootTimer = setTimeout(() => this.bootTimedOut(timeoutMs), timeoutMs);
    }
    const started = this.emulators.create({ manifest, files, disk, memoryBytes: this.memoryBytes, plan, tuning: this.tuning });
    this.attempt = { started, consoles: this.consoles.attach(consoleWiresOf(started.emulator)), network: undefined, disk: sessionDisk };
    if (options.cols && options.rows) this.resize(options.cols, options.rows);
    if (plan.kind === 'cold-boot') {
      await ready;
      return;
    }
    await Promise.race([started.loaded, ready]);
    this.bootTimeline.step('emulator-loaded');
    await this.resume(plan);
  }

  /**
   * Loads the checked state and says 'ready' at once: it was saved with dockerd and the agent ready, so the
   * terminal is live as soon as the CPU runs. The after-restore check (clock, DHCP, proof the guest answers:
   * resume.ts) goes on behind it: agent commands and saves wait for it, and a guest that does not answer is
   * replaced from the next source (restoreFailedLate). Waiting for the check first cost a returning visitor
   * 3-6 s: right after a restore v86 runs the guest's code uncompiled, and one agent request starts a dozen
   * processes.
   */
  private async resume(plan: RestorePlan): Promise<void> {
    const emulator = this.emulator;
    if (!emulator) throw new RestoreFailed('The emulator went away during the restore.', 'no emulator');
    await loadState(emulator, plan.state);
    this.bootTimeline.step('state-loaded');
    this.consoles.agentWasReady();
    const answered = this.afterRestore.begin(plan);
    this.resumed(plan);
    this.afterRestore.live(this.prefetchTarget());
    this.restoreCheck = answered.catch((error: unknown) => this.restoreFailedLate(emulator, plan, error));
  }

  /** The check after an early 'ready' failed: start again from the next source, as a failed restore does. */
  private async restoreFailedLate(emulator: V86, plan: RestorePlan, error: unknown): Promise<void> {
    const fallback = this.fallback;
    // Shut down (or already replaced) meanwhile: nothing to recover.
    if (this.emulator !== emulator || this.state !== 'running' || !fallback) return;
    const failure = error instanceof RestoreFailed ? error : new RestoreFailed('The resumed VM stopped answering right after the restore.', String(error));
    this.setState('booting');
    try {
      const next = await stepDown(plan, failure, fallback, ' after the terminal was live');
      await startWithFallback({ first: next, ...fallback });
    } catch (thrown) {
      this.fail(toFailure(thrown));
    }
  }

  /** Drops the emulator of a failed restore and gives the next attempt a fresh agent channel. */
  private async discardEmulator(): Promise<void> {
    this.bootSettle = undefined;
    this.bootTimeline.forgetSteps();
    const disk = await this.dropAttempt(new VmFailure({ code: 'not-running', message: 'The restore failed; the VM starts again from the next source.' }));
    // After the emulator is gone (it may still write): the store closes, a saved session's is moved aside.
    this.damagedSessionId = await this.disks.attemptFailed(disk, 'the emulator could not resume it');
  }

  /** Ends the current attempt: what was attached to its emulator is detached, then the emulator goes. */
  private async dropAttempt(reason: VmFailure): Promise<SessionDiskPlan | undefined> {
    const attempt = this.attempt;
    this.attempt = undefined;
    this.afterRestore.cancel();
    if (!attempt) return undefined;
    attempt.network?.detach();
    attempt.consoles.detach(reason);
    await attempt.started.discard();
    return attempt.disk;
  }

  /** The state is loaded and runs: it was ready (dockerd, agent) when it was saved. */
  private resumed(plan: RestorePlan): void {
    this.startedFrom = plan.from;
    this.bootTimeline.reach('ready');
    this.clearBootTimer();
    this.setState('running');
    this.bootSettle?.resolve();
    // The user's terminal is empty after a reload: the boot snapshot's welcome text, then a fresh prompt.
    const welcome = welcomeOutput(plan.header);
    if (welcome) this.consoles.showInTerminal(welcome);
    this.consoles.typeIntoShell('\n');
  }

  /** The boot snapshot's list of the disk chunks a first docker run reads, and the image cache to load them into. */
  private prefetchTarget(): PrefetchTarget | undefined {
    const list = this.manifest?.snapshot?.prefetch;
    const image = this.disks.disk?.image;
    return list && image ? { list, image } : undefined;
  }

  private onSerialSignal(signal: Exclude<SerialSignal, { kind: 'none' }>): void {
    switch (signal.kind) {
      case 'stage':
        this.bootTimeline.reach(signal.stage, signal.guestUptimeS);
        if (signal.stage === 'ready' && this.state === 'booting') {
          this.clearBootTimer();
          this.setState('running');
          this.bootSettle?.resolve();
        }
        return;
      case 'note':
        this.bootTimeline.note(signal.what, signal.guestUptimeS);
        return;
      case 'failure':
        if (this.afterRestore.guestFailed(new RestoreFailed(`The guest reported a failure: ${signal.code}.`, this.monitor.lastLines()))) return;
        this.fail(failureFromSignal(signal, this.monitor.lastLines()));
        if (signal.code === 'kernel-panic') void this.emulator?.stop();
        return;
      default: {
        const unreachable: never = signal;
        throw new Error(`unhandled serial signal ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private bootTimedOut(timeoutMs: number): void {
    this.bootTimer = undefined;
    const reached = this.bootTimeline.lastStage;
    this.fail(
      new VmFailure({
        code: 'boot-timeout',
        message: `The VM did not finish booting within ${Math.round(timeoutMs / 1000)} s (last stage: ${reached}). A slow machine may need a longer boot timeout; the last console lines are below.`,
        detail: this.monitor.lastLines(),
      }),
    );
    void this.emulator?.stop();
  }

  private fail(failure: VmFailure): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.clearBootTimer();
    this.setState('failed');
    const error: VmError = { code: failure.code, message: failure.message };
    if (failure.detail !== undefined) error.detail = failure.detail;
    this.emit({ type: 'error', error });
    this.consoles.agent.failAll(failure);
    this.bootSettle?.reject(failure);
  }

  private monitorNote(text: string): void {
    this.monitor.note(`[host] ${text}`);
  }

  private clearBootTimer(): void {
    if (this.bootTimer !== undefined) clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
  }

  private setState(state: VmState): void {
    this.state = state;
    this.emit({ type: 'status', state, memoryBytes: this.memoryBytes, restoredFromSnapshot: this.startedFrom !== 'cold-boot' });
    // The agent pushes its listening sockets when they change; a new page (or a restored guest) needs them once.
    if (state === 'running') {
      this.consoles.agent.requestSockets();
      this.engine.vmRunning();
    }
  }

  private emit(event: VmEvent): void {
    for (const listener of this.listeners.values()) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener must not stop the others or the emulator loop; report it where developers look.
        console.error('tabdock: a VmEvent listener threw', error);
      }
    }
  }
}

function toFailure(error: unknown): VmFailure {
  if (error instanceof VmFailure) return error;
  return new VmFailure({
    code: 'internal',
    message: 'The VM host hit an unexpected error while booting; reload to try again, and report it if it repeats.',
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}
