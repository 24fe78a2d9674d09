// One tab per browser profile owns the saved session: it holds a Web Lock for as long as it is open
// (https://w3c.github.io/web-locks/, ifAvailable), so a second tab of the same origin learns at once that it
// must not resume, save over or reset that session. The lock is released by the browser when the tab closes.

export const OWNER_LOCK_NAME = 'tabdock-session-owner';

/** The subset of navigator.locks used here. */
export interface OwnerLockManager {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

/** Resolves true when this tab now owns the session (until it closes), false when another tab does. */
export function claimSessionOwnership(locks: OwnerLockManager | undefined): Promise<boolean> {
  // Without Web Locks every tab acts as the owner; saves still replace the file atomically.
  if (!locks) return Promise.resolve(true);
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
