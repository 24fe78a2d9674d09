// One deadline helper for every wait that must not hang: the worker's dial (worker/vm/net/egress.ts), the relay's
// name lookups (worker/proxy/node/tcp-dialer.ts) and its Wisp handshake (wisp-relay.ts).

/**
 * Settles as `promise` does, or rejects with `timeoutError()` once `timeoutMs` passed. A value that arrives after
 * the deadline goes to `onLate` (to close a stream nobody waits for any more); a late failure is dropped.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, timeoutError: () => Error, onLate?: (late: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(timeoutError());
      if (onLate) promise.then(onLate, () => undefined);
    }, Math.max(0, timeoutMs));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
