// The stack link's panel over the terminal: while the file loads, why it cannot run, or the question ("Run this
// stack?") with the services, the images they pull, the ports they publish, the file itself and the exact command.
// Only a click on Run starts anything; text goes in through textContent only, never as HTML.
import { el } from '../dom.ts';
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
  const heading = el('h2', 'stack-title', 'Stack from a link', doc);
  const dismiss = el('button', 'stack-dismiss', state.kind === 'started' ? 'Close' : 'Dismiss', doc);
  dismiss.addEventListener('click', () => actions.dismiss());
  const head = el('div', 'stack-head', undefined, doc);
  head.append(heading, dismiss);
  const body: HTMLElement[] = [];
  switch (state.kind) {
    case 'loading':
      body.push(status(doc, `Fetching the Compose file from ${state.url}… Nothing runs until you have seen it and pressed Run.`));
      break;
    case 'error':
      body.push(alert(doc, state.error.message, state.error.detail), el('p', 'stack-note', 'Nothing was started; the terminal works as usual.', doc));
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
  const intro = el('p', 'stack-question', undefined, doc);
  intro.append('Run this stack? The link asks tabdock to start the Compose file at ', el('code', '', url, doc), ' in this tab\'s machine. Read it first: it runs only when you press Run.');
  const table = el('table', 'stack-services', undefined, doc);
  const headRow = el('tr', '', undefined, doc);
  for (const title of ['Service', 'Image it pulls', 'Ports it publishes']) headRow.append(el('th', '', title, doc));
  table.append(headRow);
  for (const service of file.services) {
    const row = el('tr', '', undefined, doc);
    row.append(el('td', '', service.name, doc), el('td', '', service.image, doc), el('td', '', service.ports.join(', ') || 'none', doc));
    table.append(row);
  }
  const notes: HTMLElement[] = [
    el('p', 'stack-note', 'The machine runs 32-bit x86 (linux/386) images only: an image without a linux/386 variant fails when it is pulled.', doc),
  ];
  if (file.hasDeployKeys) {
    notes.push(
      el('p', 'stack-note', 'This file has `deploy:` keys (written for `docker stack deploy` on a swarm). tabdock runs it with `docker compose up -d`, which applies replicas and resource limits and ignores swarm-only keys such as placement.', doc),
    );
  }
  const details = el('details', 'stack-file', undefined, doc);
  details.open = true;
  details.append(el('summary', '', `The file (${file.text.split('\n').length} lines)`, doc), el('pre', '', file.text, doc));
  const command = el('p', 'stack-command', undefined, doc);
  command.append('Run writes it to the machine and types ', el('code', '', upCommand(file), doc), ' into the terminal.');
  const run = el('button', 'stack-run', vmReady ? 'Run' : 'Run (the machine is starting…)', doc);
  run.disabled = !vmReady;
  run.addEventListener('click', () => actions.run());
  const buttons = el('div', 'stack-buttons', undefined, doc);
  buttons.append(run);
  return [intro, table, ...notes, details, command, buttons];
}

function status(doc: Document, text: string): HTMLElement {
  const line = el('p', 'stack-status', text, doc);
  line.setAttribute('role', 'status');
  return line;
}

function alert(doc: Document, message: string, detail: string | undefined): HTMLElement {
  const box = el('div', 'stack-alert', undefined, doc);
  box.setAttribute('role', 'alert');
  box.append(el('p', '', message, doc));
  if (detail) {
    const more = el('details', '', undefined, doc);
    more.append(el('summary', '', 'Details', doc), el('pre', '', detail, doc));
    box.append(more);
  }
  return box;
}
