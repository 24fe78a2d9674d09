// The page's entry: builds the header status, boot progress, error panels and terminal, starts the VM in
// its worker and routes the VM's events to them. One VM per tab; closing the tab ends it.
import './styles.css';
import type { VmError, VmEvent } from '../worker/shared/contract.ts';
import { browserProblem } from './browser-check.ts';
import { mountDockerView } from './docker-view/index.ts';
import { ErrorPanels } from './error-panel.ts';
import { FileTransferUi } from './files/file-transfer-ui.ts';
import { readPageConfig } from './page-config.ts';
import { mountPortPreview } from './port-preview/index.ts';
import { NetSettingsDialog } from './net-settings-dialog.ts';
import { loadNetSettings, networkDefaults, networkOptions, type NetSettings } from './net-settings.ts';
import { labRequestedIn, mountSidePanel } from './side-panel.ts';
import { ProgressView } from './progress.ts';
import { SessionController, type SessionStart } from './session/session-controller.ts';
import { mountStackLink } from './stack/index.ts';
import { StatusLine } from './status-line.ts';
import { GuestTerminal } from './terminal.ts';
import { VmClient } from './vm-client.ts';
import { VmCallError, toVmError } from './vm-error.ts';

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}; the page shell and src/main.ts are out of step`);
  return found;
}

const config = readPageConfig(window.location, document.baseURI);
const status = new StatusLine(element('status'));
const progress = new ProgressView(element('progress'));
const errors = new ErrorPanels(element('errors'));
const terminal = new GuestTerminal(element('terminal'), {
  onInput: (data) => {
    client?.sendInput(data);
    session.noteActivity();
    sidePanel.input(data);
  },
  onResize: (cols, rows) => client?.resize(cols, rows),
});

let client: VmClient | undefined;
// Read-only counters of the running VM's emulator (JIT, disk image cache) for the browser bench
// (e2e/bench/browser/page-driver.ts vmDiagnostics); nothing in the page depends on it.
Object.defineProperty(globalThis, 'tabdockDiagnostics', { value: () => client?.diagnostics() });
// The lab panel or lab editor (src/labs), when the address asks for one; it re-checks steps as commands finish.
const sidePanel = mountSidePanel(element('side-panel'), {
  sendInput: (data) => client?.sendInput(data),
  exec: (command, timeoutMs) =>
    client
      ? client.exec(command, { timeoutMs })
      : Promise.reject(new VmCallError({ code: 'not-running', message: 'The VM is not running; restart it to check this step.' })),
});
// Lab loading reports its own failures in the panel; reaching here is a bug, shown like any other.
sidePanel.ready.catch((thrown: unknown) => showError(toVmError(thrown)));
// Save/Reset/Download/Open and the saved session in browser storage (src/session/).
const session = new SessionController(document.querySelector<HTMLElement>('.app-header') ?? document.body, {
  saveState: () => client?.saveState(),
  exportSession: () => client?.exportSession(),
  exportDamaged: (id) => client?.exportDamagedSession(id),
  restart: (sessionStart) => restart(sessionStart),
}, config.withoutSession);
// Drop files on the terminal to place them in the guest; "Get file…" downloads one (src/files/).
new FileTransferUi(document.querySelector<HTMLElement>('.terminal-frame') ?? element('terminal'), document.querySelector<HTMLElement>('.app-header') ?? document.body, {
  exec: () => {
    const vm = client;
    return vm ? (command, timeoutMs) => vm.exec(command, { timeoutMs }) : undefined;
  },
  notice: (text, tone) => terminal.notice(text, tone),
});
// Published container ports, offered as "Port 8080 → Open" and served through a Service Worker (src/port-preview/).
const ports = mountPortPreview({
  terminalPane: element('terminal-pane'),
  main: element('app-main'),
  vm: () => (client?.alive ? client : undefined),
});
// The Docker view (src/docker-view/): the daemon's images, containers, networks and volumes, live from /events.
const dockerView = mountDockerView({
  header: document.querySelector<HTMLElement>('.app-header') ?? document.body,
  main: element('app-main'),
  terminalPane: element('terminal-pane'),
  storage: window.localStorage,
  vm: () => (client?.alive ? client : undefined),
  echo: (command) => terminal.comment(command),
  openPort: (port) => ports.open(port),
});
// The Network dialog (src/net-settings-dialog.ts): proxy and Docker Hub mirror, read again at every start, over
// the build's defaults, computed here once.
const netDefaults = networkDefaults(import.meta.env, document.baseURI);
let netInEffect: NetSettings = {};
/** What was last saved in the dialog; used even if the browser refused to store it. */
let netChosen: NetSettings | undefined;
new NetSettingsDialog(document.querySelector<HTMLElement>('.app-header') ?? document.body, {
  storage: window.localStorage,
  baseUri: document.baseURI,
  defaults: netDefaults,
  inEffect: () => netInEffect,
  restart: () => restart(),
  onSaved: (settings, restarting) => {
    netChosen = settings;
    if (!restarting) terminal.notice('Network settings saved; they apply when the VM next starts (Save and restart in the Network dialog).', 'info');
  },
});
// `?stack=<Compose file URL>` links (src/stack/): the file is shown, and runs only when the reader presses Run.
const stack = mountStackLink(element('terminal-pane'), {
  location: window.location,
  proxyUrl: () => networkOptions(netInEffect, netDefaults).proxyUrl,
  exec: (command, timeoutMs) => (client ? client.exec(command, { timeoutMs }) : Promise.reject(new Error('the VM is not running'))),
  sendInput: (data) => client?.sendInput(data),
});
/** The same failure often arrives twice (an 'error' event, then boot() rejecting); show it once per boot. */
let shownErrors = new Set<string>();

function showError(error: VmError): void {
  const key = `${error.code}\n${error.message}`;
  if (shownErrors.has(key)) return;
  shownErrors.add(key);
  errors.show(error, () => restart());
  terminal.notice(error.message, 'error');
}

function failBoot(error: VmError): void {
  progress.fail();
  status.setState('failed');
  showError(error);
}

function onEvent(event: VmEvent): void {
  switch (event.type) {
    case 'console':
      terminal.write(event.data);
      sidePanel.output(event.data);
      return;
    case 'download':
      progress.download(event.loadedBytes, event.totalBytes);
      return;
    case 'stage':
      progress.stage(event.stage, event.atMs);
      return;
    case 'status':
      status.update(event);
      return;
    case 'error':
      failBoot(event.error);
      return;
    case 'notice':
      terminal.notice(event.notice.message, 'info');
      session.notice(event.notice);
      return;
    case 'listening-sockets':
      ports.socketsChanged(event.sockets);
      return;
    case 'engine':
      dockerView.update(event.update);
      return;
    default: {
      const unknown: never = event;
      throw new Error(`unknown VM event ${JSON.stringify(unknown)}`);
    }
  }
}

/** Starts a VM; `sessionStart` (session-controller.ts) says which disk and session it gets. */
function start(sessionStart: SessionStart): void {
  shownErrors = new Set();
  errors.clear();
  progress.restart();
  status.reset();
  const problem = browserProblem();
  if (problem) {
    failBoot(problem);
    return;
  }
  const vm = new VmClient({
    onEvent,
    onCrash: failBoot,
    onCallError: (error) => terminal.notice(error.message, 'error'),
  });
  client = vm;
  const net = netChosen === undefined ? loadNetSettings(window.localStorage, document.baseURI) : { settings: netChosen, problem: undefined };
  if (netDefaults.problem) terminal.notice(netDefaults.problem, 'error');
  if (net.problem) terminal.notice(net.problem, 'info');
  netInEffect = net.settings;
  const bootOptions = {
    assetBase: config.assetBase,
    bootTimeoutMs: config.bootTimeoutMs,
    tuning: config.tuning,
    cols: terminal.cols,
    rows: terminal.rows,
    network: networkOptions(net.settings, netDefaults),
    warmUp: !labRequestedIn(window.location),
  };
  vm.boot({ ...bootOptions, ...sessionStart })
    .then((result) => {
      if (client !== vm) return;
      status.booted(result.startedFrom, result.timeline.ready, result.steps);
      session.booted(result.startedFrom);
      ports.vmStarted();
      dockerView.vmStarted();
      stack.vmStarted();
      // The guest may have booted with the size the terminal had before fonts settled; tell it again.
      vm.resize(terminal.cols, terminal.rows);
      terminal.focus();
    })
    .catch((thrown: unknown) => {
      if (client !== vm) return;
      session.stopped();
      failBoot(thrown instanceof VmCallError ? thrown.vmError : toVmError(thrown));
    });
}

/** A new VM in a new worker; by default it resumes this tab's saved session (or starts clean without one). */
function restart(sessionStart: SessionStart = session.startOptions()): void {
  ports.vmStopped();
  dockerView.vmStopped();
  stack.vmStopped();
  client?.terminate();
  client = undefined;
  terminal.reset();
  start(sessionStart);
}

// A closed or navigated-away tab must not leave an emulator spinning; a tab restored from the back/forward
// cache therefore needs a new VM (https://web.dev/articles/bfcache#observe-page-restored).
// A save in flight is let finish first where the page lives on (entering the back/forward cache); an
// unloading document takes its worker with it regardless.
window.addEventListener('pagehide', () => {
  const closing = client;
  client = undefined;
  void session.whenSaved().then(() => closing?.terminate());
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) restart();
});

void session.loadSaved().then(start);
