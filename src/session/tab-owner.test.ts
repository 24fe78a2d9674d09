// Ownership of the saved session across tabs, against a small model of the Web Locks ifAvailable rule.
import { describe, expect, it } from 'vitest';
import { claimSessionOwnership, type OwnerLockManager } from './tab-owner.ts';

/** Web Locks with ifAvailable: the callback gets null when the name is held, and the lock lasts as long as its promise. */
function fakeLocks(): OwnerLockManager & { release(): void } {
  let held = false;
  let releaseHeld: (() => void) | undefined;
  return {
    request(_name, _options, callback) {
      if (held) return callback(null);
      held = true;
      const done = callback({});
      releaseHeld = () => {
        held = false;
      };
      return done;
    },
    release: () => releaseHeld?.(),
  };
}

describe('claimSessionOwnership', () => {
  const noWait = () => Promise.resolve();

  it('gives the session to the first tab only, and to the next once the first closed', async () => {
    const locks = fakeLocks();
    expect(await claimSessionOwnership(locks, noWait)).toBe(true);
    expect(await claimSessionOwnership(locks, noWait)).toBe(false);
    locks.release();
    expect(await claimSessionOwnership(locks, noWait)).toBe(true);
  });

  it('waits for a closing tab to let go before deciding another tab owns the session', async () => {
    const locks = fakeLocks();
    await claimSessionOwnership(locks, noWait);
    const waits: number[] = [];
    // The old page finishes unloading during the second wait.
    const owned = await claimSessionOwnership(locks, (ms) => {
      waits.push(ms);
      if (waits.length === 2) locks.release();
      return Promise.resolve();
    });
    expect(owned).toBe(true);
    expect(waits).toEqual([250, 500]);
  });

  it('treats a browser without Web Locks as the owner', async () => {
    expect(await claimSessionOwnership(undefined)).toBe(true);
  });
});
