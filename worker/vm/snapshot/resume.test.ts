// The restore check: a resumed guest that answers passes; one that never answers, dies on the serial console,
// or whose exec fails is reported as RestoreFailed within the bound, and the notice names what happens next.
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../shared/contract.ts';
import type { Timers } from '../console-pump.ts';
import { checkResumedGuest, loadState, RestoreFailed, restoreFailedNotice, startWithFallback, type RestorePlan } from './resume.ts';
import { welcomeOutput } from './restore.ts';
import type { StartPlan } from './start-plan.ts';
import type { StateHeader } from './state-file.ts';

const plan: RestorePlan = { kind: 'restore', from: 'session', header: {} as StateHeader, state: new ArrayBuffer(0) };
const never = new Promise<never>(() => undefined);

/** Timers that fire only when told to, so no test waits on the clock. */
function manualTimers(): Timers & { fireAll(): void; pending(): number } {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (callback) => {
      callbacks.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => void callbacks.delete(handle as number),
    fireAll: () => {
      for (const [id, callback] of [...callbacks]) {
        callbacks.delete(id);
        callback();
      }
    },
    pending: () => callbacks.size,
  };
}

describe('checkResumedGuest', () => {
  it('passes when the agent answers, with any exit code, and sends the DHCP renewal', async () => {
    const timers = manualTimers();
    const commands: string[] = [];
    const exec = (command: string): Promise<ExecResult> => {
      commands.push(command);
      return Promise.resolve({ output: '', exitCode: 1 });
    };
    await checkResumedGuest({ plan, exec, guestFailure: never, timers });
    expect(commands).toEqual([expect.stringContaining('udhcpc -i eth0')]);
    expect(timers.pending()).toBe(0);
  });

  it('has the guest print the welcome text only for a boot snapshot whose header lacks it', async () => {
    const commandFor = async (from: RestorePlan['from'], welcome: string | undefined): Promise<string> => {
      const commands: string[] = [];
      const header = { kind: from, ...(welcome === undefined ? {} : { welcome }) } as StateHeader;
      const exec = (command: string): Promise<ExecResult> => {
        commands.push(command);
        return Promise.resolve({ output: '', exitCode: 0 });
      };
      await checkResumedGuest({ plan: { ...plan, from, header }, exec, guestFailure: never, timers: manualTimers() });
      return commands[0] ?? '';
    };
    expect(await commandFor('boot-snapshot', undefined)).toContain('cat /run/motd >/dev/hvc0');
    expect(await commandFor('boot-snapshot', 'Welcome\n')).not.toContain('motd');
    expect(await commandFor('session', undefined)).not.toContain('motd');
  });

  it('gives up with RestoreFailed when the guest never answers', async () => {
    const timers = manualTimers();
    const check = checkResumedGuest({ plan, exec: () => never, guestFailure: never, timers, timeoutMs: 45_000 });
    timers.fireAll();
    await expect(check).rejects.toThrow(RestoreFailed);
    await expect(check).rejects.toThrow(/did not answer within 45 s/);
  });

  it('turns a serial-console failure and a failed exec into RestoreFailed', async () => {
    const dead = checkResumedGuest({
      plan,
      exec: () => never,
      guestFailure: Promise.reject(new RestoreFailed('The guest reported a failure: kernel-panic.', 'Kernel panic - not syncing')),
      timers: manualTimers(),
    });
    await expect(dead).rejects.toMatchObject({ name: 'RestoreFailed', message: expect.stringMatching(/kernel-panic/) });
    const broken = checkResumedGuest({ plan, exec: () => Promise.reject(new Error('agent gone')), guestFailure: never, timers: manualTimers() });
    await expect(broken).rejects.toMatchObject({ name: 'RestoreFailed', detail: expect.stringMatching(/agent gone/) });
  });
});

describe('loadState', () => {
  it('reports a state v86 refuses as RestoreFailed and does not start the CPU', async () => {
    let started = false;
    const emulator = {
      restore_state: () => Promise.reject(new Error('Invalid header: 12345678')),
      run: () => {
        started = true;
        return Promise.resolve();
      },
    };
    await expect(loadState(emulator as never, new ArrayBuffer(8))).rejects.toMatchObject({ name: 'RestoreFailed', detail: 'Error: Invalid header: 12345678' });
    expect(started).toBe(false);
  });
});

describe('welcomeOutput', () => {
  it("gives a boot snapshot's welcome text as terminal lines, and nothing for a session", () => {
    const header = { kind: 'boot-snapshot', welcome: '\n  tabdock: ready\n' } as StateHeader;
    expect(new TextDecoder().decode(welcomeOutput(header))).toBe('\r\n  tabdock: ready\r\n');
    expect(welcomeOutput({ ...header, kind: 'session' })).toBeUndefined();
    expect(welcomeOutput({ kind: 'boot-snapshot' } as StateHeader)).toBeUndefined();
  });
});

describe('restoreFailedNotice', () => {
  it('says a session falls back to a clean VM and keeps the file, a snapshot to a cold boot', () => {
    const failure = new RestoreFailed('The resumed VM did not answer within 45 s.', 'no reply');
    expect(restoreFailedNotice('session', failure)).toMatchObject({ code: 'session-unusable', message: expect.stringMatching(/clean VM.*kept/) });
    expect(restoreFailedNotice('boot-snapshot', failure)).toMatchObject({ code: 'snapshot-unusable', message: expect.stringMatching(/from scratch/) });
  });
});

describe('startWithFallback', () => {
  const snapshotPlan: RestorePlan = { ...plan, from: 'boot-snapshot' };

  async function run(first: StartPlan, failing: ReadonlySet<string>) {
    const attempts: string[] = [];
    const stepDowns: string[] = [];
    const started = await startWithFallback(
      first,
      (next) => {
        const name = next.kind === 'restore' ? next.from : next.kind;
        attempts.push(name);
        return failing.has(name) ? Promise.reject(new RestoreFailed(`${name} failed.`, 'detail')) : Promise.resolve();
      },
      (failed, failure) => {
        stepDowns.push(`${failed.from}: ${failure.message}`);
        return Promise.resolve(failed.from === 'session' ? snapshotPlan : { kind: 'cold-boot' });
      },
    );
    return { started, attempts, stepDowns };
  }

  it('steps down session > boot snapshot > cold boot, asking for the next plan after each failed restore', async () => {
    const { started, attempts, stepDowns } = await run(plan, new Set(['session', 'boot-snapshot']));
    expect(attempts).toEqual(['session', 'boot-snapshot', 'cold-boot']);
    expect(started).toEqual({ kind: 'cold-boot' });
    expect(stepDowns).toEqual(['session: session failed.', 'boot-snapshot: boot-snapshot failed.']);
  });

  it('starts once when the first source works', async () => {
    const { attempts, stepDowns } = await run(plan, new Set());
    expect(attempts).toEqual(['session']);
    expect(stepDowns).toEqual([]);
  });

  it('leaves other failures, and a failed cold boot, to the caller', async () => {
    const never = () => Promise.reject(new Error('no step down expected'));
    await expect(startWithFallback({ kind: 'cold-boot' }, () => Promise.reject(new RestoreFailed('x', 'y')), never)).rejects.toThrow(RestoreFailed);
    await expect(startWithFallback(plan, () => Promise.reject(new Error('boot timeout')), never)).rejects.toThrow('boot timeout');
  });
});
