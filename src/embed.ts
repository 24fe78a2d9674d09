// Embed mode's entry (embed.html): the terminal, boot progress and errors, and the lab panel, with no header,
// for an <iframe>. The embedding page drives it with postMessage (src/labs/embed-api.ts); 'ready' is sent
// once the machine runs and its shell has answered with a prompt, so a parent's 'run' is never lost.
import './styles.css';
import type { VmError, VmEvent } from '../worker/shared/contract.ts';
import { browserProblem } from './browser-check.ts';
import { ErrorPanels } from './error-panel.ts';
import { networkDefaults, networkOptions } from './net-settings.ts';
import { allowedOriginsFromLocation, commandAsTyped, connectEmbedBridge, loadLabFromLocation, mountLabPanel, postEmbedEvent, watchCommands, type CommandWatch } from './labs/index.ts';
import { readPageConfig } from './page-config.ts';
import { ProgressView } from './progress.ts';
import { GuestTerminal } from './terminal.ts';
import { VmClient } from './vm-client.ts';
import { VmCallError, toVmError } from './vm-error.ts';

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`embed.html lacks #${id}; the page shell and src/embed.ts are out of step`);
  return found;
}

const config = readPageConfig(window.location, document.baseURI);
// Embeds use the build's network defaults (there is no Network dialog here).
const netDefaults = networkDefaults(import.meta.env, document.baseURI);
const progress = new ProgressView(element('progress'));
const errors = new ErrorPanels(element('errors'));
const sidePanel = element('side-panel');
const allowedOrigins = allowedOriginsFromLocation(window.location);
let client: VmClient | undefined;
let disconnect: (() => void) | undefined;
let shellProbe: CommandWatch | undefined;
/** How often to press Enter until the shell's prompt answers. */
const SHELL_PROBE_INTERVAL_MS = 3_000;

const watch = watchCommands({ onCommandFinished: () => void panel.recheck() });
const terminal = new GuestTerminal(element('terminal'), {
  onInput: (data) => {
    watch.input(data);
    client?.sendInput(data);
  },
  onResize: (cols, rows) => client?.resize(cols, rows),
});
const typeCommand = (command: string): void => {
  const typed = commandAsTyped(command);
  watch.input(typed);
  client?.sendInput(typed);
};
const panel = mountLabPanel(sidePanel, {
  onRun: typeCommand,
  // Share links open the full page (index.html beside this one), not another embed.
  pageHref: () => new URL('./', window.location.href).href,
  verifyStep: (command, timeoutMs) =>
    client
      ? client.exec(command, { timeoutMs })
      : Promise.reject(new VmCallError({ code: 'not-running', message: 'The VM is not running; restart it to check this step.' })),
});
// The panel shows once there is a lab: from the iframe's address, or sent later with 'load-lab'.
panel.on((event) => {
  if (event.type === 'lab-shown') sidePanel.hidden = false;
});
void loadLabFromLocation(window.location).then((result) => {
  panel.load(result);
  if (result.kind === 'error') sidePanel.hidden = false;
});

/** The same failure often arrives twice (an 'error' event, then boot() rejecting); report it once per boot. */
let reported = new Set<string>();

function fail(error: VmError): void {
  const key = `${error.code}\n${error.message}`;
  if (reported.has(key)) return;
  reported.add(key);
  // The embedding page learns it too: without this it would wait for 'ready' forever.
  postEmbedEvent(window.parent, allowedOrigins, { tabdock: 1, type: 'error', code: error.code, message: error.message });
  progress.fail();
  errors.show(error, () => restart());
  terminal.notice(error.message, 'error');
}

function onEvent(event: VmEvent): void {
  switch (event.type) {
    case 'console':
      terminal.write(event.data);
      watch.output(event.data);
      shellProbe?.output(event.data);
      return;
    case 'download':
      progress.download(event.loadedBytes, event.totalBytes);
      return;
    case 'stage':
      progress.stage(event.stage, event.atMs);
      return;
    case 'status':
      return;
    case 'error':
      fail(event.error);
      return;
    case 'notice':
      terminal.notice(event.notice.message, 'info');
      return;
    case 'listening-sockets':
    case 'engine':
      // The embed has no port preview and no Docker view.
      return;
    default: {
      const unknown: never = event;
      throw new Error(`unknown VM event ${JSON.stringify(unknown)}`);
    }
  }
}

function start(): void {
  reported = new Set();
  errors.clear();
  progress.restart();
  const problem = browserProblem();
  if (problem) {
    fail(problem);
    return;
  }
  const vm = new VmClient({ onEvent, onCrash: fail, onCallError: (error) => terminal.notice(error.message, 'error') });
  client = vm;
  if (netDefaults.problem) terminal.notice(netDefaults.problem, 'error');
  vm.boot({ assetBase: config.assetBase, bootTimeoutMs: config.bootTimeoutMs, resume: { kind: config.withoutSession }, tuning: config.tuning, cols: terminal.cols, rows: terminal.rows, network: networkOptions({}, netDefaults) })
    .then(() => {
      if (client !== vm) return;
      vm.resize(terminal.cols, terminal.rows);
      whenShellAnswers(vm, () => {
        disconnect ??= connectEmbedBridge({
          self: window,
          parent: window.parent,
          allowedOrigins,
          panel,
          onRun: typeCommand,
          // Read-only: the page embedding tabdock may look at Docker, not change it.
          engineQuery: (query) => (client ? client.engineQuery(query) : Promise.reject(new Error('the VM is not running'))),
        });
      });
    })
    .catch((thrown: unknown) => {
      if (client === vm) fail(thrown instanceof VmCallError ? thrown.vmError : toVmError(thrown));
    });
}

/**
 * After a snapshot restore the VM reports ready a moment before bash reads its terminal, and input sent in
 * that moment is lost. Press Enter (as a person would) until a prompt comes back, then call onAnswer.
 */
function whenShellAnswers(vm: VmClient, onAnswer: () => void): void {
  const press = (): void => {
    if (client !== vm) {
      stop();
      return;
    }
    probe.input('\r');
    vm.sendInput('\r');
  };
  const timer = setInterval(press, SHELL_PROBE_INTERVAL_MS);
  const stop = (): void => {
    clearInterval(timer);
    probe.dispose();
    if (shellProbe === probe) shellProbe = undefined;
  };
  const probe = watchCommands({
    onCommandFinished: () => {
      stop();
      onAnswer();
    },
  });
  shellProbe = probe;
  press();
}

function restart(): void {
  client?.terminate();
  client = undefined;
  terminal.reset();
  start();
}

window.addEventListener('pagehide', () => {
  client?.terminate();
  client = undefined;
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) restart();
});

start();
