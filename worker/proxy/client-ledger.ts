// What each client of the relay is using: open sessions and streams, bytes in the current window, upload bytes
// waiting for slow targets; one ledger per relay, limits from its RelayPolicyConfig. Pure, like relay-policy.ts.
import { RelayRefusal } from '../shared/relay-refusal.ts';
import type { RelayPolicyConfig } from './relay-policy.ts';

/** Per-client counters: open sessions and streams, bytes in the current window, bytes queued. One ledger per relay. */
export class ClientLedger {
  private readonly clients = new Map<string, { sessions: number; streams: number; bytes: number; windowStart: number; queued: number }>();
  private queuedTotal = 0;
  private sessionsTotal = 0;
  private streamsTotal = 0;
  private pendingLookups = 0;
  constructor(
    private readonly policy: RelayPolicyConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(client: string) {
    let entry = this.clients.get(client);
    const now = this.now();
    if (!entry) {
      entry = { sessions: 0, streams: 0, bytes: 0, windowStart: now, queued: 0 };
      this.clients.set(client, entry);
    }
    if (now - entry.windowStart >= this.policy.byteWindowMs) {
      entry.bytes = 0;
      entry.windowStart = now;
    }
    return entry;
  }

  private forgetIfIdle(client: string): void {
    const entry = this.clients.get(client);
    if (entry && entry.sessions === 0 && entry.streams === 0 && entry.queued === 0 && this.now() - entry.windowStart >= this.policy.byteWindowMs) {
      this.clients.delete(client);
    }
  }

  /** Reserves a session slot; returns its release function, or throws 'too-many-streams'. */
  openSession(client: string): () => void {
    const entry = this.entry(client);
    if (entry.sessions >= this.policy.maxSessionsPerClient) {
      throw new RelayRefusal('too-many-streams', `${client} already has ${entry.sessions} relay sessions open (limit ${this.policy.maxSessionsPerClient})`);
    }
    if (this.sessionsTotal >= this.policy.maxSessionsTotal) {
      throw new RelayRefusal('relay-busy', `the relay has as many sessions open as it takes (${this.policy.maxSessionsTotal}); try again later`);
    }
    entry.sessions++;
    this.sessionsTotal++;
    return once(() => {
      entry.sessions--;
      this.sessionsTotal--;
      this.forgetIfIdle(client);
    });
  }

  /** Reserves a stream slot (also checks the byte budget); returns its release function. */
  openStream(client: string): () => void {
    const entry = this.entry(client);
    if (entry.streams >= this.policy.maxStreamsPerClient) {
      throw new RelayRefusal('too-many-streams', `too many connections at once through the relay (limit ${this.policy.maxStreamsPerClient})`);
    }
    if (this.streamsTotal >= this.policy.maxStreamsTotal) {
      throw new RelayRefusal('relay-busy', `the relay has as many connections open as it takes (${this.policy.maxStreamsTotal}); try again later`);
    }
    this.checkBytes(client, 0);
    entry.streams++;
    this.streamsTotal++;
    return once(() => {
      entry.streams--;
      this.streamsTotal--;
      this.forgetIfIdle(client);
    });
  }

  /** Counts a name lookup until its end function is called (when the lookup settles, not when its dial gave up). */
  startLookup(): () => void {
    if (this.pendingLookups >= this.policy.maxPendingLookups) {
      throw new RelayRefusal('relay-busy', `the relay is waiting on ${this.pendingLookups} slow name lookups; try again later`);
    }
    this.pendingLookups++;
    return once(() => {
      this.pendingLookups--;
    });
  }

  /** Counts bytes relayed for a client; throws 'byte-limit' once the window's budget is spent. */
  checkBytes(client: string, bytes: number): void {
    const entry = this.entry(client);
    entry.bytes += bytes;
    if (entry.bytes > this.policy.maxBytesPerClient) {
      const minutes = Math.ceil((entry.windowStart + this.policy.byteWindowMs - this.now()) / 60_000);
      throw new RelayRefusal('byte-limit', `the relay's data limit for this client is used up (${this.policy.maxBytesPerClient} bytes); it resets in ${minutes} min`);
    }
  }

  /** Holds `bytes` of a client's upload waiting for a slow target; throws 'buffer-full' past its share or the total. */
  holdQueued(client: string, bytes: number): void {
    const entry = this.entry(client);
    if (entry.queued + bytes > this.policy.maxQueuedBytesPerClient || this.queuedTotal + bytes > this.policy.maxQueuedBytesTotal) {
      const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
      throw new RelayRefusal(
        'buffer-full',
        entry.queued + bytes > this.policy.maxQueuedBytesPerClient
          ? `the target reads slower than this client sends, and the relay holds at most ${mib(this.policy.maxQueuedBytesPerClient)} waiting per client`
          : `the relay holds at most ${mib(this.policy.maxQueuedBytesTotal)} waiting for slow targets, for all clients together`,
      );
    }
    entry.queued += bytes;
    this.queuedTotal += bytes;
  }

  /** Lets go of bytes holdQueued counted (the target took them, or their stream closed). */
  releaseQueued(client: string, bytes: number): void {
    const entry = this.clients.get(client);
    if (!entry) return;
    const released = Math.min(bytes, entry.queued);
    entry.queued -= released;
    this.queuedTotal -= released;
    this.forgetIfIdle(client);
  }

  /** For tests and monitoring. */
  snapshot(client: string): { sessions: number; streams: number; bytes: number; queued: number } {
    const entry = this.clients.get(client);
    return entry
      ? { sessions: entry.sessions, streams: entry.streams, bytes: entry.bytes, queued: entry.queued }
      : { sessions: 0, streams: 0, bytes: 0, queued: 0 };
  }

  /** All clients together, for tests and monitoring. */
  totals(): { sessions: number; streams: number; queuedBytes: number; pendingLookups: number } {
    return { sessions: this.sessionsTotal, streams: this.streamsTotal, queuedBytes: this.queuedTotal, pendingLookups: this.pendingLookups };
  }

  /** Upload bytes waiting for targets, all clients together. */
  queuedBytes(): number {
    return this.queuedTotal;
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
