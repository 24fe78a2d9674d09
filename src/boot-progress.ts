// What the boot progress shows, computed from `download` and `stage` events alone (no DOM), so it can be
// unit-tested: the current stage, a sentence for it, the figures, and an overall fraction for the bar.
import type { BootStage } from '../worker/shared/contract.ts';
import { formatBytes, formatSeconds } from './format.ts';

/**
 * The order a cold boot passes the stages. The page imports only types from the contract, so the order is
 * restated here; a Record over BootStage makes the compiler reject a stage added there but missing here.
 */
const STAGE_INDEX: Record<BootStage, number> = {
  downloading: 0,
  'booting-kernel': 1,
  'starting-init': 2,
  'starting-containerd': 3,
  'starting-docker': 4,
  ready: 5,
};

export const STAGES_IN_ORDER: readonly BootStage[] = (Object.keys(STAGE_INDEX) as BootStage[]).sort(
  (a, b) => STAGE_INDEX[a] - STAGE_INDEX[b],
);

export interface BootProgress {
  stage: BootStage;
  /** When each stage was reached, in ms since boot() was called. */
  reachedAtMs: Partial<Record<BootStage, number>>;
  loadedBytes: number;
  totalBytes: number;
}

export function initialProgress(): BootProgress {
  return { stage: 'downloading', reachedAtMs: {}, loadedBytes: 0, totalBytes: 0 };
}

const STAGE_LABELS: Record<BootStage, string> = {
  downloading: 'Downloading the VM',
  'booting-kernel': 'Booting the Linux kernel',
  'starting-init': 'Starting the guest system',
  'starting-containerd': 'Starting containerd',
  'starting-docker': 'Starting Docker',
  ready: 'Ready',
};

export function stageLabel(stage: BootStage): string {
  return STAGE_LABELS[stage];
}

/**
 * Downloading fills the first quarter of the bar by bytes; every later stage reached adds an equal step.
 * Only reached stages move the bar: it never claims progress that has not happened.
 */
const DOWNLOAD_SHARE = 0.25;

export function overallFraction(progress: BootProgress): number {
  if (progress.stage === 'ready') return 1;
  const index = STAGE_INDEX[progress.stage];
  if (index <= 0) {
    const bytesFraction = progress.totalBytes > 0 ? Math.min(1, progress.loadedBytes / progress.totalBytes) : 0;
    return DOWNLOAD_SHARE * bytesFraction;
  }
  const laterStages = STAGES_IN_ORDER.length - 1;
  return DOWNLOAD_SHARE + ((1 - DOWNLOAD_SHARE) * index) / laterStages;
}

/** The figures beside the label: bytes while downloading, seconds since boot afterwards. */
export function progressFigures(progress: BootProgress): string {
  const bytes =
    progress.totalBytes > 0
      ? `${formatBytes(progress.loadedBytes)} of ${formatBytes(progress.totalBytes)}`
      : formatBytes(progress.loadedBytes);
  if (progress.stage === 'downloading') return bytes;
  const atMs = progress.reachedAtMs[progress.stage];
  const downloaded = progress.loadedBytes > 0 ? `${formatBytes(progress.loadedBytes)} downloaded` : '';
  const elapsed = atMs === undefined ? '' : progress.stage === 'ready' ? `booted in ${formatSeconds(atMs)}` : `at ${formatSeconds(atMs)}`;
  return [downloaded, elapsed].filter(Boolean).join(' · ');
}

export function withDownload(progress: BootProgress, loadedBytes: number, totalBytes: number): BootProgress {
  return { ...progress, loadedBytes, totalBytes };
}

/** Stages only move forward: a late or repeated event must not send the bar backwards. */
export function withStage(progress: BootProgress, stage: BootStage, atMs: number): BootProgress {
  const reachedAtMs = { ...progress.reachedAtMs, [stage]: atMs };
  const forward = STAGE_INDEX[stage] >= STAGE_INDEX[progress.stage];
  return { ...progress, reachedAtMs, stage: forward ? stage : progress.stage };
}

export type StageStatus = 'done' | 'active' | 'pending';

export function stageStatus(progress: BootProgress, stage: BootStage): StageStatus {
  const current = STAGE_INDEX[progress.stage];
  const index = STAGE_INDEX[stage];
  if (index < current || (stage === 'ready' && progress.stage === 'ready')) return 'done';
  return index === current ? 'active' : 'pending';
}
