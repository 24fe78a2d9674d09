// Error panels (role="alert") above the terminal: a title for the kind of failure, the VmError's sentence
// saying what to do, the raw detail collapsed underneath, and a Restart button where restarting can help.
import type { VmError, VmErrorCode } from '../worker/shared/contract.ts';
import { el } from './dom.ts';

function titleFor(code: VmErrorCode): string {
  switch (code) {
    case 'no-webassembly':
      return 'This browser cannot run the VM';
    case 'asset-missing':
      return 'A VM file is missing on the server';
    case 'asset-http':
      return 'The server refused a VM file';
    case 'asset-not-binary':
      return 'The server sent a web page instead of a VM file';
    case 'asset-hash-mismatch':
      return 'A VM file is corrupt or out of date';
    case 'manifest-invalid':
      return 'The VM manifest is unreadable';
    case 'boot-timeout':
      return 'The VM took too long to boot';
    case 'kernel-panic':
      return 'The guest kernel crashed';
    case 'dockerd-failed':
      return 'Docker failed to start in the guest';
    case 'worker-crashed':
      return 'The VM crashed';
    case 'exec-timeout':
      return 'A command in the VM timed out';
    case 'not-running':
      return 'The VM is not running';
    case 'guest-disk-full':
      return 'The guest disk is full';
    case 'internal':
      return 'Something went wrong';
    default: {
      const unknown: never = code;
      throw new Error(`unknown error code ${String(unknown)}`);
    }
  }
}

/** Restarting cannot give a browser WebAssembly; everything else may well work on a fresh VM. */
function canRestart(code: VmErrorCode): boolean {
  return code !== 'no-webassembly';
}

export class ErrorPanels {
  constructor(private readonly root: HTMLElement) {}

  show(error: VmError, onRestart?: () => void): void {
    const panel = el('section', 'error-panel');
    panel.setAttribute('role', 'alert');
    panel.dataset['code'] = error.code;
    const title = el('h2', '', titleFor(error.code));
    const message = el('p', '', error.message);
    panel.append(title, message);
    if (error.detail) {
      const details = el('details');
      const summary = el('summary', '', `Details (${error.code})`);
      const pre = el('pre', '', error.detail);
      details.append(summary, pre);
      panel.append(details);
    }
    if (onRestart && canRestart(error.code)) {
      const actions = el('div', 'error-actions');
      const button = el('button', 'primary', 'Restart');
      button.addEventListener('click', onRestart, { once: true });
      actions.append(button);
      panel.append(actions);
    }
    this.root.append(panel);
  }

  clear(): void {
    this.root.replaceChildren();
  }
}
