import { describe, expect, it } from 'vitest';
import { splitFinWithData, type V86TcpPacket } from './v86-fin-with-data.ts';

describe('splitFinWithData', () => {
  function connection() {
    const seen: Array<{ fin: boolean; seq: number; data: string }> = [];
    const conn = {
      self: undefined as unknown,
      process(this: unknown, packet: V86TcpPacket) {
        conn.self = this;
        seen.push({ fin: packet.tcp.fin === true, seq: packet.tcp.seq, data: new TextDecoder().decode(packet.tcp_data) });
      },
    };
    return { conn, seen };
  }

  it('turns FIN+data into a data segment, then a FIN one sequence number past the data', () => {
    const { conn, seen } = connection();
    splitFinWithData(conn);
    conn.process({ tcp: { seq: 100, fin: true, ack: true }, tcp_data: new TextEncoder().encode('tail') });
    expect(seen).toEqual([
      { fin: false, seq: 100, data: 'tail' },
      { fin: true, seq: 104, data: '' },
    ]);
    expect(conn.self).toBe(conn);
  });

  it('passes data-only and bare-FIN segments through unchanged', () => {
    const { conn, seen } = connection();
    splitFinWithData(conn);
    conn.process({ tcp: { seq: 1, ack: true }, tcp_data: new TextEncoder().encode('ab') });
    conn.process({ tcp: { seq: 3, fin: true }, tcp_data: new Uint8Array(0) });
    expect(seen).toEqual([
      { fin: false, seq: 1, data: 'ab' },
      { fin: true, seq: 3, data: '' },
    ]);
  });
});
