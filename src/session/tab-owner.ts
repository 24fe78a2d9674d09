// One tab per browser profile owns the saved session: it holds a Web Lock for as long as it is open
// (https://w3c.github.io/web-locks/, ifAvailable), so a second tab of the same origin learns at once that it
// must not resume, save over or reset that session. The lock is released by the browser when the tab closes.

export const OWNER_LOCK_NAME = 'tabdock-session-owner';

/** The subset of navigator.locks used here. */
export interface OwnerLockManager {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

/**
 * A tab that just closed, or the page a reload replaces, may hold the lock for a moment while it is torn down:
 * these are the waits before asking again, about 3 s in all, before another tab is taken to own the session.
 */
export const OWNER_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 1500];

/** Resolves true when this tab now owns the session (until it closes), false when another tab does. */
export async function claimSessionOwnership(
  locks: OwnerLockManager | undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<boolean> {
  // Without Web Locks every tab acts as the owner; saves still replace the file atomically.
  if (!locks) return true;
  for (const delayMs of [0, ...OWNER_RETRY_DELAYS_MS]) {
    if (delayMs > 0) await sleep(delayMs);
    if (await tryClaim(locks)) return true;
  }
  return false;
}

function tryClaim(locks: OwnerLockManager): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    locks
      .request(OWNER_LOCK_NAME, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Held until the page goes away: a promise that never settles keeps the lock.
        return lock === null ? Promise.resolve() : new Promise<never>(() => undefined);
      })
      .catch(reject);
  });
}
