import { describe, expect, it } from 'vitest';
import { BOOT_STAGES } from '../worker/shared/contract.ts';
import {
  STAGES_IN_ORDER,
  initialProgress,
  overallFraction,
  progressFigures,
  stageStatus,
  withDownload,
  withStage,
} from './boot-progress.ts';

describe('boot progress', () => {
  it('lists the stages in the contract order', () => {
    expect(STAGES_IN_ORDER).toEqual(BOOT_STAGES);
  });

  it('fills the download share of the bar by bytes', () => {
    const half = withDownload(initialProgress(), 50, 100);
    expect(overallFraction(half)).toBeCloseTo(0.125);
    expect(progressFigures(half)).toBe('50 B of 100 B');
    expect(overallFraction(withDownload(initialProgress(), 50, 0))).toBe(0);
  });

  it('steps forward per stage and reaches 1 when ready', () => {
    let progress = withDownload(initialProgress(), 100, 100);
    progress = withStage(progress, 'booting-kernel', 2000);
    const kernel = overallFraction(progress);
    expect(kernel).toBeGreaterThan(0.25);
    progress = withStage(progress, 'starting-docker', 30_000);
    expect(overallFraction(progress)).toBeGreaterThan(kernel);
    progress = withStage(progress, 'ready', 61_234);
    expect(overallFraction(progress)).toBe(1);
    expect(progressFigures(progress)).toBe('100 B downloaded · booted in 61.2 s');
    expect(stageStatus(progress, 'ready')).toBe('done');
    expect(stageStatus(progress, 'downloading')).toBe('done');
  });

  it('never moves backwards on a late event', () => {
    let progress = withStage(initialProgress(), 'starting-docker', 30_000);
    progress = withStage(progress, 'booting-kernel', 2000);
    expect(progress.stage).toBe('starting-docker');
    expect(stageStatus(progress, 'starting-docker')).toBe('active');
    expect(stageStatus(progress, 'ready')).toBe('pending');
  });

  it('jumps from downloading to ready on a snapshot restore', () => {
    const progress = withStage(withDownload(initialProgress(), 10, 10), 'ready', 5000);
    expect(overallFraction(progress)).toBe(1);
    expect(stageStatus(progress, 'starting-docker')).toBe('done');
  });
});
