// The after-restore sequence against fake consoles: the shell waits for the clock, the terminal is live at once
// with the welcome and a prompt, the check proves the guest answers (or a serial failure ends it), the warm-up
// runs only when wanted and nobody typed, the disk prefetch loads the snapshot's list, and a cancelled restore
// does nothing more.
import { describe, expect, it } from 'vitest';
import type { ExecResult, StartStep } from '../shared/contract.ts';
import { AfterRestore, type PrefetchTarget } from './after-restore.ts';
import { RestoreFailed, type RestorePlan } from './snapshot/resume.ts';
import type { StateHeader } from './snapshot/state-file.ts';

const plan: RestorePlan = { kind: 'restore', from: 'boot-snapshot', header: { kind: 'boot-snapshot', welcome: 'hi' } as StateHeader, state: new ArrayBuffer(0) };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function sequence(settings = { warmUp: true, diskPrefetch: true }) {
  const log: string[] = [];
  const steps: StartStep[] = [];
  const clock = deferred<number>();
  const check = deferred<ExecResult>();
  const warmUpDelay = deferred<void>();
  const warmUp = deferred<ExecResult>();
  const state = { running: true };
  const after = new AfterRestore({
    consoles: {
      agent: {
        setClock: () => {
          log.push('clock');
          return clock.promise;
        },
        exec: (command) => {
          log.push(`agent: ${command.slice(0, 5)}`);
          return check.promise;
        },
      },
      agentWasReady: () => log.push('banner'),
      holdShellInput: () => log.push('hold'),
      releaseShellInput: () => log.push('release'),
      showInTerminal: (bytes) => log.push(`terminal: ${new TextDecoder().decode(bytes)}`),
      typeIntoShell: (data) => log.push(`shell: ${JSON.stringify(data)}`),
    },
    ready: (restored) => log.push(`ready from ${restored.from}`),
    exec: (command) => {
      log.push(`exec: ${command}`);
      return warmUp.promise;
    },
    step: (step) => steps.push(step),
    note: (text) => log.push(`note: ${text}`),
    running: () => state.running,
    delay: () => warmUpDelay.promise,
  });
  after.configure(settings);
  return { after, log, steps, clock, check, warmUpDelay, warmUp, state };
}

describe('AfterRestore', () => {
  it('holds the shell until the clock is set, is live at once, then checks the guest, then warms up', async () => {
    const s = sequence();
    const answered = s.after.begin(plan, undefined);
    expect(s.log).toEqual(['banner', 'hold', 'clock', 'agent: [ -e ', 'ready from boot-snapshot', 'terminal: hi', 'shell: "\\n"']);
    s.clock.resolve(0);
    await flush();
    expect(s.log.at(-1)).toBe('release');
    s.check.resolve({ output: '', exitCode: 0 });
    await answered;
    expect(s.steps).toEqual(['clock-set', 'guest-answered']);
    s.warmUpDelay.resolve();
    await flush();
    expect(s.log.at(-1)).toBe('exec: /usr/local/libexec/tabdock-warm-up');
    s.warmUp.resolve({ output: '', exitCode: 0 });
    await flush();
    expect(s.after.figures().warmUp).toMatchObject({ exitCode: 0 });
  });

  it('releases the shell when the clock cannot be set, and says why', async () => {
    const s = sequence();
    void s.after.begin(plan, undefined).catch(() => undefined);
    s.clock.reject(new Error('no answer'));
    await flush();
    expect(s.log.slice(-2)).toEqual(['note: the guest clock was not set after the restore: Error: no answer', 'release']);
    expect(s.steps).toEqual([]);
  });

  it('fails the check with a serial failure reported while it runs, and only then', async () => {
    const s = sequence();
    expect(s.after.guestFailed(new RestoreFailed('too early', ''))).toBe(false);
    const answered = s.after.begin(plan, undefined);
    const failure = new RestoreFailed('The guest reported a failure: kernel-panic.', 'last lines');
    expect(s.after.guestFailed(failure)).toBe(true);
    await expect(answered).rejects.toBe(failure);
    expect(s.after.guestFailed(failure)).toBe(false);
  });

  it('skips the warm-up when the user typed, and runs none unless asked', async () => {
    const typed = sequence();
    const answered = typed.after.begin(plan, undefined);
    typed.after.userTyped();
    typed.check.resolve({ output: '', exitCode: 0 });
    await answered;
    typed.warmUpDelay.resolve();
    await flush();
    expect(typed.after.figures().warmUp).toEqual({ skipped: true });
    expect(typed.log.some((line) => line.startsWith('exec:'))).toBe(false);

    const off = sequence({ warmUp: false, diskPrefetch: true });
    const offAnswered = off.after.begin(plan, undefined);
    off.check.resolve({ output: '', exitCode: 0 });
    await offAnswered;
    off.warmUpDelay.resolve();
    await flush();
    expect(off.after.figures().warmUp).toBeUndefined();
  });

  it('does nothing more for a cancelled restore: no shell release, no steps, no warm-up', async () => {
    const s = sequence();
    const answered = s.after.begin(plan, undefined);
    s.after.cancel();
    s.clock.resolve(0);
    s.check.resolve({ output: '', exitCode: 0 });
    await answered;
    s.warmUpDelay.resolve();
    await flush();
    expect(s.log.filter((line) => line === 'release' || line.startsWith('exec'))).toEqual([]);
    expect(s.steps).toEqual([]);
  });

  it("prefetches the snapshot's chunks when the chunk sizes match, while the restore is current and running", async () => {
    const s = sequence();
    const calls: Array<{ chunks: readonly number[]; wanted: () => boolean }> = [];
    const target = (chunkBytes: number): PrefetchTarget => ({
      image: {
        options: { chunkBytes, capacityBytes: 1 << 20 },
        prefetchChunks: (chunks, _concurrency, wanted = () => true) => {
          calls.push({ chunks, wanted });
          return Promise.resolve({ loadedBytes: chunks.length * chunkBytes, failed: 0 });
        },
      },
      list: { chunkBytes: 4096, chunks: [3, 1, 2], recordedCommand: 'docker run' },
    });
    void s.after.begin(plan, target(8192)).catch(() => undefined);
    expect(calls).toEqual([]);
    void s.after.begin(plan, target(4096)).catch(() => undefined);
    expect(calls[0]?.chunks).toEqual([3, 1, 2]);
    expect(calls[0]?.wanted()).toBe(true);
    s.state.running = false;
    expect(calls[0]?.wanted()).toBe(false);
    s.state.running = true;
    s.after.cancel();
    expect(calls[0]?.wanted()).toBe(false);
    await flush();
    expect(s.after.figures().diskPrefetch).toMatchObject({ loadedBytes: 3 * 4096, failed: 0 });

    const off = sequence({ warmUp: false, diskPrefetch: false });
    void off.after.begin(plan, target(4096)).catch(() => undefined);
    expect(calls).toHaveLength(1);
  });
});
