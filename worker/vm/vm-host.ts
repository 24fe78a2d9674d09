// The one owner of v86: the VmApi, the boot state machine (booting, running, a restore stepping down to the next
// source, failed, stopped) and the pass-throughs to the parts it owns: consoles, emulator start, after-restore,
// timeline, probe, disks, engine. Runs unchanged in a Web Worker and in Node; the platform is injected.
import type { V86 } from 'v86';
import { VmFailure, type BootOptions, type BootResult, type EmulatorTuning, type ExecOptions, type ExecResult, type GuestHttpRequest } from '../shared/contract.ts';
import type { EngineAction, EngineQuery, EngineQueryResults, SavedState, SessionExport, StartedFrom } from '../shared/contract.ts';
import type { VmApi, VmDiagnostics, VmError, VmEventListener, VmNotice, VmState } from '../shared/contract.ts';
import type { AssetSource, Manifest } from './assets.ts';
import { AfterRestore, type PrefetchTarget } from './after-restore.ts';
import { BootMonitor, failureFromSignal, unexpectedFailure, type SerialSignal } from './boot-monitor.ts';
import { BootDeadline } from './boot-deadline.ts';
import { BootTimeline } from './boot-timeline.ts';
import { SAVE_QUIESCE_COMMAND, VmDisks, type SessionDiskPlan } from './disk/vm-disk.ts';
import { DEFAULT_TUNING, EmulatorStart } from './emulator-start.ts';
import { EngineBridge, type LogPort } from './engine/engine-bridge.ts';
import { GuestConsoles, consoleWiresOf } from './guest-consoles.ts';
import type { GuestDialer, GuestFetchOptions, GuestHttpResponse } from './net/guest-http-client.ts';
import { answerOnPort, previewFetch, type ReplyPort } from './net/guest-http-port.ts';
import type { GuestSocket } from './net/guest-socket.ts';
import { loadState, RestoreFailed, restoreFailedNotice, startWithFallback, type RestorePlan } from './snapshot/resume.ts';
import { resumeChoice, StartPlanner, type StartPlan } from './snapshot/start-plan.ts';
import { StartAttempt } from './start-attempt.ts';
import { internalsOf } from './v86-internals.ts';
import type { VmHostPlatform } from './vm-host-platform.ts';
import { VmEvents } from './vm-events.ts';
import { VmProbe } from './vm-probe.ts';

export type { GuestNote, StageTiming } from './boot-timeline.ts';
export type { VmHostPlatform } from './vm-host-platform.ts';

export const DEFAULT_BOOT_TIMEOUT_MS = 240_000;
export const DEFAULT_EXEC_TIMEOUT_MS = 600_000;

export class VmHost implements VmApi {
  private readonly events = new VmEvents();
  private state: VmState = 'idle';
  /** What boot() starts from, kept for the next source when a restore fails (also after 'ready'). */
  private starting: { source: AssetSource; manifest: Manifest; options: BootOptions; planner: StartPlanner } | undefined;
  /** The start attempt running now: its emulator and what is attached to it. */
  private attempt: StartAttempt | undefined;
  private memoryBytes = 0;
  private startedFrom: StartedFrom = 'cold-boot';
  private tuning: Required<EmulatorTuning> = { ...DEFAULT_TUNING };
  /** The after-restore check still running behind an early 'ready' (resume); never rejects. */
  private restoreCheck: Promise<void> | undefined;
  /** The wait for 'ready' and the boot timeout. */
  private readonly deadline = new BootDeadline((timeoutMs) => this.bootTimedOut(timeoutMs));
  private readonly monitor = new BootMonitor((signal) => this.onSerialSignal(signal));
  private readonly bootTimeline = new BootTimeline({ stage: (stage, atMs) => this.events.emit({ type: 'stage', stage, atMs }) });
  /** The serial log, the shell (hvc0) and the agent (hvc1), attached to each attempt's emulator. */
  private readonly consoles = new GuestConsoles({
    serialByte: (byte) => {
      this.monitor.pushByte(byte);
      this.probe.serialByte(byte);
    },
    shellOutput: (data) => this.events.emit({ type: 'console', data }),
    agentNote: (text) => this.monitorNote(`agent: ${text}`),
    sockets: (sockets) => this.events.emit({ type: 'listening-sockets', sockets }),
    lastConsoleLines: (count) => this.monitor.lastLines(count),
  });
  /** Clock, check, prefetch and warm-up after a restore. */
  private readonly afterRestore = new AfterRestore({
    consoles: this.consoles,
    ready: (plan) => {
      this.startedFrom = plan.from;
      this.ready();
    },
    exec: (command, timeoutMs) => this.exec(command, { timeoutMs }),
    step: (step) => this.bootTimeline.step(step),
    note: (text) => this.monitorNote(text),
    running: () => this.state === 'running',
  });
  /** The Docker view's Engine API calls and /events watch. */
  private readonly engine = new EngineBridge({ dialer: () => this.guestDialer(), emit: (update) => this.events.emit({ type: 'engine', update }) });
  private readonly disks: VmDisks;
  private readonly emulators: EmulatorStart;
  /** The bench's and tests' window into the running VM. */
  readonly probe = new VmProbe({
    started: () => this.attempt?.started,
    disk: () => this.disks.disk,
    afterRestore: () => this.afterRestore.figures(),
    tuning: () => this.tuning,
    stages: () => this.bootTimeline.stages,
    notes: () => this.bootTimeline.notes,
  });

  constructor(private readonly platform: VmHostPlatform) {
    this.disks = new VmDisks(
      platform.disk,
      (notice) => this.events.emit({ type: 'notice', notice }),
      // Best effort: a guest that does not answer in time is saved as it is.
      () => this.consoles.agent.exec(SAVE_QUIESCE_COMMAND, 30_000).then(
        () => undefined,
        (error: unknown) => this.monitorNote(`dropping the guest's caches before a save failed: ${String(error)}`),
      ),
    );
    this.emulators = new EmulatorStart(platform, {
      download: (loadedBytes, totalBytes) => this.events.emit({ type: 'download', loadedBytes, totalBytes }),
      loaded: (emulator) => {
        const attempt = this.attempt;
        if (attempt?.emulator !== emulator) return;
        this.consoles.devicesLoaded();
        attempt.network = platform.attachNetwork?.(emulator, this.starting?.options.network, {
          notice: (notice) => this.events.emit({ type: 'notice', notice }),
          layerProgress: (progress) => this.engine.layerProgress(progress),
        });
      },
    });
  }

  subscribe(listener: VmEventListener): number {
    return this.events.subscribe(listener);
  }

  unsubscribe(id: number): void {
    this.events.unsubscribe(id);
  }

  async boot(options: BootOptions): Promise<BootResult> {
    if (this.state !== 'idle') {
      throw new VmFailure({ code: 'internal', message: `boot() was called while the VM is ${this.state}; create a new VmHost to boot again.` });
    }
    const unsupported = this.emulators.unsupported();
    if (unsupported) {
      this.fail(unsupported);
      throw unsupported;
    }
    this.bootTimeline.start();
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.afterRestore.configure({ warmUp: options.warmUp === true, diskPrefetch: this.tuning.diskPrefetch });
    this.setState('booting');
    this.bootTimeline.reach('downloading');
    try {
      const resume = resumeChoice(options);
      const source = this.platform.assets(options.assetBase);
      const manifest = await source.loadManifest();
      await this.disks.prepare(options.disk);
      const notify = (notice: VmNotice) => this.events.emit({ type: 'notice', notice });
      const onSnapshotProgress = (loadedBytes: number, totalBytes: number) => this.events.emit({ type: 'download', loadedBytes, totalBytes });
      const planner = new StartPlanner({ source, manifest, resume, memoryBytes: options.memoryBytes, sessions: this.disks, notify, onSnapshotProgress });
      this.starting = { source, manifest, options, planner };
      const first = await planner.first();
      this.bootTimeline.step('state-read');
      await startWithFallback(first, (plan) => this.startAttempt(plan), (failed, failure) => this.stepDown(failed, failure));
    } catch (error) {
      const failure = unexpectedFailure(error);
      this.fail(failure);
      throw failure;
    }
    return { ...this.bootTimeline.result(), restoredFromSnapshot: this.startedFrom !== 'cold-boot', startedFrom: this.startedFrom };
  }

  async saveState(): Promise<SavedState> {
    const { emulator, manifest } = await this.readyToSave('save');
    return this.disks.save(emulator, manifest, this.memoryBytes);
  }

  async exportSession(): Promise<SessionExport> {
    const { emulator, manifest } = await this.readyToSave('download');
    return this.disks.export(emulator, manifest, this.memoryBytes);
  }

  async exportDamagedSession(id: string): Promise<SessionExport> {
    const manifest = this.starting?.manifest;
    if (!manifest) throw new VmFailure({ code: 'not-running', message: 'The VM has not started yet; try again in a moment.' });
    return this.disks.exportDamaged(id, manifest);
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
    if (this.state !== 'running' || !this.attempt) {
      throw new VmFailure({ code: 'not-running', message: `Cannot run \`${command}\`: the VM is ${this.state}. Wait for it to finish booting, or restart it.` });
    }
    return this.consoles.exec(command, options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
  }

  /** Port preview: one HTTP request into a guest TCP port (worker/vm/net/guest-http-port.ts). */
  guestFetch(request: GuestHttpRequest, options?: GuestFetchOptions): Promise<GuestHttpResponse> {
    return previewFetch(this.guestDialer(), this.state, request, options);
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

  async diagnostics(): Promise<VmDiagnostics> {
    return this.probe.diagnostics();
  }

  async shutdown(): Promise<void> {
    this.engine.watch(false);
    if (this.state !== 'failed') this.setState('stopped');
    const stopped = new VmFailure({ code: 'not-running', message: 'The VM was shut down before it finished; start it again to continue.' });
    const dropping = this.dropAttempt(stopped);
    this.consoles.dispose(stopped);
    this.deadline.fail(stopped);
    await dropping;
    await this.disks.close();
    await this.platform.disk.dispose?.();
  }

  /**
   * Before a save or a download: the resumed guest has proved it answers (a dead state must never replace a
   * good one) and its agent is up (a state saved without one would resume without one).
   */
  private async readyToSave(what: 'save' | 'download'): Promise<{ emulator: V86; manifest: Manifest }> {
    await this.restoreCheck;
    const emulator = this.attempt?.emulator;
    const manifest = this.starting?.manifest;
    if (this.state !== 'running' || !emulator || !manifest) {
      throw new VmFailure({ code: 'not-running', message: `Cannot ${what === 'save' ? 'save' : 'download the session'}: the VM is ${this.state}. Wait for it to finish booting.` });
    }
    await this.consoles.agentReady(what, 60_000);
    return { emulator, manifest };
  }

  /** v86's network adapter while the VM runs: the way into guest TCP ports (port preview, Engine API). */
  private guestDialer(): GuestDialer | undefined {
    const emulator = this.attempt?.emulator;
    return this.state === 'running' && emulator ? (internalsOf(emulator).network_adapter as unknown as GuestDialer | undefined) : undefined;
  }

  /** One start from one source; a restore that does not come back rejects with RestoreFailed. */
  private async startAttempt(plan: StartPlan): Promise<void> {
    if (!this.starting) throw new Error('startAttempt() before boot()');
    const { source, manifest, options } = this.starting;
    const [files, diskRef] = await Promise.all([this.emulators.files(source, manifest, plan), source.diskImage(manifest.files.rootDisk)]);
    const sessionDisk = plan.kind === 'restore' ? (plan as { disk?: SessionDiskPlan }).disk : undefined;
    const disk = await this.disks.open(sessionDisk, diskRef);
    this.memoryBytes = plan.kind === 'restore' ? plan.header.memoryBytes : (options.memoryBytes ?? manifest.recommendedMemoryBytes);
    // Settled by the 'ready' stage marker (cold boot) or rejected by fail() (boot timeout, kernel panic...).
    const ready = this.deadline.attempt(options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS);
    const started = this.emulators.create({ manifest, files, disk, memoryBytes: this.memoryBytes, plan, tuning: this.tuning });
    const attempt = new StartAttempt(started, this.consoles.attach(consoleWiresOf(started.emulator)), sessionDisk);
    this.attempt = attempt;
    if (options.cols && options.rows) this.resize(options.cols, options.rows);
    if (plan.kind === 'cold-boot') {
      this.startedFrom = 'cold-boot';
      return ready;
    }
    await Promise.race([started.loaded, ready]);
    this.bootTimeline.step('emulator-loaded');
    await this.resume(attempt, plan);
  }

  /**
   * Loads the checked state and says 'ready' at once: it was saved with dockerd and the agent ready, so the
   * terminal is live as soon as the CPU runs. The after-restore check (clock, DHCP, proof the guest answers:
   * resume.ts) goes on behind it: agent commands and saves wait for it, and a guest that does not answer is
   * replaced from the next source (restoreFailedLate). Waiting for the check first cost a returning visitor
   * 3-6 s: right after a restore v86 runs the guest's code uncompiled, and one agent request starts a dozen
   * processes.
   */
  private async resume(attempt: StartAttempt, plan: RestorePlan): Promise<void> {
    await loadState(attempt.emulator, plan.state);
    this.bootTimeline.step('state-loaded');
    const answered = this.afterRestore.begin(plan, this.prefetchTarget());
    this.restoreCheck = answered.catch((error: unknown) => this.restoreFailedLate(attempt, plan, error));
  }

  /** The boot snapshot's list of the disk chunks a first docker run reads, and the image cache to load them into. */
  private prefetchTarget(): PrefetchTarget | undefined {
    const list = this.starting?.manifest.snapshot?.prefetch;
    const image = this.disks.disk?.image;
    return list && image ? { list, image } : undefined;
  }

  /** The check after an early 'ready' failed: start again from the next source, as a failed restore does. */
  private async restoreFailedLate(attempt: StartAttempt, plan: RestorePlan, error: unknown): Promise<void> {
    // Shut down (or already replaced) meanwhile: nothing to recover.
    if (this.attempt !== attempt || this.state !== 'running') return;
    const failure = error instanceof RestoreFailed ? error : new RestoreFailed('The resumed VM stopped answering right after the restore.', String(error));
    this.setState('booting');
    try {
      const next = await this.stepDown(plan, failure, ' after the terminal was live');
      await startWithFallback(next, (attempted) => this.startAttempt(attempted), (failed, stepFailure) => this.stepDown(failed, stepFailure));
    } catch (thrown) {
      this.fail(unexpectedFailure(thrown));
    }
  }

  /** A restore failed: logs why, drops the attempt, tells the user, and returns the plan for the next source. */
  private async stepDown(failed: RestorePlan, failure: RestoreFailed, when = ''): Promise<StartPlan> {
    if (!this.starting) throw new Error('stepDown() before boot()');
    this.monitorNote(`restore of the ${failed.from} failed${when}: ${failure.message} ${failure.detail}`);
    this.deadline.forgetAttempt();
    this.bootTimeline.forgetSteps();
    const disk = this.attempt?.disk;
    await this.dropAttempt(new VmFailure({ code: 'not-running', message: 'The restore failed; the VM starts again from the next source.' }));
    // After the emulator is gone (it may still write): the store closes, a saved session's is moved aside.
    const damagedSessionId = await this.disks.attemptFailed(disk, 'the emulator could not resume it');
    this.events.emit({ type: 'notice', notice: { ...restoreFailedNotice(failed.from, failure), ...(damagedSessionId ? { damagedSessionId } : {}) } });
    const next = await this.starting.planner.next(failed);
    if (failed.from === 'session') this.bootTimeline.step('state-read');
    return next;
  }

  /** Ends the current attempt: what was attached to its emulator is detached, then the emulator goes. */
  private async dropAttempt(reason: VmFailure): Promise<void> {
    const attempt = this.attempt;
    this.attempt = undefined;
    this.afterRestore.cancel();
    await attempt?.drop(reason);
  }

  private onSerialSignal(signal: Exclude<SerialSignal, { kind: 'none' }>): void {
    switch (signal.kind) {
      case 'stage':
        if (signal.stage === 'ready' && this.state === 'booting') this.ready(signal.guestUptimeS);
        else this.bootTimeline.reach(signal.stage, signal.guestUptimeS);
        return;
      case 'note':
        this.bootTimeline.note(signal.what, signal.guestUptimeS);
        return;
      case 'failure':
        if (this.afterRestore.guestFailed(new RestoreFailed(`The guest reported a failure: ${signal.code}.`, this.monitor.lastLines()))) return;
        this.fail(failureFromSignal(signal, this.monitor.lastLines()));
        if (signal.code === 'kernel-panic') void this.attempt?.emulator.stop();
        return;
      default: {
        const unreachable: never = signal;
        throw new Error(`unhandled serial signal ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** The guest is ready (its marker), or a restore is live. */
  private ready(guestUptimeS?: number): void {
    this.bootTimeline.reach('ready', guestUptimeS);
    this.setState('running');
    this.deadline.ready();
  }

  private bootTimedOut(timeoutMs: number): void {
    const message = `The VM did not finish booting within ${Math.round(timeoutMs / 1000)} s (last stage: ${this.bootTimeline.lastStage}). A slow machine may need a longer boot timeout; the last console lines are below.`;
    this.fail(new VmFailure({ code: 'boot-timeout', message, detail: this.monitor.lastLines() }));
    void this.attempt?.emulator.stop();
  }

  private fail(failure: VmFailure): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.setState('failed');
    const error: VmError = { code: failure.code, message: failure.message };
    if (failure.detail !== undefined) error.detail = failure.detail;
    this.events.emit({ type: 'error', error });
    this.consoles.agent.failAll(failure);
    this.deadline.fail(failure);
  }

  private setState(state: VmState): void {
    this.state = state;
    this.events.emit({ type: 'status', state, memoryBytes: this.memoryBytes, restoredFromSnapshot: this.startedFrom !== 'cold-boot' });
    // The agent pushes its listening sockets when they change; a new page (or a restored guest) needs them once.
    if (state === 'running') {
      this.consoles.agent.requestSockets();
      this.engine.vmRunning();
    }
  }

  private monitorNote(text: string): void {
    this.monitor.note(`[host] ${text}`);
  }
}
