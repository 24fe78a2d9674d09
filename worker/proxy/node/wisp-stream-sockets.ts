// The sockets wisp-js's ServerStreams drive in the relay: PolicySocket dials through tabdock's policy and keeps
// the books on what waits in the relay either way (#24: uploads counted when their DATA packet arrives, held
// against the client's queue share until the target took them; downloads pause the target past a high-water
// mark); RefusedSocket is every UDP stream.
import { server as wisp } from '@mercuryworkshop/wisp-js/server';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { closeReasonFor } from '../../shared/wisp-close-reasons.ts';
import type { ClientLedger } from '../client-ledger.ts';
import type { DialedSocket } from './tcp-dialer.ts';

/** Download bytes a stream holds for a client that reads slower than its target sends, before the target waits. */
const DOWNLOAD_HIGH_WATER_BYTES = 256 * 1024;
/** How long a stream the client closed may take to hand its last bytes to the target (FIN after them). */
const FLUSH_TIMEOUT_MS = 10_000;

export interface StreamContext {
  dial(host: string, port: number): Promise<DialedSocket>;
  ledger: ClientLedger;
  /** Who the stream's bytes count for. */
  client: string;
}

/** What the session needs from a stream's socket besides wisp-js's interface. */
export interface AccountedSocket extends wisp.WispSocketLike {
  /**
   * Counts a DATA packet's payload as it arrives. False when the client has more than twice its credit queued
   * (it ignores CONTINUE); throws a RelayRefusal when the client's byte budget or queue share is spent.
   */
  arrived(bytes: number): boolean;
  /** The session ended: nothing waits to be flushed, close the target now. */
  abort(): void;
}

export class PolicySocket implements AccountedSocket {
  private dialed: DialedSocket | undefined;
  private readonly received: Uint8Array[] = [];
  private receivedBytes = 0;
  private waiting: ((value: Uint8Array | null) => void) | undefined;
  private ended = false;
  private closed = false;
  private aborted = false;
  private targetPaused = false;
  /** Upload packets and bytes that arrived and the target's socket has not taken yet. */
  private queuedPackets = 0;
  private queuedBytes = 0;
  /** Set by the session: closes the stream with a reason (byte budget spent mid-stream, idle timeout). */
  onFatal: ((reason: number) => void) | undefined;

  constructor(
    readonly hostname: string,
    readonly port: number,
    private readonly context: StreamContext,
  ) {}

  async connect(): Promise<void> {
    const dialed = await this.context.dial(this.hostname, this.port);
    if (this.closed) {
      // The session ended (or the client closed the stream) while this was connecting.
      dialed.socket.destroy();
      throw new RelayRefusal('connect-failed', 'the stream was closed while connecting');
    }
    this.dialed = dialed;
    const { socket } = dialed;
    socket.on('data', (chunk: Buffer) => {
      try {
        dialed.count(chunk.length);
      } catch (error) {
        this.onFatal?.(closeReasonFor(error));
        socket.destroy();
        return;
      }
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting(bytes);
        return;
      }
      this.received.push(bytes);
      this.receivedBytes += bytes.length;
      if (this.receivedBytes >= DOWNLOAD_HIGH_WATER_BYTES && !this.targetPaused) {
        this.targetPaused = true;
        socket.pause();
      }
    });
    socket.on('error', (error) => {
      // The dialer's idle timeout destroys the socket with a RelayRefusal: tell the client why.
      if (error instanceof RelayRefusal) this.onFatal?.(closeReasonFor(error));
    });
    socket.on('close', () => {
      this.ended = true;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(null);
    });
  }

  arrived(bytes: number): boolean {
    if (this.closed) return true;
    if (++this.queuedPackets > 2 * wisp.ServerStream.buffer_size) return false;
    this.context.ledger.checkBytes(this.context.client, bytes);
    this.context.ledger.holdQueued(this.context.client, bytes);
    this.queuedBytes += bytes;
    return true;
  }

  recv(): Promise<Uint8Array | null> {
    const next = this.received.shift();
    if (next) {
      this.receivedBytes -= next.length;
      if (this.targetPaused && this.receivedBytes < DOWNLOAD_HIGH_WATER_BYTES / 4) {
        this.targetPaused = false;
        this.dialed?.socket.resume();
      }
      return Promise.resolve(next);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async send(data: Uint8Array): Promise<void> {
    this.queuedPackets--;
    const dialed = this.dialed;
    if (this.closed || !dialed || dialed.socket.destroyed) return;
    // Waiting for the write keeps wisp-js's send queue, and so the CONTINUE credits, honest.
    await new Promise<void>((resolve) => {
      if (dialed.socket.write(data)) resolve();
      else {
        const done = () => {
          dialed.socket.off('drain', done);
          dialed.socket.off('close', done);
          resolve();
        };
        dialed.socket.once('drain', done);
        dialed.socket.once('close', done);
      }
    });
    if (this.closed) return;
    const released = Math.min(data.length, this.queuedBytes);
    this.queuedBytes -= released;
    this.context.ledger.releaseQueued(this.context.client, released);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      // wisp-js drops what is still queued when a stream closes: so do the books.
      this.context.ledger.releaseQueued(this.context.client, this.queuedBytes);
      this.queuedBytes = 0;
    }
    const socket = this.dialed?.socket;
    if (!socket || socket.destroyed) return;
    if (this.aborted) {
      socket.destroy();
      return;
    }
    // FIN after what the socket holds, then a full close (Wisp has no half-close); a target that will not take
    // those bytes does not keep the connection for the whole idle timeout.
    socket.destroySoon();
    setTimeout(() => socket.destroy(), FLUSH_TIMEOUT_MS).unref();
  }

  abort(): void {
    this.aborted = true;
    this.close();
  }

  // wisp-js pauses the socket around each DATA packet it sends; the high-water mark above is the back-pressure.
  pause(): void {}
  resume(): void {}
}

/** Streams nobody may open: UDP is out of scope for the relay. */
export class RefusedSocket implements AccountedSocket {
  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {}
  connect(): Promise<void> {
    return Promise.reject(new RelayRefusal('port-not-allowed', 'UDP is not relayed'));
  }
  // Its DATA waits for nothing: the stream closes as soon as connect() refused it.
  arrived(): boolean {
    return true;
  }
  abort(): void {}
  recv(): Promise<null> {
    return Promise.resolve(null);
  }
  send(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
  pause(): void {}
  resume(): void {}
}
