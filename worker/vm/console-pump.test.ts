// Unit tests for output batching and flow-controlled input, with a hand-driven clock and a fake guest queue.
import { describe, expect, it } from 'vitest';
import { InputPump, OutputBatcher, type Timers } from './console-pump.ts';

/** A clock the test advances by hand. */
function manualTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let nowMs = 0;
  let nextId = 1;
  const timers = new Map<number, { atMs: number; callback: () => void }>();
  return {
    setTimeout(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { atMs: nowMs + delayMs, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const target = nowMs + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.atMs <= target).sort((a, b) => a[1].atMs - b[1].atMs)[0];
        if (!due) break;
        timers.delete(due[0]);
        nowMs = due[1].atMs;
        due[1].callback();
      }
      nowMs = target;
    },
    pending: () => timers.size,
  };
}

describe('OutputBatcher', () => {
  it('joins many small chunks into one event per interval', () => {
    const timers = manualTimers();
    const batches: Uint8Array[] = [];
    const batcher = new OutputBatcher({ flush: (data) => batches.push(data), flushIntervalMs: 16, timers });
    for (const byte of new TextEncoder().encode('hello world')) batcher.pushByte(byte);
    expect(batches).toHaveLength(0);
    timers.advance(16);
    expect(batches).toHaveLength(1);
    expect(new TextDecoder().decode(batches[0])).toBe('hello world');
  });

  it('flushes at once when the size limit is reached', () => {
    const timers = manualTimers();
    const batches: Uint8Array[] = [];
    const batcher = new OutputBatcher({ flush: (data) => batches.push(data), maxBatchBytes: 8, timers });
    batcher.push(new Uint8Array(5));
    batcher.push(new Uint8Array(5));
    expect(batches.map((b) => b.length)).toEqual([10]);
    expect(timers.pending()).toBe(0);
  });

  it('copies input so a reused source buffer does not change delivered bytes', () => {
    const timers = manualTimers();
    const batches: Uint8Array[] = [];
    const batcher = new OutputBatcher({ flush: (data) => batches.push(data), timers });
    const shared = Uint8Array.of(1, 2, 3);
    batcher.push(shared);
    shared.fill(9);
    batcher.flushNow();
    expect([...batches[0]!]).toEqual([1, 2, 3]);
  });
});

/** A guest that posts `buffers` receive buffers of `bufferBytes` and re-posts one per `consume()`. */
function fakeGuest(bufferBytes: number, buffers: number, initiallyPosted = buffers) {
  let posted = initiallyPosted;
  const received: number[] = [];
  return {
    capacity: () => (posted > 0 ? bufferBytes : 0),
    send: (chunk: Uint8Array) => {
      if (posted === 0) throw new Error('sent with no buffer posted: v86 would drop this');
      if (chunk.length > bufferBytes) throw new Error('chunk bigger than the buffer: v86 would cut it');
      posted--;
      received.push(...chunk);
    },
    consume: (count = buffers) => {
      posted = Math.min(buffers, posted + count);
    },
    received,
  };
}

describe('InputPump', () => {
  it('delivers a megabyte paste intact, never overrunning the posted buffers', () => {
    const timers = manualTimers();
    const guest = fakeGuest(4096, 16);
    const pump = new InputPump({ capacity: guest.capacity, send: guest.send, retryMs: 4, timers });
    const paste = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    pump.write(paste);
    let rounds = 0;
    while (pump.pendingBytes > 0 && rounds < 10_000) {
      guest.consume();
      timers.advance(4);
      rounds++;
    }
    expect(pump.pendingBytes).toBe(0);
    expect(guest.received.length).toBe(paste.length);
    // Compare without handing vitest a million-element diff to render.
    const firstDifference = guest.received.findIndex((byte, i) => byte !== paste[i]);
    expect(firstDifference).toBe(-1);
  });

  it('waits while the guest has no buffer posted and resumes when it posts one', () => {
    const timers = manualTimers();
    const guest = fakeGuest(16, 1, 0);
    const pump = new InputPump({ capacity: guest.capacity, send: guest.send, retryMs: 4, timers });
    pump.write(new TextEncoder().encode('echo $((6*7))\n'));
    timers.advance(100);
    expect(guest.received).toHaveLength(0);
    expect(pump.pendingBytes).toBe(14);
    guest.consume(1);
    timers.advance(4);
    expect(new TextDecoder().decode(Uint8Array.from(guest.received))).toBe('echo $((6*7))\n');
  });

  it('cuts chunks to the buffer size and keeps order across writes', () => {
    const timers = manualTimers();
    const guest = fakeGuest(3, 2);
    const pump = new InputPump({ capacity: guest.capacity, send: guest.send, timers });
    pump.write(new TextEncoder().encode('abcd'));
    pump.write(new TextEncoder().encode('efgh'));
    for (let i = 0; i < 10; i++) {
      guest.consume();
      timers.advance(4);
    }
    expect(new TextDecoder().decode(Uint8Array.from(guest.received))).toBe('abcdefgh');
  });

  it('yields between drains so a big paste cannot monopolise the thread', () => {
    const timers = manualTimers();
    let sent = 0;
    const pump = new InputPump({ capacity: () => 4096, send: (c) => (sent += c.length), maxBytesPerDrain: 8192, timers });
    pump.write(new Uint8Array(100_000));
    expect(sent).toBe(8192);
    timers.advance(4);
    expect(sent).toBe(16384);
  });

  it('stops retrying after dispose', () => {
    const timers = manualTimers();
    const pump = new InputPump({ capacity: () => 0, send: () => undefined, timers });
    pump.write(new Uint8Array(10));
    pump.dispose();
    expect(timers.pending()).toBe(0);
  });
});
