// The boot progress panel above the terminal: stage label, real figures, a bar, and the stage checklist.
// It hides itself a few seconds after 'ready' and stays hidden until the next boot.
import type { BootStage } from '../worker/shared/contract.ts';
import {
  STAGES_IN_ORDER,
  initialProgress,
  overallFraction,
  progressFigures,
  stageLabel,
  stageStatus,
  withDownload,
  withStage,
  type BootProgress,
} from './boot-progress.ts';
import { el } from './dom.ts';

/** Long enough to read "Ready · booted in 58 s", short enough not to waste terminal rows. */
const HIDE_AFTER_READY_MS = 4000;

export class ProgressView {
  private progress: BootProgress = initialProgress();
  private readonly label: HTMLElement;
  private readonly figures: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly stageItems = new Map<BootStage, HTMLElement>();
  private hideTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly root: HTMLElement) {
    root.replaceChildren();
    const head = el('div', 'progress-head');
    this.label = el('span', 'progress-label');
    this.figures = el('span', 'progress-figures');
    head.append(this.label, this.figures);
    this.bar = el('div', 'progress-track');
    this.bar.setAttribute('role', 'progressbar');
    this.bar.setAttribute('aria-label', 'Boot progress');
    this.bar.setAttribute('aria-valuemin', '0');
    this.bar.setAttribute('aria-valuemax', '100');
    this.fill = el('div', 'progress-fill');
    this.bar.append(this.fill);
    const list = el('ol', 'progress-stages');
    list.setAttribute('aria-label', 'Boot stages');
    for (const stage of STAGES_IN_ORDER) {
      const item = el('li');
      item.textContent = stageLabel(stage);
      item.dataset['stage'] = stage;
      this.stageItems.set(stage, item);
      list.append(item);
    }
    root.append(head, this.bar, list);
    this.render();
  }

  /** A new boot (first or restart): back to zero and visible. */
  restart(): void {
    clearTimeout(this.hideTimer);
    this.progress = initialProgress();
    this.root.hidden = false;
    this.render();
  }

  download(loadedBytes: number, totalBytes: number): void {
    this.progress = withDownload(this.progress, loadedBytes, totalBytes);
    this.render();
  }

  stage(stage: BootStage, atMs: number): void {
    this.progress = withStage(this.progress, stage, atMs);
    this.render();
    if (this.progress.stage === 'ready') {
      clearTimeout(this.hideTimer);
      this.hideTimer = setTimeout(() => (this.root.hidden = true), HIDE_AFTER_READY_MS);
    }
  }

  /** A failed boot keeps the panel where it stopped, so the user sees how far it got. */
  fail(): void {
    clearTimeout(this.hideTimer);
    this.root.dataset['failed'] = 'true';
    this.label.textContent = `${stageLabel(this.progress.stage)}: failed`;
  }

  private render(): void {
    const percent = Math.round(overallFraction(this.progress) * 100);
    const label = stageLabel(this.progress.stage);
    const figures = progressFigures(this.progress);
    delete this.root.dataset['failed'];
    this.root.dataset['stage'] = this.progress.stage;
    this.label.textContent = label;
    this.figures.textContent = figures;
    this.fill.style.width = `${percent}%`;
    this.bar.setAttribute('aria-valuenow', String(percent));
    this.bar.setAttribute('aria-valuetext', figures ? `${label}: ${figures}` : label);
    for (const [stage, item] of this.stageItems) item.dataset['status'] = stageStatus(this.progress, stage);
  }
}
