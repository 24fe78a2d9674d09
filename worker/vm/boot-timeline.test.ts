// The boot timeline with a hand-driven clock: stages once each and in order, steps per attempt, guest notes.
import { describe, expect, it } from 'vitest';
import type { BootStage } from '../shared/contract.ts';
import { BootTimeline } from './boot-timeline.ts';

function timeline(): { timeline: BootTimeline; reported: Array<[BootStage, number]>; advance(ms: number): void } {
  let nowMs = 1_000;
  const reported: Array<[BootStage, number]> = [];
  const made = new BootTimeline({ stage: (stage, atMs) => reported.push([stage, atMs]), now: () => nowMs });
  made.start();
  return { timeline: made, reported, advance: (ms) => void (nowMs += ms) };
}

describe('BootTimeline', () => {
  it('counts stages from start(), reports each once, and keeps the guest uptime', () => {
    const { timeline: t, reported, advance } = timeline();
    t.reach('downloading');
    advance(1_500.4);
    t.reach('booting-kernel');
    advance(2_000);
    t.reach('ready', 12.5);
    advance(100);
    t.reach('ready', 99);
    expect(reported).toEqual([
      ['downloading', 0],
      ['booting-kernel', 1_500],
      ['ready', 3_500],
    ]);
    expect(t.stages).toEqual([
      { stage: 'downloading', atMs: 0 },
      { stage: 'booting-kernel', atMs: 1_500 },
      { stage: 'ready', atMs: 3_500, guestUptimeS: 12.5 },
    ]);
    expect(t.lastStage).toBe('ready');
    expect(t.result().timeline).toEqual({ downloading: 0, 'booting-kernel': 1_500, ready: 3_500 });
  });

  it("keeps only the last attempt's steps", () => {
    const { timeline: t, advance } = timeline();
    advance(10);
    t.step('state-read');
    advance(10);
    t.step('emulator-loaded');
    t.forgetSteps();
    advance(30);
    t.step('emulator-loaded');
    expect(t.result().steps).toEqual({ 'emulator-loaded': 50 });
  });

  it('says downloading before any stage, and records guest notes on the host clock', () => {
    const { timeline: t, advance } = timeline();
    expect(t.lastStage).toBe('downloading');
    advance(700);
    t.note('docker-api', 31.2);
    expect(t.notes).toEqual([{ what: 'docker-api', guestUptimeS: 31.2, atMs: 700 }]);
  });
});
