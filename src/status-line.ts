// The status line at the right of the header: VM state, guest memory, and whether this boot was restored
// from a snapshot or cold, plus how long the boot took once it is known.
import type { StartedFrom, StartStep, VmState } from '../worker/shared/contract.ts';
import { formatMemory, formatSeconds } from './format.ts';
import { el } from './dom.ts';

export interface StatusFacts {
  state: VmState;
  memoryBytes: number;
  restoredFromSnapshot: boolean;
}

const STATE_LABELS: Record<VmState, string> = {
  idle: 'Idle',
  booting: 'Booting',
  running: 'Running',
  stopped: 'Stopped',
  failed: 'Failed',
};

const START_LABELS: Record<StartedFrom, string> = {
  'cold-boot': 'cold boot',
  'boot-snapshot': 'restored from snapshot',
  session: 'resumed session',
};

const STEP_LABELS: Record<StartStep, string> = {
  'state-read': 'state read',
  'emulator-loaded': 'emulator up',
  'state-loaded': 'state loaded',
  'clock-set': 'clock set',
  'guest-answered': 'guest answered',
};

/** "state read 0.9 s · emulator up 1.0 s · …": each step's end, counted from the start, in order. */
export function describeSteps(steps: Partial<Record<StartStep, number>>): string {
  return (Object.entries(steps) as [StartStep, number][])
    .sort(([, a], [, b]) => a - b)
    .map(([step, atMs]) => `${STEP_LABELS[step]} ${formatSeconds(atMs)}`)
    .join(' · ');
}

export class StatusLine {
  private facts: StatusFacts = { state: 'idle', memoryBytes: 0, restoredFromSnapshot: false };
  private bootMs: number | undefined;
  private startedFrom: StartedFrom | undefined;
  private stepsText = '';

  constructor(private readonly root: HTMLElement) {
    this.render();
  }

  update(facts: StatusFacts): void {
    this.facts = facts;
    this.render();
  }

  /** Marks the state without new figures, e.g. 'failed' after a crash the host could not report. */
  setState(state: VmState): void {
    this.facts = { ...this.facts, state };
    this.render();
  }

  /** Once boot() resolved: where the VM started from, how long it took to be ready, and where that time went. */
  booted(startedFrom: StartedFrom, readyMs: number | undefined, steps: Partial<Record<StartStep, number>> = {}): void {
    this.startedFrom = startedFrom;
    this.bootMs = readyMs;
    this.stepsText = describeSteps(steps);
    this.render();
  }

  reset(): void {
    this.facts = { state: 'booting', memoryBytes: 0, restoredFromSnapshot: false };
    this.bootMs = undefined;
    this.startedFrom = undefined;
    this.stepsText = '';
    this.render();
  }

  private render(): void {
    const { state, memoryBytes, restoredFromSnapshot } = this.facts;
    const dot = el('span', 'status-dot');
    dot.setAttribute('aria-hidden', 'true');
    const label = el('span', 'status-state', STATE_LABELS[state]);
    const parts: string[] = [];
    if (memoryBytes > 0) parts.push(`${formatMemory(memoryBytes)} RAM`);
    if (state === 'running') parts.push(START_LABELS[this.startedFrom ?? (restoredFromSnapshot ? 'boot-snapshot' : 'cold-boot')]);
    if (this.bootMs !== undefined) parts.push(`ready in ${formatSeconds(this.bootMs)}`);
    const details = el('span', 'status-details', parts.length > 0 ? `· ${parts.join(' · ')}` : '');
    this.root.dataset['state'] = state;
    if (this.stepsText === '') this.root.removeAttribute('title');
    else this.root.title = this.stepsText;
    this.root.replaceChildren(dot, label, details);
  }
}
