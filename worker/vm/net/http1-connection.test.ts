// The connection loop on a fake guest socket: framing, pipelining, HEAD, errors, half-close, back-pressure.
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp1 } from './http1-connection.ts';
import type { Http1Request } from './http1.ts';
import { FakeGuestSocket, parseResponses } from '../../testing/fake-socket.ts';

const sockets: FakeGuestSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.dispose();
});

function socket(options?: ConstructorParameters<typeof FakeGuestSocket>[0]): FakeGuestSocket {
  const s = new FakeGuestSocket(options);
  sockets.push(s);
  return s;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const echoTarget = async (request: Http1Request) =>
  new Response(`you asked for ${request.target}`, { headers: { 'content-type': 'text/plain' } });

describe('serveHttp1', () => {
  it('answers pipelined requests in order and keeps the connection open', async () => {
    const guest = socket();
    serveHttp1(guest, echoTarget);
    guest.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => parseResponsesSafe(guest).length === 2, 'two responses');
    const [a, b] = parseResponses(guest.output());
    expect(new TextDecoder().decode(a?.body)).toBe('you asked for /a');
    expect(new TextDecoder().decode(b?.body)).toBe('you asked for /b');
    expect(guest.closed).toBe(false);
  });

  it('uses Content-Length when the response has one and no body for HEAD', async () => {
    const guest = socket();
    serveHttp1(guest, async () => new Response('12345', { headers: { 'content-length': '5' } }));
    guest.send('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => guest.outputText().endsWith('12345'), 'GET body');
    const [head, get] = parseResponses(guest.output(), new Set([0]));
    expect(head?.headers.get('content-length')).toBe('5');
    expect(head?.body.length).toBe(0);
    expect(get?.headers.get('transfer-encoding')).toBeUndefined();
    expect(new TextDecoder().decode(get?.body)).toBe('12345');
  });

  it('streams a body without a length as chunks, and closes for HTTP/1.0', async () => {
    const guest = socket();
    serveHttp1(guest, echoTarget);
    guest.send('GET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => guest.outputText().endsWith('0\r\n\r\n'), 'chunked terminator');
    expect(parseResponses(guest.output())[0]?.headers.get('transfer-encoding')).toBe('chunked');
    const old = socket();
    serveHttp1(old, echoTarget);
    old.send('GET /d HTTP/1.0\r\n\r\n');
    await old.whenClosed();
    const [response] = parseResponses(old.output());
    expect(response?.headers.get('connection')).toBe('close');
    expect(new TextDecoder().decode(response?.body)).toBe('you asked for /d');
  });

  it('answers a malformed request with 400 and closes', async () => {
    const guest = socket();
    serveHttp1(guest, echoTarget);
    guest.send('BLAH\r\n\r\n');
    await guest.whenClosed();
    expect(parseResponses(guest.output())[0]?.status).toBe(400);
  });

  it('turns a handler failure into a 500 that names the request', async () => {
    const guest = socket();
    serveHttp1(guest, async () => {
      throw new Error('boom');
    });
    guest.send('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => guest.outputText().includes('boom'), '500 body');
    const [response] = parseResponses(guest.output());
    expect(response?.status).toBe(500);
    expect(new TextDecoder().decode(response?.body)).toContain('GET /v2/');
  });

  it('finishes the answer after the guest half-closes, then closes', async () => {
    const guest = socket();
    serveHttp1(guest, async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return echoTarget(request);
    });
    guest.send('GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    guest.halfClose();
    await guest.whenClosed();
    expect(new TextDecoder().decode(parseResponses(guest.output())[0]?.body)).toBe('you asked for /late');
  });

  it('stops reading the upstream body when the guest resets', async () => {
    const guest = socket({ ackBytesPerTick: 0 });
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    serveHttp1(guest, async () => new Response(endless), { highWaterBytes: 128 * 1024 });
    guest.send('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => guest.peakBufferedBytes > 0, 'first bytes');
    guest.reset();
    await until(() => cancelled, 'upstream cancel');
  });

  it('waits for the guest to acknowledge before sending more (back-pressure)', async () => {
    const blob = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) & 0xff);
    const guest = socket({ ackBytesPerTick: 64 * 1024, tickMs: 1 });
    serveHttp1(guest, async () => new Response(blob, { headers: { 'content-length': String(blob.length) } }), {
      sliceBytes: 32 * 1024,
      highWaterBytes: 128 * 1024,
      drainPollMs: 1,
    });
    guest.send('GET /blob HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => guest.written.reduce((n, b) => n + b.length, 0) > blob.length, 'whole blob', 20_000);
    const [response] = parseResponses(guest.output());
    // Buffer.equals: a deep toEqual over a million elements takes seconds.
    expect(Buffer.from(response?.body ?? []).equals(blob)).toBe(true);
    // The head is written unthrottled; body slices only when the buffer has room.
    expect(guest.peakBufferedBytes).toBeLessThanOrEqual(128 * 1024 + 1024);
  });

  it('closes instead of sending more bytes than the announced Content-Length', async () => {
    const guest = socket();
    serveHttp1(guest, async () => new Response('too long body', { headers: { 'content-length': '3' } }));
    guest.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await guest.whenClosed();
    const text = guest.outputText();
    expect(text.endsWith('\r\n\r\ntoo')).toBe(true);
  });
});

describe('serveHttp1 fuzz', () => {
  it('never throws and always answers or closes, whatever the guest sends', async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pieces = ['GET / HTTP/1.1\r\n', 'Host: x\r\n', '\r\n', 'Content-Length: 3\r\n', 'abc', '\x16\x03', ': ', 'X', '\n'];
    for (let round = 0; round < 300; round++) {
      const guest = socket();
      let handled = 0;
      serveHttp1(guest, async (request) => {
        handled++;
        return echoTarget(request);
      });
      const count = 1 + Math.floor(random() * 12);
      for (let i = 0; i < count; i++) guest.send(pieces[Math.floor(random() * pieces.length)] ?? '');
      if (random() < 0.5) guest.halfClose();
      await new Promise((resolve) => setTimeout(resolve, 0));
      await until(() => guest.closed || parseResponsesSafe(guest).length >= handled, `round ${round} to settle`);
      if (guest.closed) {
        // Whatever was written before the close is well-framed (an error answer or complete responses).
        expect(() => parseResponses(guest.output()), `round ${round}`).not.toThrow();
      }
    }
  });
});

function parseResponsesSafe(guest: FakeGuestSocket): ReturnType<typeof parseResponses> {
  try {
    return parseResponses(guest.output());
  } catch {
    // Output still incomplete: the caller polls again.
    return [];
  }
}
