// The lab panel's question before any check runs: "This lab checks your work by running these commands", the
// exact list, Accept / Don't run checks. Only a click here allows checks; nothing a link or an embedding page
// sends can (issue #24, item 8). See check-consent.ts for what is remembered.
import { AcceptedChecks, checksFingerprint, type LabCheck } from './check-consent.ts';
import { el } from '../dom.ts';

/**
 * 'looking-up': reading whether this list was accepted before (nothing shown yet, no check runs). 'asking': the
 * question is on screen. 'declined': the reader said no (or turned checks off); a button asks again.
 */
export type ChecksConsentState = 'not-needed' | 'looking-up' | 'asking' | 'accepted' | 'declined';

export interface ChecksConsentOptions {
  checks: readonly LabCheck[];
  /** How each step is called in the list, e.g. "2. Make a directory yourself". */
  stepName: (stepIndex: number) => string;
  accepted: AcceptedChecks;
  onChange: (state: ChecksConsentState) => void;
}

export interface ChecksConsent {
  /** The box to place above the steps; null when the lab has no checks. */
  element: HTMLElement | null;
  state(): ChecksConsentState;
  /** Settles once remembered acceptance has been looked up: true only when checks may run now. */
  allowed(): Promise<boolean>;
  /** Puts the question back on screen and moves focus to Accept (a Check click before accepting). */
  ask(): void;
}

export const CHECK_NOT_RUN_MESSAGE = 'Check not run: accept checks to enable (see "Checks" above the steps).';

export function mountChecksConsent(doc: Document, options: ChecksConsentOptions): ChecksConsent {
  if (options.checks.length === 0) {
    return { element: null, state: () => 'not-needed', allowed: () => Promise.resolve(true), ask: () => undefined };
  }
  const box = el('section', 'lab-consent', undefined, doc);
  box.setAttribute('aria-label', 'Checks');
  box.hidden = true;
  let state: ChecksConsentState = 'looking-up';
  const fingerprint = checksFingerprint(options.checks).catch((error: unknown) => {
    console.warn('tabdock labs: could not fingerprint the checks; acceptance will not be remembered', error);
    return null;
  });
  const lookedUp = fingerprint.then((value) => {
    if (state === 'looking-up') set(value !== null && options.accepted.has(value) ? 'accepted' : 'asking');
  });

  function set(next: ChecksConsentState): void {
    state = next;
    box.hidden = false;
    box.replaceChildren(...(next === 'asking' ? question() : summary(next)));
    options.onChange(next);
  }

  function question(): HTMLElement[] {
    const heading = el('h2', '', 'Checks', doc);
    const intro = el('p', '', 'This lab checks your work by running these commands in the machine (as root, outside your terminal), after your commands finish:', doc);
    const list = el('ol', 'lab-consent-list', undefined, doc);
    for (const check of options.checks) {
      const item = el('li', '', undefined, doc);
      item.append(el('span', 'lab-consent-step', options.stepName(check.stepIndex), doc));
      item.append(el('pre', 'lab-consent-command', check.command, doc));
      list.append(item);
    }
    const note = el('p', 'lab-consent-note', 'No check runs until you accept. Your answer is remembered for this exact list; if the lab changes its checks, you are asked again.', doc);
    const accept = el('button', 'lab-consent-accept', 'Accept', doc);
    const decline = el('button', 'lab-consent-decline', "Don't run checks", doc);
    accept.addEventListener('click', () => {
      set('accepted');
      void remember(true);
    });
    decline.addEventListener('click', () => set('declined'));
    const buttons = el('div', 'lab-consent-buttons', undefined, doc);
    buttons.append(accept, decline);
    return [heading, intro, list, note, buttons];
  }

  function summary(current: ChecksConsentState): HTMLElement[] {
    const line = el('p', `lab-consent-summary lab-consent-${current}`, undefined, doc);
    if (current === 'accepted') {
      const off = el('button', 'lab-consent-off', 'Turn checks off', doc);
      off.addEventListener('click', () => {
        set('declined');
        void remember(false);
      });
      line.append(`Checks on: ${options.checks.length} check command(s), each shown under its step. `, off);
    } else {
      const review = el('button', 'lab-consent-review', 'Review checks', doc);
      review.addEventListener('click', () => ask());
      line.append('Checks are off: no step is checked. ', review);
    }
    return [line];
  }

  async function remember(accept: boolean): Promise<void> {
    const value = await fingerprint;
    if (value === null) return;
    if (accept) options.accepted.add(value);
    else options.accepted.remove(value);
  }

  function ask(): void {
    if (state === 'looking-up' || state === 'accepted') return;
    if (state !== 'asking') set('asking');
    box.querySelector<HTMLButtonElement>('.lab-consent-accept')?.focus();
  }

  return {
    element: box,
    state: () => state,
    allowed: () => lookedUp.then(() => state === 'accepted'),
    ask,
  };
}
