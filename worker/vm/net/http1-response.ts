// HTTP/1.1 from the other direction: the request head we send into a guest port and an incremental parser for
// the response that comes back (port preview, worker/vm/net/guest-http-client.ts). Bytes in, events out, never
// throws. Message framing per RFC 9112 §6.3 (length, chunked, or until close) and §7.1 (chunked coding).
import { concatBytes, encodeLatin1, HOP_BY_HOP_HEADERS } from './http1.ts';

export interface OutgoingRequest {
  method: string;
  /** origin-form: starts with '/', may carry a query. */
  target: string;
  /** Value of the Host header, e.g. `localhost:8080`. */
  host: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Uint8Array;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;

/** Request line and headers, ending in the blank line; throws on a method or target that would break framing. */
export function formatRequestHead(request: OutgoingRequest): Uint8Array {
  if (!TOKEN.test(request.method)) throw new Error(`invalid HTTP method ${JSON.stringify(request.method)}`);
  if (!ORIGIN_FORM.test(request.target)) throw new Error(`invalid request target ${JSON.stringify(request.target.slice(0, 80))}`);
  let head = `${request.method} ${request.target} HTTP/1.1\r\nhost: ${request.host}\r\n`;
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    // Framing and connection handling are ours: one request per connection, length from the body we send.
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) continue;
    if (name === 'host' || name === 'content-length' || HOP_BY_HOP_HEADERS.has(name)) continue;
    head += `${name}: ${value}\r\n`;
  }
  const bodyBytes = request.body?.length ?? 0;
  if (bodyBytes > 0 || !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(request.method)) head += `content-length: ${bodyBytes}\r\n`;
  head += 'connection: close\r\n\r\n';
  return encodeLatin1(head);
}

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Lower-case names in arrival order. */
  headers: Array<[name: string, value: string]>;
}

export type ResponseEvent =
  | { type: 'head'; head: ResponseHead }
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'end' }
  | { type: 'error'; message: string };

export interface ResponseParserOptions {
  /** HEAD responses have no body whatever their headers say (RFC 9110 §9.3.2). */
  requestMethod: string;
  maxHeadBytes?: number;
}

type State =
  | { kind: 'head' }
  | { kind: 'length'; remainingBytes: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remainingBytes: number }
  | { kind: 'chunk-crlf' }
  | { kind: 'trailers' }
  | { kind: 'until-close' }
  | { kind: 'done' }
  | { kind: 'failed' };

const CR = 13;
const LF = 10;

export class Http1ResponseParser {
  private buffer = new Uint8Array(0);
  private state: State = { kind: 'head' };
  private readonly maxHeadBytes: number;

  constructor(private readonly options: ResponseParserOptions) {
    this.maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
  }

  private headSeen = false;

  /** Whether the final head has arrived (an error after it can only cut the body short). */
  get sawHead(): boolean {
    return this.headSeen;
  }

  push(bytes: Uint8Array): ResponseEvent[] {
    if (this.state.kind === 'failed' || this.state.kind === 'done') return [];
    this.append(bytes);
    const events: ResponseEvent[] = [];
    // Each true step consumed bytes or moved the state on; false means it needs more bytes or is finished.
    while (this.step(events));
    return events;
  }

  /** The server closed the connection: the end of an until-close body, or a truncated response. */
  end(): ResponseEvent[] {
    switch (this.state.kind) {
      case 'done':
      case 'failed':
        return [];
      case 'until-close':
        this.state = { kind: 'done' };
        return [{ type: 'end' }];
      case 'head':
        return this.fail(this.buffer.length === 0 ? 'the server closed the connection without answering' : 'the server closed the connection in the middle of the response head');
      default:
        return this.fail('the server closed the connection before the whole response body arrived');
    }
  }

  private fail(message: string): ResponseEvent[] {
    this.state = { kind: 'failed' };
    this.buffer = new Uint8Array(0);
    return [{ type: 'error', message }];
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length > 0) this.buffer = concatBytes(this.buffer, bytes);
  }

  private take(byteCount: number): Uint8Array {
    const taken = this.buffer.slice(0, byteCount);
    this.buffer = this.buffer.subarray(byteCount);
    return taken;
  }

  /** Index of the first CRLF at or after `from`, or -1. */
  private findLineEnd(from = 0): number {
    for (let i = from; i + 1 < this.buffer.length; i++) {
      if (this.buffer[i] === CR && this.buffer[i + 1] === LF) return i;
    }
    return -1;
  }

  /** Runs one transition; false when it needs more bytes or the message is over. */
  private step(events: ResponseEvent[]): boolean {
    const state = this.state;
    switch (state.kind) {
      case 'head':
        return this.stepHead(events);
      case 'length': {
        if (this.buffer.length === 0) return false;
        const bytes = this.take(Math.min(state.remainingBytes, this.buffer.length));
        events.push({ type: 'data', bytes });
        const remainingBytes = state.remainingBytes - bytes.length;
        if (remainingBytes === 0) return this.finish(events);
        this.state = { kind: 'length', remainingBytes };
        return false;
      }
      case 'chunk-size': {
        const lineEnd = this.findLineEnd();
        if (lineEnd === -1) {
          if (this.buffer.length > 1024) events.push(...this.fail('malformed chunked body: chunk-size line too long'));
          return false;
        }
        const line = latin1(this.take(lineEnd + 2).subarray(0, lineEnd));
        const sizeText = (line.split(';')[0] ?? '').trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
          events.push(...this.fail(`malformed chunked body: bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`));
          return false;
        }
        const size = parseInt(sizeText, 16);
        this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remainingBytes: size };
        return true;
      }
      case 'chunk-data': {
        if (this.buffer.length === 0) return false;
        const bytes = this.take(Math.min(state.remainingBytes, this.buffer.length));
        events.push({ type: 'data', bytes });
        const remainingBytes = state.remainingBytes - bytes.length;
        this.state = remainingBytes === 0 ? { kind: 'chunk-crlf' } : { kind: 'chunk-data', remainingBytes };
        return remainingBytes === 0;
      }
      case 'chunk-crlf': {
        if (this.buffer.length < 2) return false;
        if (this.buffer[0] !== CR || this.buffer[1] !== LF) {
          events.push(...this.fail('malformed chunked body: chunk data not followed by CRLF'));
          return false;
        }
        this.take(2);
        this.state = { kind: 'chunk-size' };
        return true;
      }
      case 'trailers': {
        // Trailer fields are read and dropped (RFC 9112 §7.1.2); an empty line ends the message.
        const lineEnd = this.findLineEnd();
        if (lineEnd === -1) return false;
        this.take(lineEnd + 2);
        return lineEnd === 0 ? this.finish(events) : true;
      }
      case 'until-close':
        if (this.buffer.length === 0) return false;
        events.push({ type: 'data', bytes: this.take(this.buffer.length) });
        return false;
      case 'done':
      case 'failed':
        return false;
      default: {
        const unreachable: never = state;
        return unreachable;
      }
    }
  }

  private finish(events: ResponseEvent[]): boolean {
    this.state = { kind: 'done' };
    this.buffer = new Uint8Array(0);
    events.push({ type: 'end' });
    return false;
  }

  private stepHead(events: ResponseEvent[]): boolean {
    let headEnd = -1;
    for (let i = 0; i + 3 < this.buffer.length; i++) {
      if (this.buffer[i] === CR && this.buffer[i + 1] === LF && this.buffer[i + 2] === CR && this.buffer[i + 3] === LF) {
        headEnd = i;
        break;
      }
    }
    if (headEnd === -1) {
      if (this.buffer.length >= 5 && latin1(this.buffer.subarray(0, 5)) !== 'HTTP/') {
        events.push(...this.fail('the server did not answer with HTTP (is this port serving another protocol?)'));
      } else if (this.buffer.length > this.maxHeadBytes) {
        events.push(...this.fail(`the response head exceeds ${this.maxHeadBytes} bytes`));
      }
      return false;
    }
    const lines = latin1(this.take(headEnd + 4).subarray(0, headEnd)).split('\r\n');
    const statusMatch = /^HTTP\/1\.[01] ([0-9]{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (!statusMatch) {
      events.push(...this.fail(`malformed status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`));
      return false;
    }
    const status = Number(statusMatch[1]);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) {
        events.push(...this.fail(`malformed header line ${JSON.stringify(line.slice(0, 80))}`));
        return false;
      }
      headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
    }
    // Interim responses (100 Continue, 103 Early Hints) precede the real one (RFC 9110 §15.2).
    if (status >= 100 && status < 200 && status !== 101) return true;
    this.headSeen = true;
    events.push({ type: 'head', head: { status, statusText: statusMatch[2] ?? '', headers } });
    const valuesOf = (wanted: string) => headers.filter(([n]) => n === wanted).map(([, v]) => v);
    if (this.options.requestMethod === 'HEAD' || status === 204 || status === 304 || status === 101) return this.finish(events);
    const codings = valuesOf('transfer-encoding').join(',').toLowerCase();
    if (codings.trim() !== '') {
      // RFC 9112 §6.3 item 4: chunked last means chunked; any other coding is delimited by the close.
      this.state = codings.split(',').map((c) => c.trim()).at(-1) === 'chunked' ? { kind: 'chunk-size' } : { kind: 'until-close' };
      return true;
    }
    const lengths = valuesOf('content-length').flatMap((v) => v.split(',').map((s) => s.trim()));
    if (lengths.length > 0) {
      const first = lengths[0] ?? '';
      if (!/^[0-9]{1,15}$/.test(first) || lengths.some((l) => l !== first)) {
        events.push(...this.fail('invalid Content-Length in the response'));
        return false;
      }
      const remainingBytes = Number(first);
      if (remainingBytes === 0) return this.finish(events);
      this.state = { kind: 'length', remainingBytes };
      return true;
    }
    this.state = { kind: 'until-close' };
    return true;
  }
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}
