// A guest connection without a VM, for unit tests: bytes in from the test, bytes out recorded, and a guest that
// acknowledges a fixed number of bytes per timer tick so back-pressure can be observed.
import type { GuestSocket } from '../vm/net/guest-socket.ts';

export interface FakeSocketOptions {
  /** Bytes the simulated guest acknowledges per tick; Infinity acknowledges everything at once. */
  ackBytesPerTick?: number;
  tickMs?: number;
}

export class FakeGuestSocket implements GuestSocket {
  readonly written: Uint8Array[] = [];
  closedByShim = false;
  /** Largest amount of unacknowledged data seen, to check that the writer waits. */
  peakBufferedBytes = 0;
  private buffered = 0;
  private isClosed = false;
  private readonly dataListeners: Array<(bytes: Uint8Array) => void> = [];
  private readonly endListeners: Array<() => void> = [];
  private readonly closeListeners: Array<() => void> = [];
  private readonly closeWaiters: Array<() => void> = [];
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: FakeSocketOptions = {}) {
    const ackBytesPerTick = options.ackBytesPerTick ?? Infinity;
    if (Number.isFinite(ackBytesPerTick)) {
      this.timer = setInterval(() => {
        this.buffered = Math.max(0, this.buffered - ackBytesPerTick);
      }, options.tickMs ?? 1);
    }
  }

  // GuestSocket, as the shim sees it.
  write(bytes: Uint8Array): void {
    if (this.isClosed) throw new Error('write after close');
    this.written.push(bytes.slice());
    if (this.timer !== undefined) {
      this.buffered += bytes.length;
      this.peakBufferedBytes = Math.max(this.peakBufferedBytes, this.buffered);
    }
  }
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closedByShim = true;
    this.finish();
  }
  bufferedBytes(): number {
    return this.buffered;
  }
  get closed(): boolean {
    return this.isClosed;
  }
  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListeners.push(listener);
  }
  onEnd(listener: () => void): void {
    this.endListeners.push(listener);
  }
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  // The guest's side, driven by the test.
  send(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const listener of this.dataListeners) listener(bytes);
  }
  halfClose(): void {
    for (const listener of this.endListeners) listener();
  }
  reset(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const listener of this.closeListeners) listener();
    this.finish();
  }
  output(): Uint8Array {
    const total = this.written.reduce((sum, b) => sum + b.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const bytes of this.written) {
      out.set(bytes, offset);
      offset += bytes.length;
    }
    return out;
  }
  outputText(): string {
    return new TextDecoder('latin1').decode(this.output());
  }
  /** Resolves when the shim (or the test) closes the connection. */
  whenClosed(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }
  dispose(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private finish(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const waiter of this.closeWaiters.splice(0)) waiter();
  }
}

export interface ParsedResponse {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/**
 * Splits recorded output into responses (Content-Length, chunked, or to-end-of-stream framing). Independent of
 * the shim's writer, so a framing bug shows up as a parse failure here.
 */
export function parseResponses(output: Uint8Array, headRequests: ReadonlySet<number> = new Set()): ParsedResponse[] {
  const text = new TextDecoder('latin1').decode(output);
  const responses: ParsedResponse[] = [];
  let pos = 0;
  while (pos < output.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd === -1) throw new Error(`incomplete response head at byte ${pos}`);
    const [statusLine = '', ...lines] = text.slice(pos, headEnd).split('\r\n');
    const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
    if (!match) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const status = Number(match[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    pos = headEnd + 4;
    let body: Uint8Array;
    if (headRequests.has(responses.length) || status === 204 || status === 304) {
      body = new Uint8Array(0);
    } else if (headers.get('transfer-encoding') === 'chunked') {
      const parts: Uint8Array[] = [];
      for (;;) {
        const lineEnd = text.indexOf('\r\n', pos);
        if (lineEnd === -1) throw new Error('truncated chunk size line');
        const size = parseInt(text.slice(pos, lineEnd), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        pos = lineEnd + 2;
        if (size === 0) {
          if (text.slice(pos, pos + 2) !== '\r\n') throw new Error('missing final CRLF');
          pos += 2;
          break;
        }
        if (pos + size + 2 > output.length) throw new Error('truncated chunk');
        parts.push(output.slice(pos, pos + size));
        pos += size + 2;
      }
      body = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        body.set(part, offset);
        offset += part.length;
      }
    } else if (headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      if (pos + length > output.length) throw new Error(`truncated body: wanted ${length} bytes`);
      body = output.slice(pos, pos + length);
      pos += length;
    } else {
      body = output.slice(pos);
      pos = output.length;
    }
    responses.push({ status, headers, body });
  }
  return responses;
}
