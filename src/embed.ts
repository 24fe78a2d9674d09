// Embed mode's entry (embed.html): the app shell (app-shell.ts: terminal, boot progress, errors) and the lab
// panel, with no header, for an <iframe>. The embedding page drives it with postMessage (src/labs/embed-api.ts);
// 'ready' is sent once the machine runs and its shell has answered with a prompt, so a parent's 'run' is never lost.
import './styles.css';
import { AppShell } from './app-shell.ts';
import { DisposableStore } from './emitter.ts';
import { networkDefaults, networkOptions } from './net-settings.ts';
import { allowedOriginsFromLocation, commandAsTyped, connectEmbedBridge, loadLabFromLocation, mountLabPanel, postEmbedEvent, watchCommands } from './labs/index.ts';
import { readPageConfig } from './page-config.ts';
import type { VmClient } from './vm-client.ts';
import { VmCallError } from './vm-error.ts';

/** How often to press Enter until the shell's prompt answers. */
const SHELL_PROBE_INTERVAL_MS = 3_000;

const config = readPageConfig(window.location, document.baseURI);
// Embeds use the build's network defaults (there is no Network dialog here).
const netDefaults = networkDefaults(import.meta.env, document.baseURI);
const shell = new AppShell({
  page: 'embed.html',
  bootOptions: () => {
    if (netDefaults.problem) shell.terminal.notice(netDefaults.problem, 'error');
    return { assetBase: config.assetBase, bootTimeoutMs: config.bootTimeoutMs, resume: { kind: config.withoutSession }, tuning: config.tuning, network: networkOptions({}, netDefaults) };
  },
});
const sidePanel = shell.element('side-panel');
const allowedOrigins = allowedOriginsFromLocation(window.location);
let disconnect: (() => void) | undefined;

const watch = watchCommands({ onCommandFinished: () => void panel.recheck() });
shell.onInput((data) => watch.input(data));
shell.onConsole((data) => watch.output(data));
const typeCommand = (command: string): void => {
  const typed = commandAsTyped(command);
  watch.input(typed);
  shell.vm?.sendInput(typed);
};
const panel = mountLabPanel(sidePanel, {
  onRun: typeCommand,
  // Share links open the full page (index.html beside this one), not another embed.
  pageHref: () => new URL('./', window.location.href).href,
  verifyStep: (command, timeoutMs) =>
    shell.vm
      ? shell.vm.exec(command, { timeoutMs })
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

// The embedding page learns of a failure too: without this it would wait for 'ready' forever.
shell.onErrorShown((error) => postEmbedEvent(window.parent, allowedOrigins, { tabdock: 1, type: 'error', code: error.code, message: error.message }));
shell.onStarted(({ vm }) =>
  whenShellAnswers(vm, () => {
    disconnect ??= connectEmbedBridge({
      self: window,
      parent: window.parent,
      allowedOrigins,
      panel,
      onRun: typeCommand,
      // Read-only: the page embedding tabdock may look at Docker, not change it.
      engineQuery: (query) => (shell.vm ? shell.vm.engineQuery(query) : Promise.reject(new Error('the VM is not running'))),
    });
  }),
);

/**
 * After a snapshot restore the VM reports ready a moment before bash reads its terminal, and input sent in
 * that moment is lost. Press Enter (as a person would) until a prompt comes back, then call onAnswer.
 */
function whenShellAnswers(vm: VmClient, onAnswer: () => void): void {
  const press = (): void => {
    if (shell.vm !== vm) {
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
    subscriptions.dispose();
  };
  const probe = watchCommands({
    onCommandFinished: () => {
      stop();
      onAnswer();
    },
  });
  const subscriptions = new DisposableStore();
  subscriptions.add(shell.onConsole((data) => probe.output(data)));
  // A restart ends this VM's probe at once; the next VM gets its own.
  subscriptions.add(shell.onStopping(stop));
  press();
}

shell.start();
