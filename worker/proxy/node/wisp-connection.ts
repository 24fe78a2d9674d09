// The relay's half of wisp-js: a ServerConnection whose streams dial through tabdock's policy (dialChecked, via
// wisp-stream-sockets.ts) instead of wisp-js's own filter, confirm each stream with a CONTINUE once its TCP
// connection is up, count every DATA packet when it arrives (#24) and send no faster than the client reads.
// Sessions, paths, tokens and origins are wisp-relay.ts's.
import { logging, packet, server as wisp } from '@mercuryworkshop/wisp-js/server';
import { WebSocket } from 'ws';
import { closeReasonFor, WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import { PolicySocket, RefusedSocket, type AccountedSocket, type StreamContext } from './wisp-stream-sockets.ts';

// wisp-js logs every connection at INFO and every malformed client packet at WARN on the console; the relay
// reports refusals itself (onRefusal), and a client's malformed packet is dropped, packet by packet.
logging.set_level(logging.ERROR);

/**
 * What may wait in a session's WebSocket for a client that reads slower than its targets send, before the streams'
 * reads wait (wisp-js's own limit is 32 MiB per session, and its wait polled on after the socket was gone).
 */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;

export interface ConnectionContext extends StreamContext {
  /** A stream was refused or failed to connect. */
  refused(target: string, error: unknown): void;
  /** A session with no stream for this long is closed, as an idle stream is (#24 item 10: they never were). */
  idleTimeoutMs: number;
}

export class PolicyConnection extends wisp.ServerConnection {
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    ws: WebSocket,
    path: string,
    version: 1 | 2,
    private readonly context: ConnectionContext,
  ) {
    super(ws, path, { wisp_version: version, UDPSocket: RefusedSocket });
    this.watchIdle();
    this.ws.send = async (data) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(data instanceof packet.WispPacket ? data.serialize().bytes : (data as Uint8Array));
      while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > SEND_HIGH_WATER_BYTES) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
  }

  override create_stream(streamId: number, type: number, hostname: string, port: number): void {
    const target = `${hostname}:${port}`;
    if (this.streams[streamId] !== undefined || streamId === 0) {
      // A reused id would orphan the open stream's socket.
      void this.sendClose(streamId, WISP_CLOSE.InvalidInfo);
      return;
    }
    const socket = type === packet.stream_types.TCP ? new PolicySocket(hostname, port, this.context) : new RefusedSocket(hostname, port);
    const stream = new wisp.ServerStream(streamId, this, socket);
    this.streams[streamId] = stream;
    clearTimeout(this.idleTimer);
    if (socket instanceof PolicySocket) socket.onFatal = (reason) => void this.close_stream(streamId, reason, true);
    void (async () => {
      try {
        await stream.setup();
      } catch (error) {
        this.context.refused(target, error);
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

  override route_packet(buffer: packet.WispBuffer): void {
    if (buffer.size >= packet.WispPacket.min_size && buffer.bytes[0] === packet.DataPayload.type) {
      const streamId = buffer.view.getUint32(1, true);
      const socket = this.streams[streamId]?.socket as AccountedSocket | undefined;
      try {
        if (socket && !socket.arrived(buffer.size - packet.WispPacket.min_size)) {
          // The client ignores its CONTINUE credits: wisp-js would park its DATA in pending promises without
          // bound (its queue stops counting at 129). End the session.
          this.ws.close(1008, 'flow control violated');
          return;
        }
      } catch (error) {
        // Byte budget or queue share spent: this stream closes, the session goes on.
        void this.close_stream(streamId, closeReasonFor(error), true);
        return;
      }
      // Queued as a view of the WebSocket message: wisp-js's own parse would copy every payload once more.
      if (socket) void this.streams[streamId]!.put_data(buffer.bytes.subarray(packet.WispPacket.min_size));
      return;
    }
    super.route_packet(buffer);
  }

  override async close_stream(streamId: number, reason?: number | null, quiet?: boolean): Promise<void> {
    await super.close_stream(streamId, reason, quiet);
    this.watchIdle();
  }

  private watchIdle(): void {
    clearTimeout(this.idleTimer);
    if (Object.keys(this.streams).length > 0) return;
    this.idleTimer = setTimeout(() => {
      if (Object.keys(this.streams).length === 0) this.ws.close(1000, 'idle');
    }, this.context.idleTimeoutMs);
  }

  override async cleanup(): Promise<void> {
    clearTimeout(this.idleTimer);
    // Nothing more will be read from this client: its targets' connections close now, not after a flush.
    for (const stream of Object.values(this.streams)) (stream.socket as AccountedSocket).abort();
    await super.cleanup();
  }

  private sendClose(streamId: number, reason: number): Promise<void> {
    return this.ws.send(
      new packet.WispPacket({ type: packet.ClosePayload.type, stream_id: streamId, payload: new packet.ClosePayload({ reason }) }),
    );
  }
}
