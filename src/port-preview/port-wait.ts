// Waiting for a published port to answer before the preview panel loads it (issue #27, item 2): the port bar
// offers a port as soon as docker-proxy listens on it, often seconds before the server in the container does.
// Probes the port with backoff, reports a state per change and per elapsed second, and gives up after a limit.
import type { GuestHttpMessage } from '../../worker/shared/contract.ts';

/** One probe's answer. 'not-yet': the port may still come up (refused, silent, closed without HTTP). */
export type ProbeResult =
  | { kind: 'answered' }
  | { kind: 'not-yet'; code: ProbeErrorCode; message: string }
  | { kind: 'failed'; code: ProbeErrorCode; message: string };

export type ProbeErrorCode = Extract<GuestHttpMessage, { type: 'error' }>['code'] | 'probe-timeout';

export type PortWaitState =
  /** The first probe is out; nothing is shown yet, so a port that answers at once never flashes "waiting". */
  | { kind: 'probing'; port: number }
  | { kind: 'waiting'; port: number; elapsedMs: number; attempts: number; last: Extract<ProbeResult, { kind: 'not-yet' }> }
  | { kind: 'answered'; port: number; elapsedMs: number }
  /** The limit passed with the port still silent: the panel says what to check and offers Retry. */
  | { kind: 'gave-up'; port: number; elapsedMs: number; attempts: number; last: Extract<ProbeResult, { kind: 'not-yet' }> }
  /** Waiting cannot help (the VM stopped, the port is not one a preview may open). */
  | { kind: 'failed'; port: number; last: Extract<ProbeResult, { kind: 'failed' }> };

export interface PortWaitOptions {
  port: number;
  probe(port: number): Promise<ProbeResult>;
  onChange(state: PortWaitState): void;
  /** Give up this long after the first probe; 60 s fits a server that pulls or migrates before it listens. */
  limitMs?: number;
  now?: () => number;
}

export const DEFAULT_WAIT_LIMIT_MS = 60_000;
/** Elapsed time shown in whole seconds; a tick refreshes it between probes. */
const TICK_MS = 1_000;

/** Delay before probe `attempt + 1` (attempt counts from 1): 250 ms doubling, at most 2 s. */
export function backoffMs(attempt: number): number {
  return Math.min(2_000, 250 * 2 ** Math.max(0, attempt - 1));
}

/** Which guest HTTP errors waiting can fix: nothing listens yet, or docker-proxy accepted then closed (no backend). */
export function classifyProbeError(code: ProbeErrorCode, message: string): ProbeResult {
  switch (code) {
    case 'not-listening':
    case 'timeout':
    case 'bad-response':
    case 'probe-timeout':
      return { kind: 'not-yet', code, message };
    case 'vm-not-running':
    case 'bad-request':
    case 'not-allowed':
    case 'no-tab':
      return { kind: 'failed', code, message };
    default: {
      const unknown: never = code;
      throw new Error(`unknown probe error ${String(unknown)}`);
    }
  }
}

export class PortWaiter {
  private readonly startedAtMs: number;
  private readonly limitMs: number;
  private readonly now: () => number;
  private attempts = 0;
  private state: PortWaitState;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private done = false;
  /** Resolves with the final state ('answered', 'gave-up', 'failed'), or undefined once disposed. */
  readonly settled: Promise<PortWaitState | undefined>;
  private settle!: (state: PortWaitState | undefined) => void;

  constructor(private readonly options: PortWaitOptions) {
    this.now = options.now ?? Date.now;
    this.limitMs = options.limitMs ?? DEFAULT_WAIT_LIMIT_MS;
    this.startedAtMs = this.now();
    this.state = { kind: 'probing', port: options.port };
    this.settled = new Promise((resolve) => (this.settle = resolve));
    options.onChange(this.state);
    void this.probe();
  }

  current(): PortWaitState {
    return this.state;
  }

  /** The panel closed or opened another port: no more probes, no more changes. */
  dispose(): void {
    if (this.done) return;
    this.finish(undefined);
  }

  private elapsedMs(): number {
    return this.now() - this.startedAtMs;
  }

  private async probe(): Promise<void> {
    this.probeTimer = undefined;
    this.attempts += 1;
    let result: ProbeResult;
    try {
      result = await this.options.probe(this.options.port);
    } catch (error) {
      result = { kind: 'failed', code: 'bad-request', message: error instanceof Error ? error.message : String(error) };
    }
    if (this.done) return;
    const elapsedMs = this.elapsedMs();
    switch (result.kind) {
      case 'answered':
        this.finish({ kind: 'answered', port: this.options.port, elapsedMs });
        return;
      case 'failed':
        this.finish({ kind: 'failed', port: this.options.port, last: result });
        return;
      case 'not-yet': {
        if (elapsedMs >= this.limitMs) {
          this.finish({ kind: 'gave-up', port: this.options.port, elapsedMs, attempts: this.attempts, last: result });
          return;
        }
        this.set({ kind: 'waiting', port: this.options.port, elapsedMs, attempts: this.attempts, last: result });
        this.tickTimer ??= setInterval(() => this.tick(), TICK_MS);
        // The last probe goes out at the limit, so a server that comes up in the final second still counts.
        const delayMs = Math.min(backoffMs(this.attempts), Math.max(0, this.limitMs - elapsedMs));
        this.probeTimer = setTimeout(() => void this.probe(), delayMs);
        return;
      }
      default: {
        const unknown: never = result;
        throw new Error(`unknown probe result ${JSON.stringify(unknown)}`);
      }
    }
  }

  private tick(): void {
    if (this.done || this.state.kind !== 'waiting') return;
    this.set({ ...this.state, elapsedMs: this.elapsedMs() });
  }

  private set(state: PortWaitState): void {
    this.state = state;
    this.options.onChange(state);
  }

  private finish(state: PortWaitState | undefined): void {
    this.done = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.probeTimer = undefined;
    this.tickTimer = undefined;
    if (state) this.set(state);
    this.settle(state);
  }
}
