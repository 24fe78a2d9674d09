// The session buttons in the page header (Save, Reset, Download, Open) and the line under them that says
// what happened: role="status" for progress and results, role="alert" for failures, with an optional link.
import './session.css';
import { el } from '../dom.ts';

export interface SessionBarActions {
  save(): void;
  reset(): void;
  download(): void;
  open(file: File): void;
}

export type SessionMessageTone = 'info' | 'error';

export class SessionBar {
  private readonly root: HTMLElement;
  private readonly message: HTMLElement;
  private readonly buttons: HTMLButtonElement[] = [];

  constructor(parent: HTMLElement, actions: SessionBarActions) {
    this.root = document.createElement('div');
    this.root.className = 'session-bar';
    this.root.setAttribute('aria-label', 'Session');
    const fileInput = el('input');
    fileInput.type = 'file';
    fileInput.accept = '.tdstate,application/octet-stream';
    fileInput.hidden = true;
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      fileInput.value = '';
      if (file) actions.open(file);
    });
    this.addButton('Save', 'Save the VM in this browser (Ctrl+S)', actions.save);
    this.addButton('Reset', 'Delete the saved session and start a clean VM', actions.reset);
    this.addButton('Download', 'Save the VM to a file', actions.download);
    this.addButton('Open…', 'Resume a VM from a downloaded session file', () => fileInput.click());
    this.message = document.createElement('div');
    this.message.className = 'session-message';
    this.message.setAttribute('aria-live', 'polite');
    this.root.append(fileInput, this.message);
    parent.append(this.root);
  }

  /** Buttons work only while a VM runs (Reset and Open always work). */
  setRunning(running: boolean): void {
    for (const button of this.buttons) {
      if (button.dataset['needsVm'] === 'true') button.disabled = !running;
    }
  }

  /** `details` becomes the message's tooltip (e.g. how long each step of a save took). */
  show(text: string, tone: SessionMessageTone, link?: { label: string; onClick: () => void }, details?: string): void {
    this.message.replaceChildren();
    if (details) this.message.title = details;
    else this.message.removeAttribute('title');
    // Failures are alerts; progress is a polite live region without role="status", which the header's
    // status line already is (one status per page keeps getByRole('status') unambiguous).
    if (tone === 'error') this.message.setAttribute('role', 'alert');
    else this.message.removeAttribute('role');
    this.message.dataset['tone'] = tone;
    this.message.append(text);
    if (link) {
      const anchor = el('a');
      anchor.href = '#';
      anchor.textContent = link.label;
      anchor.addEventListener('click', (event) => {
        event.preventDefault();
        link.onClick();
      });
      this.message.append(' ', anchor);
    }
  }

  private addButton(label: string, title: string, onClick: () => void): void {
    const button = el('button', '', label);
    button.title = title;
    button.dataset['needsVm'] = String(label === 'Save' || label === 'Download');
    button.addEventListener('click', onClick);
    this.buttons.push(button);
    this.root.append(button);
  }
}

/** Hands bytes to the browser's download manager under a file name. */
export function downloadBytes(bytes: BlobPart, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const anchor = el('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.click();
  // The download has started from the object URL by the time the click returns; free it a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
