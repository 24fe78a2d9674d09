// When a boot got where: each stage on the host clock (ms since boot()) and the guest's (uptime from its marker),
// each step of the current start attempt, and the guest's own timing notes. VmHost owns one; BootResult, the
// page's progress and the bench read it.
import type { BootResult, BootStage, StartStep } from '../shared/contract.ts';

/** An informational guest timing point (`tabdock-note:`), e.g. modules-loaded or docker-api. */
export interface GuestNote {
  what: string;
  atMs: number;
  guestUptimeS: number;
}

/** Per-stage timing, host clock (ms since boot()) and guest clock (uptime seconds from the marker). */
export interface StageTiming {
  stage: BootStage;
  atMs: number;
  guestUptimeS?: number;
}

export interface BootTimelineDeps {
  /** A stage was reached for the first time, `atMs` after boot(). */
  stage(stage: BootStage, atMs: number): void;
  now?: () => number;
}

export class BootTimeline {
  private startedAtMs = 0;
  private readonly stageTimings: StageTiming[] = [];
  private stepTimings: Partial<Record<StartStep, number>> = {};
  private readonly guestNotes: GuestNote[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: BootTimelineDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  /** boot() was called: every time from now on counts from here. */
  start(): void {
    this.startedAtMs = this.now();
  }

  /** Each stage counts once: a restore after a failed one does not move the page's progress back. */
  reach(stage: BootStage, guestUptimeS?: number): void {
    if (this.stageTimings.some((timing) => timing.stage === stage)) return;
    const atMs = this.sinceStartMs();
    this.stageTimings.push(guestUptimeS === undefined ? { stage, atMs } : { stage, atMs, guestUptimeS });
    this.deps.stage(stage, atMs);
  }

  step(step: StartStep): void {
    this.stepTimings[step] = this.sinceStartMs();
  }

  /** A failed attempt's steps go: BootResult.steps are those of the attempt that started the VM. */
  forgetSteps(): void {
    this.stepTimings = {};
  }

  note(what: string, guestUptimeS: number): void {
    this.guestNotes.push({ what, guestUptimeS, atMs: this.sinceStartMs() });
  }

  get stages(): readonly StageTiming[] {
    return this.stageTimings;
  }

  get notes(): readonly GuestNote[] {
    return this.guestNotes;
  }

  /** The last stage reached (for the boot-timeout message); 'downloading' before any. */
  get lastStage(): BootStage {
    return this.stageTimings.at(-1)?.stage ?? 'downloading';
  }

  result(): Pick<BootResult, 'timeline' | 'steps'> {
    return { timeline: Object.fromEntries(this.stageTimings.map((timing) => [timing.stage, timing.atMs])), steps: { ...this.stepTimings } };
  }

  private sinceStartMs(): number {
    return Math.round(this.now() - this.startedAtMs);
  }
}
