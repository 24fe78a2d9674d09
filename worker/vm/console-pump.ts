// Moves console bytes between the host and the guest without flooding either side: output is batched into a
// few events per frame, input is fed only as fast as the guest posts receive buffers (v86 drops the rest).
import { concatBytes } from './bytes.ts';

/** Timer functions, injectable so tests can drive time by hand. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};


export interface OutputBatcherOptions {
  /** Called with each batch; never with an empty array. */
  flush: (data: Uint8Array) => void;
  /** Longest a byte waits before it is delivered (one display frame by default). */
  flushIntervalMs?: number;
  /** Deliver at once when this much is waiting, so a fast stream still goes out in bounded pieces. */
  maxBatchBytes?: number;
  timers?: Timers;
}

/** Collects output chunks (v86 may send one per byte on a UART) and delivers them in batches. */
export class OutputBatcher {
  private readonly chunks: Uint8Array[] = [];
  private pendingBytes = 0;
  private timer: unknown = undefined;
  private readonly flushIntervalMs: number;
  private readonly maxBatchBytes: number;
  private readonly timers: Timers;

  constructor(private readonly options: OutputBatcherOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 16;
    this.maxBatchBytes = options.maxBatchBytes ?? 64 * 1024;
    this.timers = options.timers ?? realTimers;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    // v86 may reuse its buffer after the event returns: keep a private copy.
    this.chunks.push(data.slice());
    this.pendingBytes += data.length;
    if (this.pendingBytes >= this.maxBatchBytes) {
      this.flushNow();
    } else if (this.timer === undefined) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.flushNow();
      }, this.flushIntervalMs);
    }
  }

  pushByte(byte: number): void {
    this.push(Uint8Array.of(byte));
  }

  flushNow(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pendingBytes === 0) return;
    const batch = concatBytes(this.chunks, this.pendingBytes);
    this.chunks.length = 0;
    this.pendingBytes = 0;
    this.options.flush(batch);
  }

  dispose(): void {
    this.flushNow();
  }
}

export interface InputPumpOptions {
  /** Bytes the guest can take right now (0 = no receive buffer posted). */
  capacity: () => number;
  /** Hand one chunk to the guest; it is never larger than the last capacity() answer. */
  send: (chunk: Uint8Array) => void;
  /** How soon to look again when the guest has no buffer posted. */
  retryMs?: number;
  /** Upper bound per chunk even when the guest posted a bigger buffer. */
  maxChunkBytes?: number;
  /** Upper bound per drain, so a big paste yields to the emulator between rounds instead of freezing it. */
  maxBytesPerDrain?: number;
  timers?: Timers;
}

/**
 * Queues input and feeds it in chunks that fit the guest's posted receive buffers. When the guest has none
 * posted (busy, or its tty is throttled) the pump waits and retries, so nothing is dropped or cut.
 */
export class InputPump {
  private readonly queue: Uint8Array[] = [];
  /** Offset into queue[0] of the first byte not yet sent. */
  private headOffset = 0;
  private queuedBytes = 0;
  private timer: unknown = undefined;
  private disposed = false;
  private readonly retryMs: number;
  private readonly maxChunkBytes: number;
  private readonly maxBytesPerDrain: number;
  private readonly timers: Timers;

  constructor(private readonly options: InputPumpOptions) {
    this.retryMs = options.retryMs ?? 4;
    this.maxChunkBytes = options.maxChunkBytes ?? 4096;
    this.maxBytesPerDrain = options.maxBytesPerDrain ?? 64 * 1024;
    this.timers = options.timers ?? realTimers;
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  write(data: Uint8Array): void {
    if (this.disposed || data.length === 0) return;
    this.queue.push(data.slice());
    this.queuedBytes += data.length;
    if (this.timer === undefined) this.drain();
  }

  /** Sends what fits now; schedules another look if bytes remain. */
  drain(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    let sentThisRound = 0;
    while (this.queuedBytes > 0 && sentThisRound < this.maxBytesPerDrain) {
      const capacityBytes = Math.min(this.options.capacity(), this.maxChunkBytes);
      if (capacityBytes <= 0) break;
      const chunk = this.take(capacityBytes);
      this.options.send(chunk);
      sentThisRound += chunk.length;
    }
    if (this.queuedBytes > 0 && !this.disposed) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, this.retryMs);
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.headOffset = 0;
  }

  private take(maxBytes: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let takenBytes = 0;
    while (takenBytes < maxBytes && this.queue.length > 0) {
      const head = this.queue[0]!;
      const available = head.length - this.headOffset;
      const count = Math.min(available, maxBytes - takenBytes);
      parts.push(head.subarray(this.headOffset, this.headOffset + count));
      takenBytes += count;
      this.headOffset += count;
      if (this.headOffset === head.length) {
        this.queue.shift();
        this.headOffset = 0;
      }
    }
    this.queuedBytes -= takenBytes;
    return parts.length === 1 ? parts[0]! : concatBytes(parts, takenBytes);
  }
}
