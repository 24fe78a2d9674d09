// pipelineSends against a stand-in with v86 0.5.462's TCPConnection send semantics: pump() sends one segment
// of send_buffer at `seq` unless `pending`; an advancing ACK removes bytes, moves seq, clears pending, pumps.
import { describe, expect, it } from 'vitest';
import { pipelineSends, type V86SendingConnection } from './v86-send-window.ts';

class Ring {
  private bytes: number[] = [];
  get length(): number {
    return this.bytes.length;
  }
  write(data: Uint8Array): void {
    this.bytes.push(...data);
  }
  peek(into: Uint8Array): number {
    const n = Math.min(into.length, this.bytes.length);
    into.set(this.bytes.slice(0, n));
    return n;
  }
  remove(n: number): void {
    this.bytes.splice(0, n);
  }
}

interface Frame {
  seq: number;
  data: Uint8Array;
}

function v86LikeConnection(mss: number, guestWindow = 65535) {
  const frames: Frame[] = [];
  const ring = new Ring();
  const conn: V86SendingConnection & { write(d: Uint8Array): void; ack(upTo: number, window?: number): void } = {
    seq: 1338,
    pending: false,
    send_buffer: ring,
    send_chunk_buf: new Uint8Array(mss),
    last: { tcp: { winsize: guestWindow } },
    pump(this: V86SendingConnection) {
      if (this.send_buffer.length && !this.pending) {
        const n = this.send_buffer.peek(this.send_chunk_buf);
        frames.push({ seq: this.seq, data: this.send_chunk_buf.slice(0, n) });
        this.pending = true;
      }
    },
    write(data: Uint8Array) {
      ring.write(data);
      this.pump();
    },
    ack(upTo: number, window?: number) {
      // v86's process(): the segment becomes `last`, then the ACK is applied, then pump.
      if (window !== undefined) this.last = { tcp: { winsize: window } };
      const advanced = upTo - this.seq;
      if (advanced > 0) {
        ring.remove(advanced);
        this.seq += advanced;
        this.pending = false;
      }
      this.pump();
    },
  };
  return { conn, frames };
}

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
}

describe('pipelineSends', () => {
  it('sends up to the window at once, each segment at its own sequence number', () => {
    const { conn, frames } = v86LikeConnection(1000);
    pipelineSends(conn, 4000);
    conn.write(bytes(10_000));
    expect(frames.map((f) => [f.seq, f.data.length])).toEqual([
      [1338, 1000],
      [2338, 1000],
      [3338, 1000],
      [4338, 1000],
    ]);
    expect(conn.seq).toBe(1338);
  });

  it('delivers every byte once, in order, as ACKs open the window', () => {
    const { conn, frames } = v86LikeConnection(1000);
    pipelineSends(conn, 3000);
    const payload = bytes(10_500);
    conn.write(payload);
    // The guest ACKs every second segment, as Linux does.
    for (let i = 0; i < 50 && conn.send_buffer.length; i++) {
      const sentUpTo = Math.max(...frames.map((f) => f.seq + f.data.length));
      conn.ack(Math.min(sentUpTo, conn.seq + 2000));
    }
    expect(conn.send_buffer.length).toBe(0);
    const received = new Uint8Array(payload.length);
    for (const f of frames) received.set(f.data, f.seq - 1338);
    expect(received).toEqual(payload);
    const seqs = frames.map((f) => f.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('keeps within the window the guest advertises', () => {
    const { conn, frames } = v86LikeConnection(1000, 1500);
    pipelineSends(conn, 32_000);
    conn.write(bytes(5000));
    expect(frames.map((f) => f.data.length)).toEqual([1000, 500]);
  });

  it('sends nothing into a zero window, and goes on when the guest reopens it', () => {
    const { conn, frames } = v86LikeConnection(1000);
    pipelineSends(conn, 4000);
    const payload = bytes(9000);
    conn.write(payload);
    expect(frames).toHaveLength(4);
    // The guest takes the four segments into a full buffer: it ACKs them with a zero window.
    conn.ack(1338 + 4000, 0);
    expect(frames).toHaveLength(4);
    // Its application reads: a window update with the same ACK number.
    conn.ack(1338 + 4000, 2500);
    expect(frames.slice(4).map((f) => [f.seq, f.data.length])).toEqual([
      [5338, 1000],
      [6338, 1000],
      [7338, 500],
    ]);
    conn.ack(1338 + 6500, 65535);
    conn.ack(1338 + 9000, 65535);
    const received = new Uint8Array(payload.length);
    for (const f of frames) received.set(f.data, f.seq - 1338);
    expect(received).toEqual(payload);
    expect(conn.send_buffer.length).toBe(0);
  });

  it('sends what is written later without waiting for an ACK, and nothing twice', () => {
    const { conn, frames } = v86LikeConnection(1000);
    pipelineSends(conn, 8000);
    conn.write(bytes(500));
    conn.write(bytes(700));
    expect(frames.map((f) => [f.seq, f.data.length])).toEqual([
      [1338, 500],
      [1838, 700],
    ]);
    conn.ack(1338 + 1200);
    conn.ack(1338 + 1200);
    expect(frames).toHaveLength(2);
    expect(conn.pending).toBe(false);
  });

  it('leaves a connection that is not shaped like v86 0.5.462 alone', () => {
    const pump = () => undefined;
    const odd = { seq: 0, pending: false, send_buffer: { length: 0 }, pump } as unknown as V86SendingConnection;
    pipelineSends(odd);
    expect(odd.pump).toBe(pump);
  });
});
