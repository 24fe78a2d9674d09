// Works around v86 0.5.462's TCP receive path (src/browser/fake_network.js, TCPConnection.prototype.process):
// a segment that carries FIN *and* data is taken as a bare FIN, its data dropped and never acknowledged.
// Linux piggybacks FIN on the last data segment whenever a server writes its answer and closes at once
// (busybox httpd does, for every small file), so a preview response would lose its tail. Splitting such a
// segment into a data segment and a FIN segment before v86 sees it gives v86 two cases it handles.

/** The fields of v86's parsed packet that the split touches (fake_network.js parse_tcp). */
export interface V86TcpPacket {
  tcp: { seq: number; fin?: boolean; psh?: boolean; [field: string]: unknown };
  tcp_data: Uint8Array;
  [layer: string]: unknown;
}

export interface V86ProcessingConnection {
  /** Called by the adapter for every segment of this connection; an own property here shadows the prototype's. */
  process?(packet: V86TcpPacket): void;
}

/** Installs the split on one connection we opened; a connection without `process` (another v86) is left alone. */
export function splitFinWithData(conn: V86ProcessingConnection): void {
  const original = conn.process;
  if (typeof original !== 'function') return;
  conn.process = function (this: unknown, packet: V86TcpPacket): void {
    if (!packet.tcp?.fin || !(packet.tcp_data?.length > 0)) {
      original.call(conn, packet);
      return;
    }
    original.call(conn, { ...packet, tcp: { ...packet.tcp, fin: false } });
    // RFC 9293 §3.4: the FIN occupies the sequence number after the segment's data.
    original.call(conn, { ...packet, tcp: { ...packet.tcp, seq: packet.tcp.seq + packet.tcp_data.length, psh: false }, tcp_data: new Uint8Array(0) });
  };
}
