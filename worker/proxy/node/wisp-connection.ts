// The relay's half of wisp-js: the ServerConnection whose streams dial through tabdock's policy (dialChecked)
// instead of wisp-js's own filter, and the sockets those streams drive. Each stream is confirmed with a CONTINUE
// once its TCP connection is up. Sessions, paths, tokens and origins are wisp-relay.ts's.
import { logging, packet, server as wisp } from '@mercuryworkshop/wisp-js/server';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { closeReasonFor, WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import type { DialedSocket } from './tcp-dialer.ts';

// wisp-js logs every connection at INFO and every malformed client packet at WARN on the console; the relay
// reports refusals itself (onRefusal), and a client's malformed packet is dropped, packet by packet.
logging.set_level(logging.ERROR);

/** The socket wisp-js's ServerStream drives: connects through dialChecked, queues received data. */
class PolicySocket implements wisp.WispSocketLike {
  private dialed: DialedSocket | undefined;
  private readonly queue: Uint8Array[] = [];
  private waiting: ((value: Uint8Array | null) => void) | undefined;
  private ended = false;
  private closed = false;
  private paused = false;
  /** Set by the session: closes the stream with a reason (byte budget spent mid-stream). */
  onFatal: ((reason: number) => void) | undefined;

  constructor(
    readonly hostname: string,
    readonly port: number,
    private readonly dial: (host: string, port: number) => Promise<DialedSocket>,
  ) {}

  async connect(): Promise<void> {
    const dialed = await this.dial(this.hostname, this.port);
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
      } else {
        this.queue.push(bytes);
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

  recv(): Promise<Uint8Array | null> {
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async send(data: Uint8Array): Promise<void> {
    const dialed = this.dialed;
    if (!dialed || dialed.socket.destroyed) return;
    try {
      dialed.count(data.length);
    } catch (error) {
      this.onFatal?.(closeReasonFor(error));
      dialed.socket.destroy();
      return;
    }
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
  }

  close(): void {
    this.closed = true;
    // FIN after what is queued, then a full close: Wisp has no half-close.
    this.dialed?.socket.destroySoon();
  }

  pause(): void {
    if (this.queue.length >= 64 && this.dialed && !this.paused) {
      this.paused = true;
      this.dialed.socket.pause();
    }
  }

  resume(): void {
    if (this.paused && this.dialed) {
      this.paused = false;
      this.dialed.socket.resume();
    }
  }
}

/** Streams nobody may open: UDP is out of scope for the relay. */
class RefusedSocket implements wisp.WispSocketLike {
  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {}
  connect(): Promise<void> {
    return Promise.reject(new RelayRefusal('port-not-allowed', 'UDP is not relayed'));
  }
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

export class PolicyConnection extends wisp.ServerConnection {
  constructor(
    ws: unknown,
    path: string,
    version: 1 | 2,
    private readonly dial: (host: string, port: number) => Promise<DialedSocket>,
    private readonly refused: (target: string, error: unknown) => void,
  ) {
    super(ws, path, { wisp_version: version, UDPSocket: RefusedSocket });
  }

  override create_stream(streamId: number, type: number, hostname: string, port: number): void {
    const target = `${hostname}:${port}`;
    if (this.streams[streamId] !== undefined || streamId === 0) {
      // A reused id would orphan the open stream's socket.
      void this.sendClose(streamId, WISP_CLOSE.InvalidInfo);
      return;
    }
    const socket =
      type === packet.stream_types.TCP ? new PolicySocket(hostname, port, this.dial) : new RefusedSocket(hostname, port);
    const stream = new wisp.ServerStream(streamId, this, socket);
    this.streams[streamId] = stream;
    if (socket instanceof PolicySocket) socket.onFatal = (reason) => void this.close_stream(streamId, reason, true);
    void (async () => {
      try {
        await stream.setup();
      } catch (error) {
        this.refused(target, error);
        await this.close_stream(streamId, closeReasonFor(error), true);
        return;
      }
      if (this.streams[streamId] !== stream) return;
      await this.ws.send(
        new packet.WispPacket({
          type: packet.ContinuePayload.type,
          stream_id: streamId,
          payload: new packet.ContinuePayload({ buffer_remaining: wisp.ServerStream.buffer_size }),
        }),
      );
    })().catch(() => undefined);
  }

  override route_packet(buffer: unknown): void {
    super.route_packet(buffer);
    // wisp-js queues DATA without waiting; a client that ignores its CONTINUE credits would grow the queue
    // without bound. Twice the credit is a protocol violation: end the session.
    for (const stream of Object.values(this.streams)) {
      if (stream.send_buffer.size > 2 * wisp.ServerStream.buffer_size) {
        this.ws.close(1008, 'flow control violated');
        return;
      }
    }
  }

  private sendClose(streamId: number, reason: number): Promise<void> {
    return this.ws.send(
      new packet.WispPacket({ type: packet.ClosePayload.type, stream_id: streamId, payload: new packet.ClosePayload({ reason }) }),
    );
  }
}

