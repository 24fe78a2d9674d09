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
  it('gives the session to the first tab only, and to the next once the first closed', async () => {
    const locks = fakeLocks();
    expect(await claimSessionOwnership(locks)).toBe(true);
    expect(await claimSessionOwnership(locks)).toBe(false);
    locks.release();
    expect(await claimSessionOwnership(locks)).toBe(true);
  });

  it('treats a browser without Web Locks as the owner', async () => {
    expect(await claimSessionOwnership(undefined)).toBe(true);
  });
});
