// Files between the user's computer and the guest: drop files on the terminal to place them in the shell's
// directory, or "Get file…" in the header to download one by path. Progress and errors show on one line over
// the terminal (aria-live, role="alert" for failures); transfers run one at a time. Core: guest-files.ts.
import './files.css';
import { downloadBytes } from '../session/session-bar.ts';
import { downloadFile, FileTransferError, uploadFile, type GuestExec } from './guest-files.ts';
import { el } from '../dom.ts';

export interface FileTransferHooks {
  /** The running VM's exec, or undefined when no VM runs. */
  exec(): GuestExec | undefined;
  /** A line in the terminal, as the page's other notices (failures only). */
  notice(text: string, tone: 'info' | 'error'): void;
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function errorText(error: unknown): { message: string; detail?: string } {
  if (error instanceof FileTransferError) return error.detail === undefined ? { message: error.message } : { message: error.message, detail: error.detail };
  const message = error instanceof Error ? error.message : String(error);
  return { message: `The transfer failed: ${message}` };
}

export class FileTransferUi {
  private readonly line: HTMLElement;
  private readonly label: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly dialog: HTMLDialogElement;
  private readonly pathInput: HTMLInputElement;
  private readonly dialogError: HTMLElement;
  private queue: Promise<void> = Promise.resolve();

  constructor(dropZone: HTMLElement, header: HTMLElement, private readonly hooks: FileTransferHooks) {
    this.line = document.createElement('div');
    this.line.className = 'file-transfer';
    this.line.hidden = true;
    this.line.setAttribute('aria-live', 'polite');
    this.label = document.createElement('span');
    this.bar = document.createElement('progress');
    this.bar.max = 1;
    this.bar.setAttribute('aria-label', 'File transfer progress');
    this.line.append(this.label, this.bar);
    dropZone.before(this.line);

    dropZone.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      dropZone.classList.add('file-drop-target');
    });
    dropZone.addEventListener('dragleave', () => dropZone.classList.remove('file-drop-target'));
    dropZone.addEventListener('drop', (event) => {
      dropZone.classList.remove('file-drop-target');
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      for (const file of files) this.enqueue(() => this.upload(file));
    });

    const open = el('button', 'file-get-button', 'Get file…');
    open.title = 'Download a file from the guest';
    ({ dialog: this.dialog, input: this.pathInput, error: this.dialogError } = this.buildDialog());
    open.addEventListener('click', () => {
      this.dialogError.hidden = true;
      this.dialog.showModal();
      this.pathInput.select();
    });
    // Beside the session buttons, before their message line (which takes the bar's whole second row).
    const sessionBar = header.querySelector('.session-bar');
    if (sessionBar) sessionBar.insertBefore(open, sessionBar.querySelector('.session-message'));
    else header.append(open);
    document.body.append(this.dialog);
  }

  private buildDialog(): { dialog: HTMLDialogElement; input: HTMLInputElement; error: HTMLElement } {
    const dialog = el('dialog', 'file-dialog');
    dialog.setAttribute('aria-labelledby', 'file-dialog-title');
    const form = el('form');
    const title = el('h2');
    title.id = 'file-dialog-title';
    title.textContent = 'Download a file from the guest';
    const label = el('label', '', 'Path in the guest');
    const input = el('input');
    input.type = 'text';
    input.name = 'path';
    input.required = true;
    input.spellcheck = false;
    input.placeholder = '/root/notes.txt';
    label.append(input);
    const hint = el('p', 'file-dialog-hint', "A relative path starts at the terminal shell's directory.");
    const error = el('p', 'file-dialog-error');
    error.setAttribute('role', 'alert');
    error.hidden = true;
    const actions = el('div', 'file-dialog-actions');
    const cancel = el('button', '', 'Cancel');
    cancel.addEventListener('click', () => dialog.close());
    const submit = el('button');
    submit.type = 'submit';
    submit.textContent = 'Download';
    actions.append(cancel, submit);
    form.append(title, label, hint, error, actions);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      this.enqueue(async () => {
        try {
          await this.download(input.value);
          dialog.close();
        } catch (thrown) {
          error.textContent = errorText(thrown).message;
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      });
    });
    dialog.append(form);
    return { dialog, input, error };
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work, work);
  }

  private requireExec(): GuestExec {
    const exec = this.hooks.exec();
    if (!exec) throw new FileTransferError('transfer-failed', 'The VM is not running yet; wait for the prompt, then try again.');
    return exec;
  }

  private async upload(file: File): Promise<void> {
    this.show(`Placing ${file.name} (${sizeText(file.size)}) in the guest…`, 0);
    try {
      const placed = await uploadFile(this.requireExec(), file.name, new Uint8Array(await file.arrayBuffer()), (done, total) =>
        this.show(`Placing ${file.name} in the guest… ${sizeText(done)} of ${sizeText(total)}`, total === 0 ? 1 : done / total),
      );
      // Only on the line over the terminal: a notice in the terminal would land after the user's prompt.
      this.show(`Placed ${placed} (${sizeText(file.size)}).`, 1, 'done');
    } catch (error) {
      const { message, detail } = errorText(error);
      this.show(message, undefined, 'error');
      this.hooks.notice(detail ? `${message}\n${detail.trim()}` : message, 'error');
    }
  }

  /** Throws for the dialog to show; progress goes on the line over the terminal. */
  private async download(path: string): Promise<void> {
    this.show(`Reading ${path} from the guest…`, 0);
    try {
      const { path: fullPath, bytes } = await downloadFile(this.requireExec(), path, (done, total) =>
        this.show(`Reading ${path} from the guest… ${sizeText(done)} of ${sizeText(total)}`, total === 0 ? 1 : done / total),
      );
      downloadBytes(bytes as BlobPart, fullPath.split('/').pop() || 'download');
      this.show(`Downloaded ${fullPath} (${sizeText(bytes.byteLength)}).`, 1, 'done');
    } catch (error) {
      this.show(errorText(error).message, undefined, 'error');
      throw error;
    }
  }

  private show(text: string, fraction: number | undefined, tone: 'busy' | 'done' | 'error' = 'busy'): void {
    this.line.hidden = false;
    this.line.dataset['tone'] = tone;
    if (tone === 'error') this.line.setAttribute('role', 'alert');
    else this.line.removeAttribute('role');
    this.label.textContent = text;
    this.bar.hidden = fraction === undefined || tone !== 'busy';
    if (fraction !== undefined) this.bar.value = fraction;
  }
}
