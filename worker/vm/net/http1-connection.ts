// Serves HTTP/1.1 on one guest connection: parses requests, hands each to a handler that returns a web-standard
// Response, and writes it back with Content-Length or chunked framing, streaming the body in slices that wait
// for the guest to acknowledge (v86's TCP send buffer is unbounded, see FINDINGS.md).
import type { GuestSocket } from './guest-socket.ts';
import {
  formatResponseHead,
  HOP_BY_HOP_HEADERS,
  Http1RequestParser,
  type Http1Limits,
  type Http1ParseEvent,
  type Http1Request,
  encodeLatin1,
} from './http1.ts';

export type Http1Handler = (request: Http1Request) => Promise<Response>;

export interface Http1ServeOptions {
  limits?: Partial<Http1Limits>;
  /** Largest piece handed to the guest connection at once. */
  sliceBytes?: number;
  /** Unacknowledged bytes allowed before the writer waits. */
  highWaterBytes?: number;
  /** How often to look at the guest's acknowledgements while waiting (v86 has no drain event). */
  drainPollMs?: number;
  /** Give up on a guest that acknowledges nothing for this long. */
  stallTimeoutMs?: number;
}

const DEFAULTS = {
  sliceBytes: 64 * 1024,
  highWaterBytes: 256 * 1024,
  drainPollMs: 4,
  stallTimeoutMs: 60_000,
};

type WriteOptions = typeof DEFAULTS;

/** Runs the request loop on `socket` until either side closes. Never throws; handler failures become 500s. */
export function serveHttp1(socket: GuestSocket, handler: Http1Handler, options: Http1ServeOptions = {}): void {
  const writeOptions: WriteOptions = {
    sliceBytes: options.sliceBytes ?? DEFAULTS.sliceBytes,
    highWaterBytes: options.highWaterBytes ?? DEFAULTS.highWaterBytes,
    drainPollMs: options.drainPollMs ?? DEFAULTS.drainPollMs,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
  };
  const parser = new Http1RequestParser(options.limits);
  const queue: Http1ParseEvent[] = [];
  let busy = false;
  let peerEnded = false;

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0 && !socket.closed) {
        const event = queue.shift();
        if (event === undefined) break;
        switch (event.type) {
          case 'request': {
            const keepOpen = await respond(socket, event.request, handler, writeOptions);
            if (!keepOpen) {
              socket.close();
              return;
            }
            break;
          }
          case 'error':
            socket.write(plainHead(event.status, event.message));
            socket.close();
            return;
          default: {
            const unreachable: never = event;
            throw new Error(`unknown parse event ${JSON.stringify(unreachable)}`);
          }
        }
      }
      // The guest half-closed and every request it sent has been answered: finish our side too.
      if (peerEnded && queue.length === 0 && !socket.closed) socket.close();
    } finally {
      busy = false;
    }
  };

  socket.onData((bytes) => {
    queue.push(...parser.push(bytes));
    void pump();
  });
  socket.onEnd(() => {
    peerEnded = true;
    queue.push(...parser.end());
    void pump();
  });
}

function plainHead(status: number, message: string): Uint8Array {
  const body = encodeLatin1(`${message}\n`);
  const head = formatResponseHead(status, [
    ['content-type', 'text/plain; charset=utf-8'],
    ['content-length', String(body.length)],
    ['connection', 'close'],
  ]);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

async function respond(
  socket: GuestSocket,
  request: Http1Request,
  handler: Http1Handler,
  options: WriteOptions,
): Promise<boolean> {
  let response: Response;
  try {
    response = await handler(request);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    response = new Response(`tabdock network shim failed on ${request.method} ${request.target}: ${detail}\n`, {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  return writeResponse(socket, request, response, options);
}

/** Writes one response; resolves to whether the connection can carry another request. */
export async function writeResponse(
  socket: GuestSocket,
  request: Http1Request,
  response: Response,
  options: WriteOptions = DEFAULTS,
): Promise<boolean> {
  const headers: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP_HEADERS.has(name)) headers.push([name, value]);
  });
  const status = response.status;
  // RFC 9110 §6.4.1: HEAD, 1xx, 204 and 304 responses never carry content.
  const bodyless = request.method === 'HEAD' || status < 200 || status === 204 || status === 304;
  let keepAlive = request.keepAlive;
  if (bodyless || response.body === null) {
    await response.body?.cancel();
    if (!bodyless && !headers.some(([n]) => n === 'content-length')) headers.push(['content-length', '0']);
    if (!keepAlive) headers.push(['connection', 'close']);
    socket.write(formatResponseHead(status, headers));
    return keepAlive;
  }
  // fetch() decodes gzip/br bodies but keeps the upstream headers: the encoded length no longer applies.
  const decodedByFetch = headers.some(([n]) => n === 'content-encoding');
  const framedHeaders = decodedByFetch
    ? headers.filter(([n]) => n !== 'content-encoding' && n !== 'content-length')
    : headers;
  const lengthText = framedHeaders.find(([n]) => n === 'content-length')?.[1];
  let framing: { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };
  if (lengthText !== undefined && /^[0-9]+$/.test(lengthText)) framing = { kind: 'length', bytes: Number(lengthText) };
  else if (request.version === '1.1') {
    framing = { kind: 'chunked' };
    framedHeaders.push(['transfer-encoding', 'chunked']);
  } else {
    framing = { kind: 'close' };
    keepAlive = false;
  }
  if (!keepAlive) framedHeaders.push(['connection', 'close']);
  socket.write(formatResponseHead(status, framedHeaders));
  const complete = await streamBody(socket, response.body, framing, options);
  return keepAlive && complete;
}

async function streamBody(
  socket: GuestSocket,
  body: ReadableStream<Uint8Array>,
  framing: { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' },
  options: WriteOptions,
): Promise<boolean> {
  const reader = body.getReader();
  let sentBytes = 0;
  let readToEnd = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        // The upstream broke mid-body. The status line is already out, so the only honest signal left is to
        // cut the connection short: the guest's client sees a truncated body and retries (dockerd resumes).
        readToEnd = true;
        return false;
      }
      if (chunk.done) {
        readToEnd = true;
        break;
      }
      const bytes = chunk.value;
      if (framing.kind === 'length' && bytes.length > framing.bytes - sentBytes) {
        // More bytes than announced: send what was promised and close, never a corrupt next response.
        await send(socket, bytes.subarray(0, framing.bytes - sentBytes), framing, options);
        return false;
      }
      if (!(await send(socket, bytes, framing, options))) return false;
      sentBytes += bytes.length;
    }
    if (framing.kind === 'chunked') socket.write(encodeLatin1('0\r\n\r\n'));
    if (framing.kind === 'length') return sentBytes === framing.bytes;
    return framing.kind === 'chunked';
  } finally {
    if (!readToEnd) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function send(
  socket: GuestSocket,
  bytes: Uint8Array,
  framing: { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' },
  options: WriteOptions,
): Promise<boolean> {
  for (let offset = 0; offset < bytes.length; offset += options.sliceBytes) {
    const slice = bytes.subarray(offset, offset + options.sliceBytes);
    if (!(await waitForRoom(socket, slice.length, options))) return false;
    if (framing.kind === 'chunked') {
      socket.write(encodeLatin1(`${slice.length.toString(16)}\r\n`));
      socket.write(slice.slice());
      socket.write(encodeLatin1('\r\n'));
    } else {
      socket.write(slice.slice());
    }
  }
  return true;
}

/** Waits until the guest has acknowledged enough; false if it closed or stalled past stallTimeoutMs. */
async function waitForRoom(socket: GuestSocket, nextBytes: number, options: WriteOptions): Promise<boolean> {
  let lastBuffered = socket.bufferedBytes();
  let lastProgressAt = Date.now();
  while (!socket.closed) {
    const buffered = socket.bufferedBytes();
    if (buffered === 0 || buffered + nextBytes <= options.highWaterBytes) return true;
    if (buffered < lastBuffered) lastProgressAt = Date.now();
    lastBuffered = buffered;
    if (Date.now() - lastProgressAt > options.stallTimeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, options.drainPollMs));
  }
  return false;
}
