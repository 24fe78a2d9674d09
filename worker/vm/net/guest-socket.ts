// One guest TCP connection as the shim sees it, and the adapter from v86's fake-network connection object.
// v86's connection type is internal (absent from v86.d.ts), so its shape is declared structurally here, once.

/** A byte stream to and from the guest, with the one signal back-pressure needs: bytes not yet acknowledged. */
export interface GuestSocket {
  write(bytes: Uint8Array): void;
  /** Sends FIN after the buffered bytes; no more writes after this. */
  close(): void;
  /** Bytes written but not yet acknowledged by the guest. */
  bufferedBytes(): number;
  readonly closed: boolean;
  onData(listener: (bytes: Uint8Array) => void): void;
  /** The guest half-closed (FIN): it will send nothing more, but may still read. */
  onEnd(listener: () => void): void;
  /** The connection is gone (RST or fully closed); stop writing. */
  onClose(listener: () => void): void;
}

/**
 * The part of v86's TCPConnection (src/browser/fake_network.js) the shim uses. `on` keeps one handler per
 * event name, so registering replaces whatever was there (v86's own port-80 fetch handler included).
 */
export interface V86TcpConnection {
  /** The guest-side destination port ("sport" from the fake router's point of view). */
  sport: number;
  state: string;
  on(event: 'data', handler: (bytes: Uint8Array) => void): void;
  /** 'connect' fires on the SYN-ACK of a connection we opened (network_adapter.connect). */
  on(event: 'shutdown' | 'close' | 'connect', handler: () => void): void;
  accept(): void;
  write(bytes: Uint8Array): void;
  close(): void;
  /** Unacknowledged outgoing bytes: v86 sends one segment and waits for its ACK. */
  send_buffer?: { length: number };
}

/** Wraps a v86 connection; the caller must already have accepted it. */
export function guestSocketFromV86(conn: V86TcpConnection): GuestSocket {
  const dataListeners: Array<(bytes: Uint8Array) => void> = [];
  const endListeners: Array<() => void> = [];
  const closeListeners: Array<() => void> = [];
  let closed = false;
  const markClosed = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  // v86 hands out a view into its packet buffer, which the next packet overwrites: copy it.
  conn.on('data', (bytes) => {
    const copy = bytes.slice();
    for (const listener of dataListeners) listener(copy);
  });
  conn.on('shutdown', () => {
    for (const listener of endListeners) listener();
  });
  conn.on('close', markClosed);
  return {
    write(bytes) {
      if (!closed && bytes.length > 0) conn.write(bytes);
    },
    close() {
      if (closed) return;
      conn.close();
      closed = true;
      for (const listener of closeListeners) listener();
    },
    bufferedBytes() {
      // A connection released by v86 (state "closed") never drains: report it empty so writers stop waiting.
      if (conn.state === 'closed') return 0;
      return conn.send_buffer?.length ?? 0;
    },
    get closed() {
      return closed || conn.state === 'closed';
    },
    onData(listener) {
      dataListeners.push(listener);
    },
    onEnd(listener) {
      endListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  };
}
