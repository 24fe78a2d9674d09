// HTTP/1.1 framing for the guest-facing side of the network shim: an incremental request parser (bytes in,
// whole requests out, never throws) and the response-head writer. No I/O here; http1-connection.ts drives it.
// Grammar and rules from RFC 9112 (HTTP/1.1 message syntax) and RFC 9110 (semantics).

export interface Http1Limits {
  /** Request line plus all header lines plus the blank line (RFC 9112 §2.3 leaves the limit to us). */
  maxHeadBytes: number;
  maxHeaderCount: number;
  /** Bodies are buffered whole: the guest only sends small ones (registry pulls send none). */
  maxBodyBytes: number;
}

export const DEFAULT_HTTP1_LIMITS: Http1Limits = {
  maxHeadBytes: 32 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 8 * 1024 * 1024,
};

export interface Http1Request {
  method: string;
  /** The request-target as sent: origin-form (`/v2/`) or absolute-form (`http://host/x`). */
  target: string;
  version: '1.0' | '1.1';
  /** Lower-case names, in arrival order; repeated names kept as separate entries. */
  headers: Array<[name: string, value: string]>;
  body: Uint8Array;
  /** Whether the connection may carry another request after this one (RFC 9112 §9.3). */
  keepAlive: boolean;
}

/** Statuses the parser answers with itself before closing the connection. */
export type Http1ErrorStatus = 400 | 413 | 431 | 501 | 505;

export type Http1ParseEvent =
  | { type: 'request'; request: Http1Request }
  | { type: 'error'; status: Http1ErrorStatus; message: string };

const CR = 13;
const LF = 10;
// RFC 9110 §5.6.2 tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text (0x80-0xFF), space and tab; never CR, LF or NUL (RFC 9110 §5.5).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^[0-9]+$/;
const TCHAR_BYTES: readonly boolean[] = Array.from({ length: 256 }, (_, b) => TOKEN.test(String.fromCharCode(b)));

type ParserState = { kind: 'head' } | { kind: 'body'; request: Http1Request; remainingBytes: number } | { kind: 'failed' };

export class Http1RequestParser {
  private buffer = new Uint8Array(0);
  /** Where the search for the end of the head resumes, so a slowly arriving head is scanned once. */
  private scanFrom = 0;
  private state: ParserState = { kind: 'head' };
  private readonly limits: Http1Limits;

  constructor(limits: Partial<Http1Limits> = {}) {
    this.limits = { ...DEFAULT_HTTP1_LIMITS, ...limits };
  }

  /** Whether the parser gave up; the connection must be closed after the error response. */
  get failed(): boolean {
    return this.state.kind === 'failed';
  }

  /** Whether bytes of an unfinished request are waiting (used to tell a clean close from a truncated one). */
  get hasPartialRequest(): boolean {
    return this.state.kind === 'body' || (this.state.kind === 'head' && this.buffer.length > 0);
  }

  /** Feeds bytes; returns every request (or the one error) they complete. Never throws. */
  push(bytes: Uint8Array): Http1ParseEvent[] {
    if (this.state.kind === 'failed') return [];
    this.append(bytes);
    const events: Http1ParseEvent[] = [];
    for (;;) {
      const event = this.step();
      if (event === undefined) break;
      events.push(event);
      if (event.type === 'error') {
        this.fail();
        break;
      }
    }
    return events;
  }

  /** The peer half-closed its side: a request cut short is an error, an idle connection is not. */
  end(): Http1ParseEvent[] {
    if (this.state.kind === 'failed' || !this.hasPartialRequest) return [];
    this.fail();
    return [{ type: 'error', status: 400, message: 'connection closed in the middle of a request' }];
  }

  private fail(): void {
    this.state = { kind: 'failed' };
    this.buffer = new Uint8Array(0);
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length > 0) this.buffer = concatBytes(this.buffer, bytes);
  }

  private consume(byteCount: number): Uint8Array {
    const taken = this.buffer.slice(0, byteCount);
    this.buffer = this.buffer.slice(byteCount);
    this.scanFrom = 0;
    return taken;
  }

  private step(): Http1ParseEvent | undefined {
    switch (this.state.kind) {
      case 'failed':
        return undefined;
      case 'body': {
        const { request, remainingBytes } = this.state;
        if (this.buffer.length < remainingBytes) return undefined;
        request.body = this.consume(remainingBytes);
        this.state = { kind: 'head' };
        return { type: 'request', request };
      }
      case 'head':
        return this.stepHead();
      default: {
        const unreachable: never = this.state;
        return unreachable;
      }
    }
  }

  private stepHead(): Http1ParseEvent | undefined {
    // RFC 9112 §2.2: ignore at least one empty line before the request line.
    let skip = 0;
    while (skip + 1 < this.buffer.length && this.buffer[skip] === CR && this.buffer[skip + 1] === LF) skip += 2;
    if (skip > 0) this.consume(skip);
    const headEnd = this.findHeadEnd();
    if (headEnd === -1) {
      // Fail fast on what cannot become a request line (a TLS ClientHello starts with 0x16): waiting for a
      // CRLFCRLF that never comes would stall a client that tries HTTPS first until its handshake times out.
      if (!this.couldStartRequestLine()) return bad('this port speaks plain HTTP/1.1, not TLS or another protocol');
      if (this.buffer.length > this.limits.maxHeadBytes) {
        return { type: 'error', status: 431, message: `request head exceeds ${this.limits.maxHeadBytes} bytes` };
      }
      return undefined;
    }
    if (headEnd + 4 > this.limits.maxHeadBytes) {
      return { type: 'error', status: 431, message: `request head exceeds ${this.limits.maxHeadBytes} bytes` };
    }
    const head = latin1(this.consume(headEnd + 4).subarray(0, headEnd));
    const parsed = this.parseHead(head);
    if (parsed.type === 'error') return parsed;
    const { request, bodyBytes } = parsed;
    if (bodyBytes === 0) return { type: 'request', request };
    this.state = { kind: 'body', request, remainingBytes: bodyBytes };
    return this.step();
  }

  /** Whether the buffered bytes are a possible start of `METHOD SP`: tchars, then a space. */
  private couldStartRequestLine(): boolean {
    for (let i = 0; i < this.buffer.length; i++) {
      const byte = this.buffer[i] ?? 0;
      if (byte === 0x20) return i > 0;
      if (!TCHAR_BYTES[byte]) return false;
    }
    return true;
  }

  private findHeadEnd(): number {
    const buf = this.buffer;
    for (let i = Math.max(0, this.scanFrom - 3); i + 3 < buf.length; i++) {
      if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i;
    }
    this.scanFrom = buf.length;
    return -1;
  }

  private parseHead(
    head: string,
  ): { type: 'ok'; request: Http1Request; bodyBytes: number } | { type: 'error'; status: Http1ErrorStatus; message: string } {
    const lines = head.split('\r\n');
    const requestLine = lines[0] ?? '';
    const parts = requestLine.split(' ');
    if (parts.length !== 3) return bad(`malformed request line ${JSON.stringify(requestLine.slice(0, 80))}`);
    const [method = '', target = '', versionText = ''] = parts;
    if (!TOKEN.test(method)) return bad('malformed method');
    if (target.length === 0 || /[\x00-\x20\x7f-\xff]/.test(target)) return bad('malformed request target');
    let version: '1.0' | '1.1';
    if (versionText === 'HTTP/1.1') version = '1.1';
    else if (versionText === 'HTTP/1.0') version = '1.0';
    else if (/^HTTP\/[0-9]\.[0-9]$/.test(versionText)) {
      return { type: 'error', status: 505, message: `${versionText} is not supported; use HTTP/1.1` };
    } else return bad('malformed HTTP version');

    const headers: Array<[string, string]> = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      // RFC 9112 §5.2: obsolete line folding may be rejected with 400.
      if (line.startsWith(' ') || line.startsWith('\t')) return bad('obsolete header line folding');
      const colon = line.indexOf(':');
      if (colon <= 0) return bad('header line without a name');
      const name = line.slice(0, colon);
      // RFC 9112 §5.1: no whitespace between the field name and the colon.
      if (!TOKEN.test(name)) return bad(`malformed header name ${JSON.stringify(name.slice(0, 40))}`);
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (!FIELD_VALUE.test(value)) return bad(`header ${name} has a forbidden character`);
      headers.push([name.toLowerCase(), value]);
      if (headers.length > this.limits.maxHeaderCount) {
        return { type: 'error', status: 431, message: `more than ${this.limits.maxHeaderCount} headers` };
      }
    }

    const valuesOf = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
    if (version === '1.1' && valuesOf('host').length !== 1) return bad('HTTP/1.1 requires exactly one Host header');
    if (valuesOf('transfer-encoding').length > 0) {
      // RFC 9112 §6.1 allows refusing transfer codings we do not implement; the guest's pulls never send bodies.
      return { type: 'error', status: 501, message: 'chunked request bodies are not supported; send Content-Length' };
    }
    let bodyBytes = 0;
    const lengths = valuesOf('content-length').flatMap((v) => v.split(',').map((s) => s.trim()));
    if (lengths.length > 0) {
      const first = lengths[0] ?? '';
      // RFC 9112 §6.3: differing or invalid Content-Length values are unrecoverable errors.
      if (!DIGITS.test(first) || lengths.some((l) => l !== first)) return bad('invalid Content-Length');
      if (first.length > 15 || Number(first) > this.limits.maxBodyBytes) {
        return { type: 'error', status: 413, message: `request body larger than ${this.limits.maxBodyBytes} bytes` };
      }
      bodyBytes = Number(first);
    }
    const connection = valuesOf('connection').join(',').toLowerCase().split(',').map((s) => s.trim());
    const keepAlive = version === '1.1' ? !connection.includes('close') : connection.includes('keep-alive');
    return {
      type: 'ok',
      request: { method, target, version, headers, body: new Uint8Array(0), keepAlive },
      bodyBytes,
    };
  }
}

function bad(message: string): { type: 'error'; status: 400; message: string } {
  return { type: 'error', status: 400, message };
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  // Chunked so a 32 KiB head does not blow the argument limit of fromCharCode.
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/**
 * A header's value, repeated lines joined with ", " (RFC 9110 §5.3). Go clients, dockerd among them, send one
 * `Accept` line per media type: reading only the first would hide the OCI index types.
 */
export function headerValue(request: Http1Request, name: string): string | undefined {
  const lower = name.toLowerCase();
  const values = request.headers.filter(([n]) => n === lower).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect',
  308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Content Too Large', 416: 'Range Not Satisfiable',
  424: 'Failed Dependency', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Status';
}

/** Serialises a status line and headers; values with CR/LF are dropped so upstream data cannot split the head. */
export function formatResponseHead(status: number, headers: Iterable<[string, string]>): Uint8Array {
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  head += '\r\n';
  return encodeLatin1(head);
}

/** `head` followed by `tail` in a new array (a copy even when one side is empty; callers may keep their input). */
export function concatBytes(head: Uint8Array, tail: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(head.length + tail.length);
  joined.set(head);
  joined.set(tail, head.length);
  return joined;
}

export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** RFC 9112 §9.6 and RFC 9110 §7.6.1: headers that describe one hop and never pass through. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization',
]);
