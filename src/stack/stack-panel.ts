// The stack link's panel over the terminal: while the file loads, why it cannot run, or the question ("Run this
// stack?") with the services, the images they pull, the ports they publish, the file itself and the exact command.
// Only a click on Run starts anything; text goes in through textContent only, never as HTML.
import { el } from '../labs/dom.ts';
import type { StackError } from './stack-errors.ts';
import type { StackFile } from './parse-stack.ts';
import { upCommand } from './run-stack.ts';

/** One state per thing the panel can show; `vmReady` says whether Run can act now. */
export type StackPanelState =
  | { kind: 'loading'; url: string }
  | { kind: 'error'; error: StackError }
  | { kind: 'asking'; url: string; file: StackFile; vmReady: boolean }
  | { kind: 'placing'; file: StackFile }
  | { kind: 'started'; file: StackFile; path: string }
  | { kind: 'run-failed'; url: string; file: StackFile; message: string; detail: string; vmReady: boolean };

export interface StackPanelActions {
  run(): void;
  dismiss(): void;
}

export function renderStackPanel(box: HTMLElement, state: StackPanelState, actions: StackPanelActions): void {
  const doc = box.ownerDocument;
  const heading = el(doc, 'h2', { className: 'stack-title', textContent: 'Stack from a link' });
  const dismiss = el(doc, 'button', { className: 'stack-dismiss', textContent: state.kind === 'started' ? 'Close' : 'Dismiss', type: 'button' });
  dismiss.addEventListener('click', () => actions.dismiss());
  const head = el(doc, 'div', { className: 'stack-head' });
  head.append(heading, dismiss);
  const body: HTMLElement[] = [];
  switch (state.kind) {
    case 'loading':
      body.push(status(doc, `Fetching the Compose file from ${state.url}… Nothing runs until you have seen it and pressed Run.`));
      break;
    case 'error':
      body.push(alert(doc, state.error.message, state.error.detail), el(doc, 'p', { className: 'stack-note', textContent: 'Nothing was started; the terminal works as usual.' }));
      break;
    case 'asking':
    case 'run-failed':
      if (state.kind === 'run-failed') body.push(alert(doc, state.message, state.detail));
      body.push(...question(doc, state.url, state.file, state.vmReady, actions));
      break;
    case 'placing':
      body.push(status(doc, `Writing the Compose file into the machine, then typing \`${upCommand(state.file)}\` into the terminal…`));
      break;
    case 'started': {
      const ports = state.file.services.flatMap((service) => service.publishedPorts);
      body.push(
        status(
          doc,
          `Started: the file is ${state.path}, and \`${upCommand(state.file)}\` runs in the terminal. ` +
            (ports.length > 0 ? `Its ports (${ports.join(', ')}) appear under "Published ports" once the containers publish them.` : 'It publishes no fixed port.'),
        ),
      );
      break;
    }
    default: {
      const unknown: never = state;
      throw new Error(`unknown stack panel state ${JSON.stringify(unknown)}`);
    }
  }
  box.dataset['state'] = state.kind;
  box.replaceChildren(head, ...body);
}

function question(doc: Document, url: string, file: StackFile, vmReady: boolean, actions: StackPanelActions): HTMLElement[] {
  const intro = el(doc, 'p', { className: 'stack-question' });
  intro.append('Run this stack? The link asks tabdock to start the Compose file at ', el(doc, 'code', { textContent: url }), ' in this tab\'s machine. Read it first: it runs only when you press Run.');
  const table = el(doc, 'table', { className: 'stack-services' });
  const headRow = el(doc, 'tr');
  for (const title of ['Service', 'Image it pulls', 'Ports it publishes']) headRow.append(el(doc, 'th', { textContent: title }));
  table.append(headRow);
  for (const service of file.services) {
    const row = el(doc, 'tr');
    row.append(el(doc, 'td', { textContent: service.name }), el(doc, 'td', { textContent: service.image }), el(doc, 'td', { textContent: service.ports.join(', ') || 'none' }));
    table.append(row);
  }
  const notes: HTMLElement[] = [
    el(doc, 'p', { className: 'stack-note', textContent: 'The machine runs 32-bit x86 (linux/386) images only: an image without a linux/386 variant fails when it is pulled.' }),
  ];
  if (file.hasDeployKeys) {
    notes.push(
      el(doc, 'p', {
        className: 'stack-note',
        textContent: 'This file has `deploy:` keys (written for `docker stack deploy` on a swarm). tabdock runs it with `docker compose up -d`, which applies replicas and resource limits and ignores swarm-only keys such as placement.',
      }),
    );
  }
  const details = el(doc, 'details', { className: 'stack-file' });
  details.open = true;
  details.append(el(doc, 'summary', { textContent: `The file (${file.text.split('\n').length} lines)` }), el(doc, 'pre', { textContent: file.text }));
  const command = el(doc, 'p', { className: 'stack-command' });
  command.append('Run writes it to the machine and types ', el(doc, 'code', { textContent: upCommand(file) }), ' into the terminal.');
  const run = el(doc, 'button', { className: 'stack-run', textContent: vmReady ? 'Run' : 'Run (the machine is starting…)', type: 'button' });
  run.disabled = !vmReady;
  run.addEventListener('click', () => actions.run());
  const buttons = el(doc, 'div', { className: 'stack-buttons' });
  buttons.append(run);
  return [intro, table, ...notes, details, command, buttons];
}

function status(doc: Document, text: string): HTMLElement {
  const line = el(doc, 'p', { className: 'stack-status', textContent: text });
  line.setAttribute('role', 'status');
  return line;
}

function alert(doc: Document, message: string, detail: string | undefined): HTMLElement {
  const box = el(doc, 'div', { className: 'stack-alert' });
  box.setAttribute('role', 'alert');
  box.append(el(doc, 'p', { textContent: message }));
  if (detail) {
    const more = el(doc, 'details');
    more.append(el(doc, 'summary', { textContent: 'Details' }), el(doc, 'pre', { textContent: detail }));
    box.append(more);
  }
  return box;
}
