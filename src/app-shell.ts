// The skeleton both pages share (index.html through main.ts, embed.html through embed.ts): the terminal, boot
// progress and error panels, one VM at a time in its worker, restart, and the tab's lifecycle. Its events follow
// whichever VM runs now, so a feature subscribes once and disposes its subscription when it goes.
import type { BootOptions, BootResult, VmError } from '../worker/shared/contract.ts';
import { browserProblem } from './browser-check.ts';
import { DisposableStore, Emitter, type Event } from './emitter.ts';
import { ErrorPanels } from './error-panel.ts';
import { ProgressView } from './progress.ts';
import { GuestTerminal } from './terminal.ts';
import { VmClient } from './vm-client.ts';
import { VmCallError, toVmError } from './vm-error.ts';

/** Boot options the page supplies; the shell adds the terminal's size. */
export type PageBootOptions = Omit<BootOptions, 'cols' | 'rows'>;

export interface AppShellOptions<Request> {
  /** The page's HTML file, named when one of the elements the shell needs is missing. */
  page: string;
  /** Options for the next boot; `request` is what start() or restart() got (undefined: a plain restart). */
  bootOptions(request: Request | undefined): PageBootOptions;
  /** The tab is going away: the VM runs on until this settles (a save in flight), then ends. */
  beforeClose?(): Promise<void>;
}

export interface VmStarted {
  vm: VmClient;
  result: BootResult;
}

export class AppShell<Request = undefined> {
  readonly terminal: GuestTerminal;
  private readonly progress: ProgressView;
  private readonly errors: ErrorPanels;
  private client: VmClient | undefined;
  /** The current VM's subscriptions, disposed when it is discarded. */
  private clientSubscriptions = new DisposableStore();
  /** The same failure often arrives twice (an 'error' event, then boot() rejecting); show it once per boot. */
  private shownErrors = new Set<string>();

  /** Per event of the VM the shell passes on: subscribes the shell's emitter to a new VM's event. */
  private readonly followers: ((vm: VmClient, subscriptions: DisposableStore) => void)[] = [];
  private readonly inputEmitter = new Emitter<string | Uint8Array>();
  private readonly lifecycle = {
    starting: new Emitter<void>(),
    started: new Emitter<VmStarted>(),
    stopping: new Emitter<void>(),
    bootRejected: new Emitter<VmError>(),
    failure: new Emitter<VmError>(),
    errorShown: new Emitter<VmError>(),
  };

  /** Everything typed or pasted into the terminal, after it went to the VM. */
  readonly onInput = this.inputEmitter.event;
  /** Guest console output, after the terminal showed it. */
  readonly onConsole = this.follow((vm) => vm.onConsole);
  readonly onStatus = this.follow((vm) => vm.onStatus);
  /** A VmNotice, after the terminal showed its sentence. */
  readonly onNotice = this.follow((vm) => vm.onNotice);
  /** The guest's listening sockets (VmEvent 'listening-sockets'). */
  readonly onListeningSockets = this.follow((vm) => vm.onListeningSockets);
  /** The daemon's events and pull progress, while watched. */
  readonly onEngine = this.follow((vm) => vm.onEngine);
  /** A start begins: panels were cleared. */
  readonly onStarting = this.lifecycle.starting.event;
  /** The VM booted and has the terminal's size. */
  readonly onStarted = this.lifecycle.started.event;
  /** A restart is about to discard the running VM. */
  readonly onStopping = this.lifecycle.stopping.event;
  /** boot() of the current VM rejected (followed by the failure). */
  readonly onBootRejected = this.lifecycle.bootRejected.event;
  /** Every failure of the current start, repeats included. */
  readonly onFailure = this.lifecycle.failure.event;
  /** A failure shown to the user, once per start. */
  readonly onErrorShown = this.lifecycle.errorShown.event;

  constructor(private readonly options: AppShellOptions<Request>) {
    this.progress = new ProgressView(this.element('progress'));
    this.errors = new ErrorPanels(this.element('errors'));
    this.terminal = new GuestTerminal(this.element('terminal'), {
      onInput: (data) => {
        this.client?.sendInput(data);
        this.inputEmitter.fire(data);
      },
      onResize: (cols, rows) => this.client?.resize(cols, rows),
    });
    // A closed or navigated-away tab must not leave an emulator spinning; a tab restored from the back/forward
    // cache therefore needs a new VM (https://web.dev/articles/bfcache#observe-page-restored).
    window.addEventListener('pagehide', () => this.close());
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) this.restart();
    });
  }

  /** The page's element `#id`; a missing one means the HTML and its entry script are out of step. */
  element(id: string): HTMLElement {
    const found = document.getElementById(id);
    if (!found) throw new Error(`${this.options.page} lacks #${id}; the page shell and its entry script are out of step`);
    return found;
  }

  /** The VM of this start, running or not. */
  get vm(): VmClient | undefined {
    return this.client;
  }

  /** The VM while its worker lives. */
  get runningVm(): VmClient | undefined {
    return this.client?.alive ? this.client : undefined;
  }

  /** Starts a VM in a new worker. */
  start(request?: Request): void {
    this.shownErrors = new Set();
    this.errors.clear();
    this.progress.restart();
    this.lifecycle.starting.fire();
    const problem = browserProblem();
    if (problem) {
      this.fail(problem);
      return;
    }
    const vm = new VmClient();
    this.client = vm;
    this.clientSubscriptions = this.subscribe(vm);
    const bootOptions = this.options.bootOptions(request);
    vm.boot({ ...bootOptions, cols: this.terminal.cols, rows: this.terminal.rows })
      .then((result) => {
        if (this.client !== vm) return;
        // The guest may have booted with the size the terminal had before fonts settled; tell it again.
        vm.resize(this.terminal.cols, this.terminal.rows);
        this.lifecycle.started.fire({ vm, result });
      })
      .catch((thrown: unknown) => {
        if (this.client !== vm) return;
        const error = thrown instanceof VmCallError ? thrown.vmError : toVmError(thrown);
        this.lifecycle.bootRejected.fire(error);
        this.fail(error);
      });
  }

  /** A new VM in a new worker; the old one ends. */
  restart(request?: Request): void {
    this.lifecycle.stopping.fire();
    this.clientSubscriptions.dispose();
    this.client?.terminate();
    this.client = undefined;
    this.terminal.reset();
    this.start(request);
  }

  /** An event of the shell that passes on `pick(vm)` of whichever VM runs now. */
  private follow<T>(pick: (vm: VmClient) => Event<T>): Event<T> {
    const emitter = new Emitter<T>();
    this.followers.push((vm, subscriptions) => subscriptions.add(pick(vm)((value) => emitter.fire(value))));
    return emitter.event;
  }

  private subscribe(vm: VmClient): DisposableStore {
    const subscriptions = new DisposableStore();
    // The shell's own views first, so a feature hears a console batch or a notice after the terminal showed it.
    subscriptions.add(vm.onConsole((data) => this.terminal.write(data)));
    subscriptions.add(vm.onNotice((notice) => this.terminal.notice(notice.message, 'info')));
    subscriptions.add(vm.onDownload(({ loadedBytes, totalBytes }) => this.progress.download(loadedBytes, totalBytes)));
    subscriptions.add(vm.onStage(({ stage, atMs }) => this.progress.stage(stage, atMs)));
    subscriptions.add(vm.onFailure((error) => this.fail(error)));
    subscriptions.add(vm.onCallError((error) => this.terminal.notice(error.message, 'error')));
    for (const follower of this.followers) follower(vm, subscriptions);
    return subscriptions;
  }

  private fail(error: VmError): void {
    this.progress.fail();
    this.lifecycle.failure.fire(error);
    this.showError(error);
  }

  /** An error panel (with Restart) and the sentence in the terminal, once per start for each failure. */
  showError(error: VmError): void {
    const key = `${error.code}\n${error.message}`;
    if (this.shownErrors.has(key)) return;
    this.shownErrors.add(key);
    this.errors.show(error, () => this.restart());
    this.terminal.notice(error.message, 'error');
    this.lifecycle.errorShown.fire(error);
  }

  /** The tab goes (or enters the back/forward cache): end the VM, after `beforeClose` where the page has one. */
  private close(): void {
    const closing = this.client;
    const subscriptions = this.clientSubscriptions;
    this.client = undefined;
    const end = (): void => {
      closing?.terminate();
      subscriptions.dispose();
    };
    if (this.options.beforeClose) void this.options.beforeClose().then(end);
    else end();
  }
}
