// One step's status controls in the lab panel: the badge beside its heading, the message line under it and the
// Check button (only for steps with a check).
import type { StepStatus } from './step-check.ts';
import { el } from '../dom.ts';

export interface StepView {
  status: StepStatus;
  verify: string | null;
  badge: HTMLElement;
  message: HTMLElement;
  checkButton: HTMLButtonElement | null;
}

const STATUS_LABELS: Record<StepStatus, string> = {
  pending: 'Not checked',
  checking: 'Checking…',
  done: 'Done',
  failed: 'Not done yet',
  error: 'Could not check',
};

/** Adds the controls to a rendered step's header; `onCheck` is the Check button's click. */
export function buildStepView(doc: Document, header: HTMLElement, verify: string | null, onCheck: () => void): StepView {
  const badge = el('span', 'lab-status lab-status-pending', STATUS_LABELS.pending, doc);
  const message = el('p', 'lab-step-message', undefined, doc);
  message.hidden = true;
  message.setAttribute('role', 'status');
  let checkButton: HTMLButtonElement | null = null;
  if (verify !== null) {
    checkButton = el('button', 'lab-check', 'Check', doc);
    checkButton.title = 'Check whether this step is done';
    checkButton.addEventListener('click', onCheck);
    header.append(badge, checkButton);
  }
  header.after(message);
  return { status: 'pending', verify, badge, message, checkButton };
}

export function paintStepView(view: StepView, status: StepStatus, message: string): void {
  view.status = status;
  view.badge.className = `lab-status lab-status-${status}`;
  view.badge.textContent = STATUS_LABELS[status];
  view.message.textContent = message;
  view.message.hidden = message === '';
  if (view.checkButton) view.checkButton.disabled = status === 'checking';
}
