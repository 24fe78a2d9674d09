// Two self-contained widgets of the lab panel: the setup box (what setup will do, the exact script, a Run
// setup button, its outcome) and the share bar (a Share button that copies the lab's link).
import type { Lab } from './lab-format.ts';
import type { LabLinkError } from './lab-link.ts';
import { buildSetupScript, describeSetup } from './lab-setup.ts';
import { runCheck, type VerifyFn } from './step-check.ts';
import { el } from '../dom.ts';

export interface SetupSectionOptions {
  run: VerifyFn;
  timeoutMs: number;
  /** False once the panel shows another lab: a late result must not touch the new one. */
  isCurrent: () => boolean;
  onFinished: (ok: boolean, output: string) => void;
}

/** Setup is shown, never run by itself: the reader sees the list and the script, then presses Run setup. */
export function buildSetupSectionElement(doc: Document, lab: Lab, options: SetupSectionOptions): HTMLElement {
  const section = el('section', 'lab-setup', undefined, doc);
  section.append(el('h2', '', 'Setup', doc), el('p', '', 'Before the first step, setup will:', doc));
  const list = el('ul', '', undefined, doc);
  for (const item of describeSetup(lab)) {
    const line = el('li', '', item.text, doc);
    // The exact script carries files base64-encoded; show each file readably, since a Run block may execute it.
    if (item.fileContent !== undefined) {
      const file = el('details', '', undefined, doc);
      file.append(el('summary', '', 'Show the file', doc), el('pre', 'lab-setup-file', item.fileContent, doc));
      line.append(file);
    }
    list.append(line);
  }
  const script = buildSetupScript(lab);
  const details = el('details', '', undefined, doc);
  details.append(el('summary', '', 'The exact script', doc), el('pre', 'lab-setup-script', script, doc));
  const button = el('button', 'lab-setup-run', 'Run setup', doc);
  const status = el('p', 'lab-setup-status', undefined, doc);
  status.setAttribute('role', 'status');
  const output = el('pre', 'lab-setup-output', undefined, doc);
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
  const bar = el('div', 'lab-share', undefined, doc);
  const button = el('button', 'lab-share-button', 'Share', doc);
  const note = el('span', 'lab-share-note', undefined, doc);
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
