// Error panels (role="alert") above the terminal: a title for the kind of failure, the VmError's sentence
// saying what to do, the raw detail collapsed underneath, and a Restart button where restarting can help.
import type { VmError, VmErrorCode } from '../worker/shared/contract.ts';
import { el } from './dom.ts';

const TITLES: Record<VmErrorCode, string> = {
  'no-webassembly': 'This browser cannot run the VM',
  'asset-missing': 'A VM file is missing on the server',
  'asset-http': 'The server refused a VM file',
  'asset-not-binary': 'The server sent a web page instead of a VM file',
  'asset-hash-mismatch': 'A VM file is corrupt or out of date',
  'manifest-invalid': 'The VM manifest is unreadable',
  'boot-timeout': 'The VM took too long to boot',
  'kernel-panic': 'The guest kernel crashed',
  'dockerd-failed': 'Docker failed to start in the guest',
  'worker-crashed': 'The VM crashed',
  'exec-timeout': 'A command in the VM timed out',
  'not-running': 'The VM is not running',
  'guest-disk-full': 'The guest disk is full',
  internal: 'Something went wrong',
};

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
    const title = el('h2', '', TITLES[error.code]);
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
