// Works around v86 0.5.462's TCP send path (src/browser/fake_network.js, TCPConnection.prototype.pump): v86
// sends one segment and waits for its ACK before the next. A Linux receiver delays the ACK of a lone segment
// (up to 40 ms at HZ=250) unless two full segments are waiting, so a download runs at a segment or two per
// delayed ACK: dockerd's layer downloads crawled at about 0.09 MB/s. Keeping several segments in flight lets
// the guest ACK every second segment at once, as it does on a real link.
//
// The virtual link between v86 and the guest loses nothing and reorders nothing, so no retransmission is
// needed; the window only has to respect the receive window the guest advertises (v86 negotiates no window
// scaling, so that is the raw 16-bit field of the guest's last segment, zero included).

/** The fields of v86's TCPConnection the window reads and briefly overrides. */
export interface V86SendingConnection {
  seq: number;
  pending: boolean;
  send_buffer: { length: number; peek(into: Uint8Array): number };
  send_chunk_buf: Uint8Array;
  /** The last segment received from the guest. */
  last?: { tcp?: { winsize?: number } };
  pump(): void;
}

/** Bytes in flight at most: a few dozen segments, well inside the guest's virtio receive ring. */
export const DEFAULT_SEND_WINDOW_BYTES = 32 * 1024;

/**
 * Replaces `pump` on one connection (an own property shadows the prototype's) with one that sends up to
 * `windowBytes` ahead of the last ACK. v86's own pump still builds and sends every frame; it is only shown the
 * next unsent slice of the buffer and the sequence number that slice starts at. A connection that does not
 * look like v86 0.5.462's is left alone.
 */
export function pipelineSends(conn: V86SendingConnection, windowBytes = DEFAULT_SEND_WINDOW_BYTES): void {
  const sendOne = conn.pump;
  const buffer = conn.send_buffer;
  if (typeof sendOne !== 'function' || typeof buffer?.peek !== 'function' || !(conn.send_chunk_buf instanceof Uint8Array)) return;
  const readBuffer = buffer.peek;
  const staging = new Uint8Array(windowBytes);
  // Bytes sent past `conn.seq` (the first unacknowledged byte), as of `ackedSeq`.
  let inFlight = 0;
  let ackedSeq: number | undefined;

  conn.pump = function pipelinedPump(this: V86SendingConnection): void {
    const base = conn.seq;
    if (ackedSeq !== undefined) inFlight = Math.max(0, inFlight - ((base - ackedSeq) >>> 0));
    ackedSeq = base;
    if (inFlight > buffer.length) inFlight = buffer.length;
    // A zero window means "stop": the guest's socket buffer is full (dockerd writes layers to disk more slowly
    // than they arrive). Segments sent into it are dropped, and v86 never retransmits, so the download would
    // stall for good. The guest announces the reopened window in a segment of its own, and v86 calls pump on
    // every segment it receives.
    const guestWindow = conn.last?.tcp?.winsize;
    const limit = Math.min(windowBytes, typeof guestWindow === 'number' ? guestWindow : windowBytes);
    if (inFlight >= limit || inFlight >= buffer.length) return;
    const staged = readBuffer.call(buffer, staging.subarray(0, limit));
    const segment = conn.send_chunk_buf.length;
    try {
      while (inFlight < staged) {
        const slice = staging.subarray(inFlight, Math.min(staged, inFlight + segment));
        buffer.peek = (into: Uint8Array) => {
          into.set(slice.subarray(0, Math.min(slice.length, into.length)));
          return Math.min(slice.length, into.length);
        };
        conn.seq = (base + inFlight) >>> 0;
        conn.pending = false;
        sendOne.call(conn);
        inFlight += slice.length;
      }
    } finally {
      buffer.peek = readBuffer;
      conn.seq = base;
    }
    // v86's receive path clears `pending` on every ACK that advances and then calls pump again.
    conn.pending = inFlight > 0;
  };
}
