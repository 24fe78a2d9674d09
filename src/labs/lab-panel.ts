// The lab panel: shows a lab beside the terminal, with setup shown before it runs, Run buttons, per-step
// verify status, and a Share button. It reaches the VM only through the injected deps (see LabPanelDeps).
/// <reference types="vite/client" />
import './lab-panel.css';
import { formatLabProblem, type Lab, type LabProblem } from './lab-format.ts';
import { makeShareLink, type LabLinkError, type LabOrigin } from './lab-link.ts';
import type { LoadedLab, LoadLabResult } from './load-lab.ts';
import { renderLab } from './render-lab.ts';
import { runCheck, type StepStatus, type VerifyFn } from './step-check.ts';
import { hasSetup } from './lab-setup.ts';
import { buildSetupSectionElement, buildShareBarElement } from './panel-parts.ts';
import { buildStepView, paintStepView, type StepView } from './step-view.ts';
import { AcceptedChecks, defaultConsentStorage, labChecks, type ConsentStorage } from './check-consent.ts';
import { CHECK_NOT_RUN_MESSAGE, mountChecksConsent, type ChecksConsent, type ChecksConsentState } from './consent-box.ts';
import { el } from '../dom.ts';

export type { StepStatus } from './step-check.ts';

export interface LabPanelDeps {
  /** Type a command into the terminal (the page writes `command + '\n'` to VmApi.sendInput). */
  onRun(command: string): void;
  /** Run a check in the guest: VmApi.exec(command, {timeoutMs}). Exit status 0 marks the step done. */
  verifyStep: VerifyFn;
  /** Run the setup script in the guest; defaults to verifyStep. */
  runSetup?: VerifyFn;
  /** Copy the share link; defaults to navigator.clipboard.writeText. */
  copyText?: (text: string) => Promise<void>;
  /** The page address to build share links on; defaults to location.href. */
  pageHref?: () => string;
  setupTimeoutMs?: number;
  /** After a Run click, check that step after each of these delays until it is done. */
  autoCheckDelaysMs?: readonly number[];
  /** Where accepted check lists are remembered; defaults to localStorage, null remembers for this page only. */
  consentStorage?: ConsentStorage | null;
  document?: Document;
}

/** Events out, for the page and the embed API. */
export type LabPanelEvent =
  | { type: 'lab-shown'; title: string; stepCount: number }
  | { type: 'run'; command: string; stepIndex: number | null }
  | { type: 'step-status'; stepIndex: number; status: StepStatus; message: string }
  | { type: 'step-done'; stepIndex: number; title: string }
  | { type: 'lab-complete'; title: string }
  | { type: 'setup-finished'; ok: boolean; output: string }
  | { type: 'share-link'; link: string }
  /** The reader's answer to "This lab checks your work by running these commands" ('asking': on screen). */
  | { type: 'checks-consent'; state: Extract<ChecksConsentState, 'asking' | 'accepted' | 'declined'> };

export interface LabPanelHandle {
  /** Shows a loaded lab, a load error, or nothing, straight from loadLabFromLocation(). */
  load(result: LoadLabResult): void;
  show(loaded: LoadedLab): void;
  showError(error: LabLinkError, problems?: LabProblem[]): void;
  /** Check one step now (queued behind a running check). Steps without verify stay 'pending'. */
  checkStep(stepIndex: number): Promise<StepStatus>;
  /**
   * Check the first checkable step not yet done (the one the user is on): one guest command, cheap enough to
   * call after each command the user types (e.g. a second or two after Enter in the terminal).
   */
  recheck(): Promise<void>;
  /** Check every step not yet done, one after another. */
  checkAll(): Promise<void>;
  /**
   * Whether the reader has accepted this lab's checks (waits for the remembered answer to be read). Until then
   * checkStep, recheck and checkAll run nothing: the steps say "Check not run".
   */
  checksAllowed(): Promise<boolean>;
  statuses(): readonly StepStatus[];
  /** The current share link (also what the Share button copies). */
  shareLink(): Promise<string | LabLinkError>;
  on(listener: (event: LabPanelEvent) => void): () => void;
  dispose(): void;
}

export const DEFAULT_SETUP_TIMEOUT_MS = 180_000;
export const DEFAULT_AUTO_CHECK_DELAYS_MS: readonly number[] = [3_000, 8_000, 20_000, 45_000];

export function mountLabPanel(container: HTMLElement, deps: LabPanelDeps): LabPanelHandle {
  const doc = deps.document ?? container.ownerDocument;
  const listeners = new Set<(event: LabPanelEvent) => void>();
  const emit = (event: LabPanelEvent): void => listeners.forEach((listener) => listener(event));
  const root = el('div', 'lab-panel', undefined, doc);
  container.replaceChildren(root);

  let current: { lab: Lab; origin: LabOrigin; views: StepView[]; consent: ChecksConsent } | null = null;
  const acceptedChecks = new AcceptedChecks(deps.consentStorage === undefined ? defaultConsentStorage(doc.defaultView) : deps.consentStorage);
  let generation = 0;
  let checkQueue: Promise<unknown> = Promise.resolve();
  const autoTimers = new Set<ReturnType<typeof setTimeout>>();

  function clearAutoChecks(): void {
    autoTimers.forEach((timer) => clearTimeout(timer));
    autoTimers.clear();
  }

  function setStatus(stepIndex: number, status: StepStatus, message: string): void {
    const view = current?.views[stepIndex];
    if (!current || !view) return;
    const wasDone = view.status === 'done';
    paintStepView(view, status, message);
    emit({ type: 'step-status', stepIndex, status, message });
    if (status === 'done' && !wasDone) {
      emit({ type: 'step-done', stepIndex, title: current.lab.steps[stepIndex]?.title ?? '' });
      updateProgress();
      const checkable = current.views.filter((candidate) => candidate.verify !== null);
      if (checkable.length > 0 && checkable.every((candidate) => candidate.status === 'done')) {
        emit({ type: 'lab-complete', title: current.lab.title });
      }
    }
  }

  let progress: HTMLElement | null = null;
  function updateProgress(): void {
    if (!current || !progress) return;
    const checkable = current.views.filter((view) => view.verify !== null);
    const done = checkable.filter((view) => view.status === 'done').length;
    progress.textContent = checkable.length === 0 ? '' : `${done} of ${checkable.length} checked steps done`;
  }

  /** Steps with a check queued behind another one that has not started yet. */
  const queued = new Set<number>();

  function checkStep(stepIndex: number, options: { unlessDone?: boolean } = {}): Promise<StepStatus> {
    const view = current?.views[stepIndex];
    if (!current || !view) return Promise.resolve('error');
    if (view.verify === null) return Promise.resolve(view.status);
    const myGeneration = generation;
    const command = view.verify;
    const timeoutMs = current.lab.verifyTimeoutMs;
    const { consent } = current;
    queued.add(stepIndex);
    // One check at a time: each is a process in an emulated single-core guest, where parallel checks only
    // slow each other (and the user's own command) down.
    const run = checkQueue.then(async (): Promise<StepStatus> => {
      queued.delete(stepIndex);
      if (myGeneration !== generation) return 'pending';
      if (options.unlessDone && view.status === 'done') return 'done';
      // Nothing runs before the reader has accepted this lab's checks (issue #24); the step already says so.
      if (!(await consent.allowed()) || myGeneration !== generation) return view.status;
      setStatus(stepIndex, 'checking', '');
      const outcome = await runCheck(deps.verifyStep, command, timeoutMs);
      if (myGeneration !== generation) return 'pending';
      setStatus(stepIndex, outcome.status, outcome.message);
      return outcome.status;
    });
    checkQueue = run;
    return run;
  }

  function notDone(): number[] {
    if (!current) return [];
    return current.views.flatMap((view, index) => (view.verify !== null && view.status !== 'done' ? [index] : []));
  }

  async function recheck(): Promise<void> {
    const [first] = notDone();
    if (first === undefined) return;
    // A check already running may have looked before the command that just finished: queue one more after
    // it. A check still waiting in the queue will look after this command anyway, so one is enough.
    if (queued.has(first)) return;
    await checkStep(first, { unlessDone: true });
  }

  async function checkAll(): Promise<void> {
    for (const index of notDone()) await checkStep(index);
  }

  function scheduleAutoChecks(stepIndex: number): void {
    clearAutoChecks();
    const delays = deps.autoCheckDelaysMs ?? DEFAULT_AUTO_CHECK_DELAYS_MS;
    const myGeneration = generation;
    for (const delayMs of delays) {
      const timer = setTimeout(() => {
        autoTimers.delete(timer);
        const view = current?.views[stepIndex];
        if (myGeneration === generation && view && view.status !== 'done' && view.status !== 'checking') void checkStep(stepIndex);
      }, delayMs);
      autoTimers.add(timer);
    }
  }

  function run(command: string, stepIndex: number | null): void {
    deps.onRun(command);
    emit({ type: 'run', command, stepIndex });
    if (stepIndex !== null && current?.views[stepIndex]?.verify) scheduleAutoChecks(stepIndex);
  }

  async function shareLink(): Promise<string | LabLinkError> {
    if (!current) return { code: 'link-malformed', message: 'No lab is open, so there is nothing to share.' };
    const href = deps.pageHref?.() ?? doc.defaultView?.location.href ?? 'https://localhost/';
    const link = await makeShareLink(current.lab.source, current.origin, href);
    return link.ok ? link.value : link.error;
  }

  function show(loaded: LoadedLab): void {
    generation += 1;
    clearAutoChecks();
    const { lab, origin } = loaded;
    const rendered = renderLab(lab, { document: doc, onRun: run });
    const views = rendered.steps.map((step, index): StepView =>
      buildStepView(doc, step.header, lab.steps[index]?.verify ?? null, () => {
        current?.consent.ask();
        void checkStep(index);
      }),
    );
    const myGeneration = generation;
    const consent = mountChecksConsent(doc, {
      checks: labChecks(lab),
      stepName: (index) => rendered.steps[index]?.header.querySelector('h2')?.textContent ?? `Step ${index + 1}`,
      accepted: acceptedChecks,
      onChange: (state) => {
        if (myGeneration === generation) consentChanged(state);
      },
    });
    current = { lab, origin, views, consent };

    const header = el('header', 'lab-panel-header', undefined, doc);
    header.append(el('h1', '', lab.title, doc));
    if (lab.description) header.append(el('p', 'lab-description', lab.description, doc));
    progress = el('p', 'lab-progress', undefined, doc);
    header.append(progress, buildShareBar());
    root.replaceChildren(header);
    if (consent.element) root.append(consent.element);
    if (hasSetup(lab)) root.append(buildSetupSection(lab));
    root.append(rendered.root);
    updateProgress();
    emit({ type: 'lab-shown', title: lab.title, stepCount: lab.steps.length });
  }

  /** Steps say why they are not checked while checks are not accepted. */
  function consentChanged(state: ChecksConsentState): void {
    if (!current || state === 'looking-up' || state === 'not-needed') return;
    for (const view of current.views) {
      if (view.verify === null || view.status === 'checking') continue;
      if (state !== 'accepted' && view.status !== 'done') paintStepView(view, view.status, CHECK_NOT_RUN_MESSAGE);
      if (state === 'accepted' && view.message.textContent === CHECK_NOT_RUN_MESSAGE) paintStepView(view, view.status, '');
    }
    // Accepting allows checks; it runs none by itself (the machine may still be booting): the next command
    // that finishes, a Run or a Check click does.
    emit({ type: 'checks-consent', state });
  }

  function buildShareBar(): HTMLElement {
    return buildShareBarElement(doc, {
      link: shareLink,
      copy: deps.copyText ?? ((text: string) => navigator.clipboard.writeText(text)),
      onLink: (link) => emit({ type: 'share-link', link }),
    });
  }

  function buildSetupSection(lab: Lab): HTMLElement {
    const myGeneration = generation;
    return buildSetupSectionElement(doc, lab, {
      run: deps.runSetup ?? deps.verifyStep,
      timeoutMs: deps.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
      isCurrent: () => myGeneration === generation,
      onFinished: (ok, output) => emit({ type: 'setup-finished', ok, output }),
    });
  }

  function showError(error: LabLinkError, problems?: LabProblem[]): void {
    generation += 1;
    clearAutoChecks();
    current = null;
    const box = el('div', 'lab-error', undefined, doc);
    box.setAttribute('role', 'alert');
    box.append(el('p', '', error.message, doc));
    const detail = problems && problems.length > 0 ? problems.map(formatLabProblem).join('\n') : error.detail;
    if (detail) box.append(el('pre', 'lab-error-detail', detail, doc));
    root.replaceChildren(box);
  }

  function load(result: LoadLabResult): void {
    switch (result.kind) {
      case 'none':
        root.replaceChildren();
        return;
      case 'loaded':
        show(result.loaded);
        return;
      case 'error':
        showError(result.error, result.problems);
        return;
      default: {
        const unreachable: never = result;
        throw new Error(`lab-panel: unknown load result ${JSON.stringify(unreachable)}`);
      }
    }
  }

  return {
    load,
    show,
    showError,
    checkStep,
    recheck,
    checkAll,
    checksAllowed: () => current?.consent.allowed() ?? Promise.resolve(false),
    statuses: () => current?.views.map((view) => view.status) ?? [],
    shareLink,
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      generation += 1;
      clearAutoChecks();
      listeners.clear();
      root.remove();
    },
  };
}
