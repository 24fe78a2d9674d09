// Two self-contained widgets of the lab panel: the setup box (what setup will do, the exact script, a Run
// setup button, its outcome) and the share bar (a Share button that copies the lab's link).
import type { Lab } from './lab-format.ts';
import type { LabLinkError } from './lab-link.ts';
import { buildSetupScript, describeSetup } from './lab-setup.ts';
import { runCheck, type VerifyFn } from './step-check.ts';
import { el } from './dom.ts';

export interface SetupSectionOptions {
  run: VerifyFn;
  timeoutMs: number;
  /** False once the panel shows another lab: a late result must not touch the new one. */
  isCurrent: () => boolean;
  onFinished: (ok: boolean, output: string) => void;
}

/** Setup is shown, never run by itself: the reader sees the list and the script, then presses Run setup. */
export function buildSetupSectionElement(doc: Document, lab: Lab, options: SetupSectionOptions): HTMLElement {
  const section = el(doc, 'section', { className: 'lab-setup' });
  section.append(el(doc, 'h2', { textContent: 'Setup' }), el(doc, 'p', { textContent: 'Before the first step, setup will:' }));
  const list = el(doc, 'ul');
  for (const item of describeSetup(lab)) {
    const line = el(doc, 'li', { textContent: item.text });
    // The exact script carries files base64-encoded; show each file readably, since a Run block may execute it.
    if (item.fileContent !== undefined) {
      const file = el(doc, 'details');
      file.append(el(doc, 'summary', { textContent: 'Show the file' }), el(doc, 'pre', { className: 'lab-setup-file', textContent: item.fileContent }));
      line.append(file);
    }
    list.append(line);
  }
  const script = buildSetupScript(lab);
  const details = el(doc, 'details');
  details.append(el(doc, 'summary', { textContent: 'The exact script' }), el(doc, 'pre', { className: 'lab-setup-script', textContent: script }));
  const button = el(doc, 'button', { className: 'lab-setup-run', textContent: 'Run setup', type: 'button' });
  const status = el(doc, 'p', { className: 'lab-setup-status' });
  status.setAttribute('role', 'status');
  const output = el(doc, 'pre', { className: 'lab-setup-output' });
  output.hidden = true;
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = 'Running setup…';
    void runCheck(options.run, script, options.timeoutMs).then((outcome) => {
      if (!options.isCurrent()) return;
      button.disabled = false;
      const ok = outcome.status === 'done';
      status.textContent = ok
        ? 'Setup done.'
        : outcome.status === 'failed'
          ? 'Setup failed: see its output below, fix the cause and press Run setup again.'
          : outcome.message;
      status.className = `lab-setup-status lab-setup-${ok ? 'done' : 'failed'}`;
      output.textContent = outcome.output;
      output.hidden = ok || outcome.output === '';
      options.onFinished(ok, outcome.output);
    });
  });
  section.append(list, details, button, status, output);
  return section;
}

export interface ShareBarOptions {
  link: () => Promise<string | LabLinkError>;
  copy: (text: string) => Promise<void>;
  onLink: (link: string) => void;
}

export function buildShareBarElement(doc: Document, options: ShareBarOptions): HTMLElement {
  const bar = el(doc, 'div', { className: 'lab-share' });
  const button = el(doc, 'button', { className: 'lab-share-button', textContent: 'Share', type: 'button' });
  const note = el(doc, 'span', { className: 'lab-share-note' });
  note.setAttribute('role', 'status');
  button.addEventListener('click', () => {
    void (async () => {
      const link = await options.link();
      if (typeof link !== 'string') {
        note.textContent = link.message;
        return;
      }
      options.onLink(link);
      try {
        await options.copy(link);
        note.textContent = 'Link copied.';
      } catch (error) {
        // Clipboard access can be refused (no user gesture, permissions); show the link to copy by hand.
        note.textContent = `Copy this link: ${link}`;
        console.warn('tabdock labs: clipboard write refused', error);
      }
    })();
  });
  bar.append(button, note);
  return bar;
}
