// The wait for 'ready' and the boot deadline with fake timers: one deadline over the attempts of a boot, settled
// by ready or a failure, re-armed only after the VM had been ready.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VmFailure } from '../shared/contract.ts';
import { BootDeadline } from './boot-deadline.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const failure = new VmFailure({ code: 'boot-timeout', message: 'too slow' });

describe('BootDeadline', () => {
  it('settles an attempt with ready and stops the deadline', async () => {
    const expired: number[] = [];
    const deadline = new BootDeadline((ms) => expired.push(ms));
    const wait = deadline.attempt(1_000);
    deadline.ready();
    await expect(wait).resolves.toBeUndefined();
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual([]);
  });

  it('keeps one deadline over the attempts of a boot; a dropped attempt waits no more', async () => {
    const expired: number[] = [];
    const deadline = new BootDeadline((ms) => expired.push(ms));
    const first = deadline.attempt(1_000);
    vi.advanceTimersByTime(600);
    deadline.forgetAttempt();
    const second = deadline.attempt(1_000);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual([1_000]);
    deadline.fail(failure);
    await expect(second).rejects.toBe(failure);
    // The first attempt's wait was dropped: it never settles, and nothing rejects it.
    expect(await Promise.race([first.then(() => 'settled'), Promise.resolve('pending')])).toBe('pending');
  });

  it('arms a new deadline for an attempt after the VM had been ready', () => {
    const expired: number[] = [];
    const deadline = new BootDeadline((ms) => expired.push(ms));
    void deadline.attempt(1_000);
    deadline.ready();
    vi.advanceTimersByTime(2_000);
    void deadline.attempt(3_000).catch(() => undefined);
    vi.advanceTimersByTime(2_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([3_000]);
  });

  it('rejects the waiting attempt when the VM stops, and stops the deadline', async () => {
    const expired: number[] = [];
    const deadline = new BootDeadline((ms) => expired.push(ms));
    const wait = deadline.attempt(1_000);
    const stopped = new VmFailure({ code: 'not-running', message: 'shut down' });
    deadline.stop();
    deadline.fail(stopped);
    await expect(wait).rejects.toBe(stopped);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual([]);
  });
});
