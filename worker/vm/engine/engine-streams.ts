// The two stream framings the Engine API uses in response bodies (already de-chunked by http1-response.ts):
// newline-delimited JSON (/events, /images/create progress) and the multiplexed log stream of a container
// without a TTY (an 8-byte header per frame: stream byte, 3 zero bytes, big-endian length; moby pkg/stdcopy).

export type JsonLine = { kind: 'json'; value: unknown } | { kind: 'text'; text: string };

/** Splits bytes into lines and parses each as JSON; a line that is not JSON comes out as text. */
export class JsonLineDecoder {
  private readonly decoder = new TextDecoder();
  private pending = '';

  constructor(private readonly maxLineChars = 1024 * 1024) {}

  push(bytes: Uint8Array): JsonLine[] {
    this.pending += this.decoder.decode(bytes, { stream: true });
    const out: JsonLine[] = [];
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line !== '') out.push(parseLine(line));
      newline = this.pending.indexOf('\n');
    }
    // A runaway line (no newline in a megabyte) is cut and shown, rather than growing without bound.
    if (this.pending.length > this.maxLineChars) {
      out.push({ kind: 'text', text: `${this.pending.slice(0, 200)}… [${this.pending.length} characters without a line break]` });
      this.pending = '';
    }
    return out;
  }

  /** The stream ended: a last line without its newline. */
  end(): JsonLine[] {
    const line = (this.pending + this.decoder.decode()).trim();
    this.pending = '';
    return line === '' ? [] : [parseLine(line)];
  }
}

function parseLine(line: string): JsonLine {
  try {
    return { kind: 'json', value: JSON.parse(line) as unknown };
  } catch {
    return { kind: 'text', text: line };
  }
}

export type LogChunk = { stream: 'stdout' | 'stderr'; text: string };

const HEADER_BYTES = 8;

/**
 * Container logs: multiplexed frames unless the container has a TTY (then the body is the raw terminal
 * output). Text is decoded per stream, so a UTF-8 character split across frames stays whole.
 */
export class LogStreamDecoder {
  private buffer = new Uint8Array(0);
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly multiplexed: boolean) {}

  push(bytes: Uint8Array): LogChunk[] {
    if (!this.multiplexed) return [{ stream: 'stdout', text: this.decoders.stdout.decode(bytes, { stream: true }) }];
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    const out: LogChunk[] = [];
    let offset = 0;
    while (joined.length - offset >= HEADER_BYTES) {
      const streamByte = joined[offset] ?? 0;
      const size = new DataView(joined.buffer, joined.byteOffset + offset + 4, 4).getUint32(0);
      if (joined.length - offset - HEADER_BYTES < size) break;
      const payload = joined.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + size);
      // 0 stdin (never sent for logs), 1 stdout, 2 stderr, 3 the daemon's own error for attach streams.
      const stream = streamByte === 1 ? 'stdout' : 'stderr';
      const text = this.decoders[stream].decode(payload, { stream: true });
      if (text !== '') out.push({ stream, text });
      offset += HEADER_BYTES + size;
    }
    this.buffer = joined.slice(offset);
    return out;
  }
}
