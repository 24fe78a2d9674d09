// Relaying a guest byte stream that something else already accepted (e.g. the tunnel behind an HTTP CONNECT on
// the guest's proxy port) through the same EgressDialer and policy as a direct guest connection. The guest side
// is a GuestSocket (guest-socket.ts), which has no window to close: only the download direction is paced.
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import type { EgressDialer, EgressStream } from '../../shared/egress-dialer.ts';
import type { GuestSocket } from './guest-socket.ts';

export interface RelayReply {
  /** The far side is connected; answer the client (e.g. `HTTP/1.1 200 Connection established`) now. */
  connected(): void;
  /** The relay refused or could not connect; answer the client (e.g. 403 or 502) and close the socket. */
  refused(error: RelayRefusal): void;
}

export interface GuestSocketRelayOptions {
  /** Relay data waiting for the guest beyond which the far side is paused. */
  highWaterBytes?: number;
  /** How often to look at the guest's acknowledgements while paused (v86 has no drain event). */
  drainPollMs?: number;
  onRefused?: (target: string, error: RelayRefusal) => void;
}

/**
 * Dials host:port and, once connected, pipes `socket` both ways. Without `reply`, a refusal just closes the
 * socket. Never throws; every outcome reaches `reply` or the socket.
 */
export function relayGuestSocket(
  dialer: EgressDialer,
  socket: GuestSocket,
  host: string,
  port: number,
  reply?: RelayReply,
  options: GuestSocketRelayOptions = {},
): void {
  const target = `${host}:${port}`;
  void dialer.dial(host, port).then(
    (stream) => {
      if (socket.closed) {
        stream.destroy();
        return;
      }
      reply?.connected();
      pipe(socket, stream, options);
    },
    (error: unknown) => {
      const refusal = error instanceof RelayRefusal ? error : new RelayRefusal('connect-failed', String(error));
      options.onRefused?.(target, refusal);
      if (reply) reply.refused(refusal);
      else socket.close();
    },
  );
}

function pipe(socket: GuestSocket, stream: EgressStream, options: GuestSocketRelayOptions): void {
  const highWater = options.highWaterBytes ?? 1024 * 1024;
  const pollMs = options.drainPollMs ?? 10;
  let paused = false;
  let done = false;
  const waitForGuest = () => {
    if (done) return;
    if (socket.closed || socket.bufferedBytes() < highWater / 2) {
      paused = false;
      stream.resume();
      return;
    }
    setTimeout(waitForGuest, pollMs);
  };
  stream.onData((bytes) => {
    if (done) return;
    socket.write(bytes);
    if (!paused && socket.bufferedBytes() > highWater) {
      paused = true;
      stream.pause();
      setTimeout(waitForGuest, pollMs);
    }
  });
  socket.onData((bytes) => stream.write(bytes));
  socket.onEnd(() => stream.end());
  socket.onClose(() => {
    done = true;
    stream.destroy();
  });
  stream.onClose(() => {
    if (done) return;
    done = true;
    socket.close();
  });
}
