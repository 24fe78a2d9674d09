// Starts the VM host in its own Web Worker and drives it through comlink. The only page module that knows a
// worker exists. A call to a dead worker never settles, so this rejects every pending call when it crashes.
// What the VM reports arrives as events (emitter.ts) that features subscribe to and dispose.
import * as Comlink from 'comlink';
import type {
  BootOptions,
  BootResult,
  BootStage,
  EngineAction,
  EngineLogMessage,
  EngineQuery,
  EngineQueryResults,
  EngineUpdate,
  ExecOptions,
  ExecResult,
  GuestHttpMessage,
  GuestHttpRequest,
  SavedState,
  SessionExport,
  VmApi,
  VmDiagnostics,
  VmError,
  VmEvent,
  VmNotice,
} from '../worker/shared/contract.ts';
import { Emitter } from './emitter.ts';
import { VmCallError, toEngineError, toVmError } from './vm-error.ts';

export type VmStatusEvent = Extract<VmEvent, { type: 'status' }>;

export class VmClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<VmApi>;
  private readonly rejectPending = new Set<(error: VmError) => void>();
  private deadBecause: VmError | undefined;
  private readonly consoleEmitter = new Emitter<Uint8Array>();
  private readonly downloadEmitter = new Emitter<{ loadedBytes: number; totalBytes: number }>();
  private readonly stageEmitter = new Emitter<{ stage: BootStage; atMs: number }>();
  private readonly statusEmitter = new Emitter<VmStatusEvent>();
  private readonly noticeEmitter = new Emitter<VmNotice>();
  private readonly socketsEmitter = new Emitter<string>();
  private readonly engineEmitter = new Emitter<EngineUpdate>();
  private readonly failureEmitter = new Emitter<VmError>();
  private readonly callErrorEmitter = new Emitter<VmError>();

  /** Guest console output (the user's shell), batched. */
  readonly onConsole = this.consoleEmitter.event;
  /** Asset download progress; totalBytes is 0 when unknown. */
  readonly onDownload = this.downloadEmitter.event;
  /** A boot stage reached. */
  readonly onStage = this.stageEmitter.event;
  readonly onStatus = this.statusEmitter.event;
  /** Something the user should know that is not a failure (VmNotice). */
  readonly onNotice = this.noticeEmitter.event;
  /** The guest's listening TCP sockets, when they change and once after each start. */
  readonly onListeningSockets = this.socketsEmitter.event;
  /** The daemon's events and pull progress, while watched (watchEngine). */
  readonly onEngine = this.engineEmitter.event;
  /**
   * The VM failed: the host reported an error, or the worker died (then every pending call has been rejected
   * and the worker terminated). The same failure may also reject boot().
   */
  readonly onFailure = this.failureEmitter.event;
  /** A fire-and-forget call (input, resize) failed while the worker lives on. */
  readonly onCallError = this.callErrorEmitter.event;

  constructor() {
    // The literal `new URL(..., import.meta.url)` is what lets Vite find, bundle and emit the worker with a
    // URL relative to the page (https://vite.dev/guide/features#import-with-constructors).
    this.worker = new Worker(new URL('../worker/vm/worker.ts', import.meta.url), {
      type: 'module',
      name: 'tabdock-vm',
    });
    this.worker.addEventListener('error', (event) => this.die(crashFromErrorEvent(event)));
    this.worker.addEventListener('messageerror', () =>
      this.die({
        code: 'worker-crashed',
        message: 'The page could not read a message from the VM worker. Restart the VM; if it happens again, reload the page.',
        detail: 'messageerror on the worker',
      }),
    );
    this.remote = Comlink.wrap<VmApi>(this.worker);
  }

  get alive(): boolean {
    return this.deadBecause === undefined;
  }

  /** Subscribes to events first so no download or stage event is missed, then boots. */
  async boot(options: BootOptions): Promise<BootResult> {
    const listener = Comlink.proxy((event: VmEvent) => this.dispatch(event));
    await this.call(() => this.remote.subscribe(listener));
    // A session to resume crosses as a Blob: a handle to its data, not a copy of it.
    return this.call(() => this.remote.boot(options));
  }

  /** Saves the running machine as the saved session (VmApi.saveState); the VM keeps running. */
  saveState(): Promise<SavedState> {
    return this.call(() => this.remote.saveState());
  }

  /** The running machine as a standalone session file for Download. */
  exportSession(): Promise<SessionExport> {
    return this.call(() => this.remote.exportSession());
  }

  /** A saved session the worker moved aside, as a file. */
  exportDamagedSession(id: string): Promise<SessionExport> {
    return this.call(() => this.remote.exportDamagedSession(id));
  }

  /** Typed or pasted text; one message per xterm onData chunk, never per byte. The host flow-controls. */
  sendInput(data: string | Uint8Array): void {
    this.fireAndForget(() => this.remote.sendInput(data));
  }

  resize(cols: number, rows: number): void {
    this.fireAndForget(() => this.remote.resize(cols, rows));
  }

  /** A command through the host's control channel (not the user's shell), e.g. a lab step's check. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return this.call(() => this.remote.exec(command, options));
  }

  /** Port preview: the worker answers on `reply` (moved to it), which leads straight to the Service Worker. */
  forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort): void {
    this.handOver(reply, { type: 'error', code: 'vm-not-running', message: 'The VM was stopped. Restart it, then reload this page.' }, (moved) =>
      this.remote.forwardGuestHttp(request, moved),
    );
  }

  /** A read-only Engine API query; rejects with an EngineCallError when the daemon refuses or is away. */
  engineQuery<K extends EngineQuery['kind']>(query: Extract<EngineQuery, { kind: K }>): Promise<EngineQueryResults[K]> {
    return this.call(() => this.remote.engineQuery(query) as Promise<EngineQueryResults[K]>, toEngineError);
  }

  engineAction(action: EngineAction): Promise<void> {
    return this.call(() => this.remote.engineAction(action), toEngineError);
  }

  /** The emulator's JIT and disk image counters (VmApi.diagnostics), for the bench. */
  diagnostics(): Promise<VmDiagnostics> {
    return this.call(() => this.remote.diagnostics());
  }

  /** Starts or stops the daemon's event stream (updates arrive as VmEvent 'engine'). */
  watchEngine(on: boolean): void {
    this.fireAndForget(() => this.remote.watchEngine(on));
  }

  /** A container's logs onto `reply` (moved to the worker), as EngineLogMessages. */
  followEngineLogs(containerId: string, reply: MessagePort): void {
    this.handOver(reply, { type: 'error', code: 'daemon-unavailable', message: 'The VM was stopped.' }, (moved) => this.remote.followEngineLogs(containerId, moved));
  }

  /** Ends the VM for good (tab closed or restart): nothing survives, the next boot starts a new worker. */
  terminate(): void {
    this.die(
      {
        code: 'not-running',
        message: 'The VM was stopped. Reload the page to start a new one.',
      },
      { notify: false },
    );
  }

  /** Moves `reply` to the worker for `invoke`; with the worker gone, answers `whenStopped` on it and closes it. */
  private handOver(reply: MessagePort, whenStopped: GuestHttpMessage | EngineLogMessage, invoke: (moved: MessagePort) => Promise<unknown>): void {
    if (!this.alive) {
      reply.postMessage(whenStopped);
      reply.close();
      return;
    }
    this.fireAndForget(() => invoke(Comlink.transfer(reply, [reply])));
  }

  private fireAndForget(invoke: () => Promise<unknown>): void {
    if (!this.alive) return;
    this.call(invoke).catch((thrown: unknown) => {
      const error = thrown instanceof VmCallError ? thrown.vmError : toVmError(thrown);
      // A crash is already reported once through onCrash; do not repeat it for every keystroke.
      if (error.code !== 'worker-crashed' && this.alive) this.callErrorEmitter.fire(error);
    });
  }

  private call<T>(invoke: () => Promise<T>, mapError: (thrown: unknown) => Error = (thrown) => new VmCallError(toVmError(thrown))): Promise<T> {
    if (this.deadBecause !== undefined) return Promise.reject(new VmCallError(this.deadBecause));
    return new Promise<T>((resolve, reject) => {
      const onDeath = (error: VmError): void => reject(new VmCallError(error));
      this.rejectPending.add(onDeath);
      invoke().then(
        (value) => {
          this.rejectPending.delete(onDeath);
          resolve(value);
        },
        (thrown: unknown) => {
          this.rejectPending.delete(onDeath);
          reject(mapError(thrown));
        },
      );
    });
  }

  private die(error: VmError, { notify = true } = {}): void {
    if (this.deadBecause !== undefined) return;
    this.deadBecause = error;
    // An uncaught error may leave the emulator half-updated; a clean restart beats limping on.
    this.worker.terminate();
    for (const reject of this.rejectPending) reject(error);
    this.rejectPending.clear();
    if (notify) this.failureEmitter.fire(error);
  }

  /** What each VmEvent fires; the mapped type makes a new kind of event a compile error here until it is handled. */
  private readonly handlers: { [K in VmEvent['type']]: (event: Extract<VmEvent, { type: K }>) => void } = {
    console: (event) => this.consoleEmitter.fire(event.data),
    download: ({ loadedBytes, totalBytes }) => this.downloadEmitter.fire({ loadedBytes, totalBytes }),
    stage: ({ stage, atMs }) => this.stageEmitter.fire({ stage, atMs }),
    status: (event) => this.statusEmitter.fire(event),
    error: (event) => this.failureEmitter.fire(event.error),
    notice: (event) => this.noticeEmitter.fire(event.notice),
    'listening-sockets': (event) => this.socketsEmitter.fire(event.sockets),
    engine: (event) => this.engineEmitter.fire(event.update),
  };

  private dispatch(event: VmEvent): void {
    const handler = this.handlers[event.type] as ((event: VmEvent) => void) | undefined;
    if (!handler) throw new Error(`unknown VM event ${JSON.stringify(event)}`);
    handler(event);
  }
}

function crashFromErrorEvent(event: Event): VmError {
  if (event instanceof ErrorEvent && event.message) {
    const where = event.filename ? `\n    at ${event.filename}:${event.lineno}:${event.colno}` : '';
    const stack = event.error instanceof Error && event.error.stack ? `\n${event.error.stack}` : '';
    return {
      code: 'worker-crashed',
      message: 'The VM worker crashed. Press Restart to boot a fresh VM; your work inside the old one is lost.',
      detail: `${event.message}${where}${stack}`,
    };
  }
  // A plain Event (no message) is what a worker script that failed to load or parse produces.
  return {
    code: 'worker-crashed',
    message:
      'The VM worker could not start: its script failed to load. Check that the whole site was deployed (the assets/ folder next to index.html), then press Restart.',
    detail: `error event of type "${event.type}" without a message: the worker script did not load or did not parse`,
  };
}
