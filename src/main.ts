// The page's entry: the app shell (app-shell.ts: terminal, boot progress, errors, the VM in its worker) plus the
// full page's features, each subscribed to the shell's events: header status, lab panel, sessions, file
// transfer, port preview, the Docker view and the Network dialog. One VM per tab; closing the tab ends it.
import './styles.css';
import { AppShell } from './app-shell.ts';
import { mountDockerView } from './docker-view/index.ts';
import { FileTransferUi } from './files/file-transfer-ui.ts';
import { readPageConfig } from './page-config.ts';
import { mountPortPreview } from './port-preview/index.ts';
import { NetSettingsDialog } from './net-settings-dialog.ts';
import { loadNetSettings, networkDefaults, networkOptions, type NetSettings } from './net-settings.ts';
import { labRequestedIn, mountSidePanel } from './side-panel.ts';
import { SessionController, type SessionStart } from './session/session-controller.ts';
import { mountStackLink } from './stack/index.ts';
import { StatusLine } from './status-line.ts';
import { VmCallError, toVmError } from './vm-error.ts';

const config = readPageConfig(window.location, document.baseURI);
// The Network dialog's settings (below) are read again at every start, over the build's defaults, computed here once.
const netDefaults = networkDefaults(import.meta.env, document.baseURI);
let netInEffect: NetSettings = {};
/** What was last saved in the dialog; used even if the browser refused to store it. */
let netChosen: NetSettings | undefined;
const shell: AppShell<SessionStart> = new AppShell<SessionStart>({
  page: 'index.html',
  // A plain restart resumes this tab's saved session (or starts clean without one).
  bootOptions: (sessionStart = session.startOptions()) => {
    const net = netChosen === undefined ? loadNetSettings(window.localStorage, document.baseURI) : { settings: netChosen, problem: undefined };
    if (netDefaults.problem) shell.terminal.notice(netDefaults.problem, 'error');
    if (net.problem) shell.terminal.notice(net.problem, 'info');
    netInEffect = net.settings;
    return {
      assetBase: config.assetBase,
      bootTimeoutMs: config.bootTimeoutMs,
      tuning: config.tuning,
      network: networkOptions(net.settings, netDefaults),
      warmUp: !labRequestedIn(window.location),
      ...sessionStart,
    };
  },
  // A save in flight is let finish first where the page lives on (entering the back/forward cache); an
  // unloading document takes its worker with it regardless.
  beforeClose: () => session.whenSaved(),
});
const { terminal } = shell;
const element = (id: string): HTMLElement => shell.element(id);
const header = document.querySelector<HTMLElement>('.app-header') ?? document.body;
const status = new StatusLine(element('status'));
shell.onStarting(() => status.reset());
shell.onStatus((facts) => status.update(facts));
shell.onFailure(() => status.setState('failed'));
shell.onStarted(({ result }) => status.booted(result.startedFrom, result.timeline.ready, result.steps));

// Read-only counters of the running VM's emulator (JIT, disk image cache) for the browser bench
// (e2e/bench/browser/page-driver.ts vmDiagnostics); nothing in the page depends on it.
Object.defineProperty(globalThis, 'tabdockDiagnostics', { value: () => shell.vm?.diagnostics() });
// The lab panel or lab editor (src/labs), when the address asks for one; it re-checks steps as commands finish.
const sidePanel = mountSidePanel(element('side-panel'), {
  sendInput: (data) => shell.vm?.sendInput(data),
  exec: (command, timeoutMs) =>
    shell.vm
      ? shell.vm.exec(command, { timeoutMs })
      : Promise.reject(new VmCallError({ code: 'not-running', message: 'The VM is not running; restart it to check this step.' })),
});
shell.onInput((data) => sidePanel.input(data));
shell.onConsole((data) => sidePanel.output(data));
// Lab loading reports its own failures in the panel; reaching here is a bug, shown like any other.
sidePanel.ready.catch((thrown: unknown) => shell.showError(toVmError(thrown)));
// Save/Reset/Download/Open and the saved session in browser storage (src/session/).
const session = new SessionController(header, {
  saveState: () => shell.vm?.saveState(),
  exportSession: () => shell.vm?.exportSession(),
  exportDamaged: (id) => shell.vm?.exportDamagedSession(id),
  restart: (sessionStart) => shell.restart(sessionStart),
}, config.withoutSession);
shell.onInput(() => session.noteActivity());
shell.onNotice((notice) => session.notice(notice));
shell.onStarted(({ result }) => session.booted(result.startedFrom));
shell.onBootRejected(() => session.stopped());
// Drop files on the terminal to place them in the guest; "Get file…" downloads one (src/files/).
new FileTransferUi(document.querySelector<HTMLElement>('.terminal-frame') ?? element('terminal'), header, {
  exec: () => {
    const vm = shell.vm;
    return vm ? (command, timeoutMs) => vm.exec(command, { timeoutMs }) : undefined;
  },
  notice: (text, tone) => terminal.notice(text, tone),
});
// Published container ports, offered as "Port 8080 → Open" and served through a Service Worker (src/port-preview/).
const ports = mountPortPreview({
  terminalPane: element('terminal-pane'),
  main: element('app-main'),
  vm: () => shell.runningVm,
});
shell.onListeningSockets((sockets) => ports.socketsChanged(sockets));
shell.onStarted(() => ports.vmStarted());
shell.onStopping(() => ports.vmStopped());
// The Docker view (src/docker-view/): the daemon's images, containers, networks and volumes, live from /events.
const dockerView = mountDockerView({
  header,
  main: element('app-main'),
  terminalPane: element('terminal-pane'),
  storage: window.localStorage,
  vm: () => shell.runningVm,
  echo: (command) => terminal.comment(command),
  openPort: (port) => ports.open(port),
});
shell.onEngine((update) => dockerView.update(update));
shell.onStarted(() => dockerView.vmStarted());
shell.onStopping(() => dockerView.vmStopped());
// The Network dialog (src/net-settings-dialog.ts): proxy and Docker Hub mirror for the next start.
new NetSettingsDialog(header, {
  storage: window.localStorage,
  baseUri: document.baseURI,
  defaults: netDefaults,
  inEffect: () => netInEffect,
  restart: () => shell.restart(),
  onSaved: (settings, restarting) => {
    netChosen = settings;
    if (!restarting) terminal.notice('Network settings saved; they apply when the VM next starts (Save and restart in the Network dialog).', 'info');
  },
});
// `?stack=<Compose file URL>` links (src/stack/): the file is shown, and runs only when the reader presses Run.
const stack = mountStackLink(element('terminal-pane'), {
  location: window.location,
  proxyUrl: () => networkOptions(netInEffect, netDefaults).proxyUrl,
  exec: (command, timeoutMs) => (shell.vm ? shell.vm.exec(command, { timeoutMs }) : Promise.reject(new Error('the VM is not running'))),
  sendInput: (data) => shell.vm?.sendInput(data),
});
shell.onStarted(() => stack.vmStarted());
shell.onStopping(() => stack.vmStopped());
shell.onStarted(() => terminal.focus());

void session.loadSaved().then((sessionStart) => shell.start(sessionStart));
