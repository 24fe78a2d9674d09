// Dropping a start attempt detaches what was attached to its emulator before the emulator ends.
import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import { VmFailure } from '../shared/contract.ts';
import type { StartedEmulator } from './emulator-start.ts';
import { StartAttempt } from './start-attempt.ts';

describe('StartAttempt', () => {
  it('detaches the network and the consoles, then discards the emulator', async () => {
    const events: string[] = [];
    const emulator = {} as V86;
    const started: StartedEmulator = {
      emulator,
      loaded: Promise.resolve(),
      jitStats: () => undefined,
      jitThreshold: () => undefined,
      discard: async () => void events.push('emulator discarded'),
    };
    const reason = new VmFailure({ code: 'not-running', message: 'restore failed' });
    const attempt = new StartAttempt(started, { detach: (why) => void events.push(`consoles detached: ${why.message}`) }, undefined);
    expect(attempt.emulator).toBe(emulator);
    attempt.network = { detach: () => void events.push('network detached') };
    await attempt.drop(reason);
    expect(events).toEqual(['network detached', 'consoles detached: restore failed', 'emulator discarded']);
    expect(attempt.network).toBeUndefined();
  });

  it('drops an attempt whose emulator never loaded (no network yet)', async () => {
    let discarded = false;
    const started = { emulator: {} as V86, loaded: new Promise<void>(() => undefined), jitStats: () => undefined, jitThreshold: () => undefined, discard: async () => void (discarded = true) };
    await new StartAttempt(started, { detach: () => undefined }, undefined).drop(new VmFailure({ code: 'not-running', message: 'stopped' }));
    expect(discarded).toBe(true);
  });
});
