// The preview's wait for a port (issue #27, item 2): probes with backoff until the port answers, reports the
// elapsed time while it waits, gives up at the limit with the last reason, and stops for errors waiting cannot fix.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, classifyProbeError, PortWaiter, type PortWaitState, type ProbeResult } from './port-wait.ts';

const REFUSED: ProbeResult = { kind: 'not-yet', code: 'not-listening', message: 'Nothing in the VM is listening on port 8080.' };

function start(answers: (attempt: number, atMs: number) => ProbeResult, limitMs = 60_000) {
  const states: PortWaitState[] = [];
  const probedAtMs: number[] = [];
  const waiter = new PortWaiter({
    port: 8080,
    limitMs,
    probe: async () => {
      probedAtMs.push(Date.now());
      return answers(probedAtMs.length, Date.now());
    },
    onChange: (state) => states.push(state),
  });
  return { waiter, states, probedAtMs };
}

describe('PortWaiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers at once without ever showing "waiting" when the port already answers', async () => {
    const { waiter, states } = start(() => ({ kind: 'answered' }));
    await expect(waiter.settled).resolves.toEqual({ kind: 'answered', port: 8080, elapsedMs: 0 });
    expect(states.map((state) => state.kind)).toEqual(['probing', 'answered']);
  });

  it('waits with backoff while the port refuses, ticks the elapsed seconds, and answers when it listens', async () => {
    const { waiter, states, probedAtMs } = start((_attempt, atMs) => (atMs >= 8_000 ? { kind: 'answered' } : REFUSED));
    await vi.advanceTimersByTimeAsync(10_000);
    const final = await waiter.settled;
    expect(final?.kind).toBe('answered');
    // 250 ms doubling, capped at 2 s: 0, 0.25, 0.75, 1.75, 3.75, 5.75, 7.75, 9.75 s.
    expect(probedAtMs).toEqual([0, 250, 750, 1_750, 3_750, 5_750, 7_750, 9_750]);
    const waiting = states.filter((state) => state.kind === 'waiting');
    expect(waiting.length).toBeGreaterThan(probedAtMs.length);
    expect(waiting.map((state) => Math.floor(state.elapsedMs / 1000))).toContain(5);
    expect(waiting.every((state) => state.kind === 'waiting' && state.last.code === 'not-listening')).toBe(true);
    expect(states.at(-1)).toEqual({ kind: 'answered', port: 8080, elapsedMs: 9_750 });
  });

  it('gives up at the limit with the last reason, probing once more at the limit itself', async () => {
    const { waiter, probedAtMs } = start(() => REFUSED, 5_000);
    await vi.advanceTimersByTimeAsync(6_000);
    const final = await waiter.settled;
    expect(final).toMatchObject({ kind: 'gave-up', port: 8080, elapsedMs: 5_000, last: REFUSED });
    expect(probedAtMs.at(-1)).toBe(5_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probedAtMs.at(-1)).toBe(5_000);
  });

  it('stops at once for a failure waiting cannot fix', async () => {
    const stopped: ProbeResult = { kind: 'failed', code: 'vm-not-running', message: 'The VM is not running.' };
    const { waiter, probedAtMs } = start(() => stopped);
    await expect(waiter.settled).resolves.toEqual({ kind: 'failed', port: 8080, last: stopped });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probedAtMs).toEqual([0]);
  });

  it('reports nothing more after dispose', async () => {
    const { waiter, states, probedAtMs } = start(() => REFUSED);
    await vi.advanceTimersByTimeAsync(1_000);
    waiter.dispose();
    const count = states.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(states.length).toBe(count);
    expect(probedAtMs.length).toBe(3);
    await expect(waiter.settled).resolves.toBeUndefined();
  });
});

describe('probe errors', () => {
  it('waits for a refused, silent or closed-without-HTTP port, not for a stopped VM or a refused port', () => {
    expect(classifyProbeError('not-listening', 'x').kind).toBe('not-yet');
    expect(classifyProbeError('bad-response', 'x').kind).toBe('not-yet');
    expect(classifyProbeError('timeout', 'x').kind).toBe('not-yet');
    expect(classifyProbeError('vm-not-running', 'x').kind).toBe('failed');
    expect(classifyProbeError('not-allowed', 'x').kind).toBe('failed');
  });

  it('backs off from 250 ms to at most 2 s', () => {
    expect([1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
  });
});
