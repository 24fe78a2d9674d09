// One guest connection bridged to an EgressStream once accepted: data both ways with back-pressure (a paced
// send window and a paused far side towards the guest; a zero receive window towards the relay), closes and
// resets passed on. The v86 TCPConnection fields it drives are declared here, in one place.
import type { RelayRefusal } from '../../shared/relay-refusal.ts';
import type { EgressStream } from '../../shared/egress-dialer.ts';
import { tcpFrame, TCP_ACK, TCP_RST, type Endpoints } from './ethernet-frames.ts';
import { DEFAULT_SEND_WINDOW_BYTES, pipelineSends, type V86SendingConnection } from './v86-send-window.ts';
import type { V86FetchNetworkAdapter } from '../v86-internals.ts';

/** The fields of v86's TCPConnection (fake_network.js) egress reads or drives, beyond guest-socket.ts's. */
export interface V86EgressConnection {
  tuple: string;
  state: string;
  /** Router side (what the guest dialled) and guest side of the connection. */
  hsrc: Uint8Array;
  psrc: Uint8Array;
  sport: number;
  hdest: Uint8Array;
  pdest: Uint8Array;
  dport: number;
  seq: number;
  ack: number;
  winsize: number;
  last?: { tcp?: { seq: number; winsize?: number } };
  net: V86FetchNetworkAdapter;
  send_buffer: { length: number };
  accept(packet?: unknown): void;
  write(bytes: Uint8Array): void;
  close(): void;
  release(): void;
  pump(): void;
  on(event: 'data', handler: (bytes: Uint8Array) => void): void;
  on(event: 'shutdown' | 'close', handler: () => void): void;
}

export interface BridgeCounters {
  open: number;
  bytesToGuest: number;
  bytesFromGuest: number;
}

export interface BridgeOptions {
  /** Relay data waiting for the guest beyond which the stream is paused. */
  receiveHighWaterBytes: number;
  /** Guest data waiting for the relay beyond which the guest is told to stop sending (zero window). */
  sendHighWaterBytes: number;
  /** Bytes in flight towards the guest (v86-send-window.ts); 0 keeps v86's one segment per ACK. */
  sendWindowBytes?: number;
  counters: BridgeCounters;
  /** The far side closed with an error (after the connection was accepted). */
  onError(error: RelayRefusal): void;
}

export function endpointsOf(conn: V86EgressConnection): Endpoints {
  return { srcMac: conn.hsrc, dstMac: conn.hdest, srcIp: conn.psrc, dstIp: conn.pdest, srcPort: conn.sport, dstPort: conn.dport };
}

export function bridgeConnection(conn: V86EgressConnection, stream: EgressStream, options: BridgeOptions): void {
  const { counters } = options;
  const adapter = conn.net;
  counters.open++;
  let finished = false;
  const originalWindow = conn.winsize;
  const finish = () => {
    if (finished) return;
    finished = true;
    counters.open--;
  };
  if (options.sendWindowBytes !== 0) pipelineSends(conn as unknown as V86SendingConnection, options.sendWindowBytes ?? DEFAULT_SEND_WINDOW_BYTES);
  // Download back-pressure: pause the far side while the guest has not taken what it was given; v86 calls
  // pump on every ACK from the guest, which is when the buffer shrinks.
  let paused = false;
  const pump = conn.pump;
  conn.pump = function egressPump(this: unknown): void {
    pump.call(conn);
    if (paused && conn.send_buffer.length < options.receiveHighWaterBytes / 2) {
      paused = false;
      stream.resume();
    }
  };
  stream.onData((bytes) => {
    if (finished || conn.state === 'closed') return;
    counters.bytesToGuest += bytes.length;
    conn.write(bytes);
    if (!paused && conn.send_buffer.length > options.receiveHighWaterBytes) {
      paused = true;
      stream.pause();
    }
  });
  // Upload back-pressure: a zero receive window stops the guest (RFC 9293 3.8.6.1); a window update reopens it.
  let windowClosed = false;
  conn.on('data', (bytes) => {
    if (finished) return;
    counters.bytesFromGuest += bytes.length;
    // v86 hands out a view into its packet buffer: copy.
    stream.write(bytes.slice());
    if (!windowClosed && stream.bufferedBytes() > options.sendHighWaterBytes) {
      windowClosed = true;
      conn.winsize = 0;
    }
  });
  stream.onDrain(() => {
    if (!windowClosed || finished) return;
    windowClosed = false;
    conn.winsize = originalWindow;
    adapter.receive(tcpFrame(endpointsOf(conn), { seq: conn.seq, ack: conn.ack, flags: TCP_ACK, window: originalWindow }));
  });
  conn.on('shutdown', () => stream.end());
  conn.on('close', () => {
    finish();
    stream.destroy();
  });
  stream.onClose((error) => {
    if (finished) return;
    finish();
    if (error) options.onError(error);
    if (error && conn.send_buffer.length === 0 && conn.state !== 'closed') {
      // Nothing unacknowledged: a reset at the guest's next expected sequence number is accepted at once.
      adapter.receive(tcpFrame(endpointsOf(conn), { seq: conn.seq, ack: conn.ack, flags: TCP_RST | TCP_ACK, window: 0 }));
      conn.release();
      return;
    }
    conn.close();
  });
}
