// The request parser: normal requests, every rejection path, and a fuzz run that must never throw or stall.
import { describe, expect, it } from 'vitest';
import { Http1RequestParser, type Http1ParseEvent, type Http1Request, formatResponseHead } from './http1.ts';

const enc = (text: string) => new TextEncoder().encode(text);

function requests(events: Http1ParseEvent[]): Http1Request[] {
  return events.flatMap((e) => (e.type === 'request' ? [e.request] : []));
}

function onlyError(events: Http1ParseEvent[]): { status: number; message: string } {
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event?.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(event)}`);
  return event;
}

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Http1RequestParser', () => {
  const ping = 'GET /v2/ HTTP/1.1\r\nHost: mirror.tabdock.internal\r\nUser-Agent: docker/20.10\r\nAccept: */*\r\n\r\n';

  it('parses a request with lower-case header names and keep-alive by default', () => {
    const [request] = requests(new Http1RequestParser().push(enc(ping)));
    expect(request).toEqual({
      method: 'GET',
      target: '/v2/',
      version: '1.1',
      headers: [
        ['host', 'mirror.tabdock.internal'],
        ['user-agent', 'docker/20.10'],
        ['accept', '*/*'],
      ],
      body: new Uint8Array(0),
      keepAlive: true,
    });
  });

  it('gives the same result when bytes arrive one at a time', () => {
    const parser = new Http1RequestParser();
    const events = [...enc(ping)].flatMap((byte) => parser.push(new Uint8Array([byte])));
    expect(requests(events)).toEqual(requests(new Http1RequestParser().push(enc(ping))));
  });

  it('returns pipelined requests in order, with bodies split across pushes', () => {
    const parser = new Http1RequestParser();
    const text = `${ping}POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel`;
    const first = parser.push(enc(text));
    expect(requests(first).map((r) => r.target)).toEqual(['/v2/']);
    const second = requests(parser.push(enc('lo\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n')));
    expect(second.map((r) => r.target)).toEqual(['/x', '/y']);
    expect(new TextDecoder().decode(second[0]?.body)).toBe('hello');
    expect(parser.hasPartialRequest).toBe(false);
  });

  it('honours Connection: close and HTTP/1.0 defaults', () => {
    const close = requests(new Http1RequestParser().push(enc('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')));
    expect(close[0]?.keepAlive).toBe(false);
    const old = requests(new Http1RequestParser().push(enc('GET / HTTP/1.0\r\n\r\n')));
    expect(old[0]?.keepAlive).toBe(false);
    const oldKeep = requests(new Http1RequestParser().push(enc('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')));
    expect(oldKeep[0]?.keepAlive).toBe(true);
  });

  it('skips empty lines before a request line (RFC 9112 section 2.2)', () => {
    expect(requests(new Http1RequestParser().push(enc(`\r\n\r\n${ping}`)))).toHaveLength(1);
  });

  it.each([
    ['a request without Host', 'GET / HTTP/1.1\r\nAccept: x\r\n\r\n', 400],
    ['folded header lines', 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n', 400],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n', 400],
    ['a chunked body', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['conflicting lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['a negative length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
    ['a body over the limit', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n', 413],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ])('rejects %s', (_name, text, status) => {
    const parser = new Http1RequestParser();
    expect(onlyError(parser.push(enc(text))).status).toBe(status);
    expect(parser.failed).toBe(true);
    expect(parser.push(enc(ping))).toEqual([]);
  });

  it('rejects a TLS ClientHello at once instead of waiting for a head that never ends', () => {
    const parser = new Http1RequestParser();
    expect(onlyError(parser.push(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00]))).status).toBe(400);
  });

  it('answers 431 as soon as an unfinished head passes the limit, without waiting for more', () => {
    const parser = new Http1RequestParser({ maxHeadBytes: 1024 });
    expect(parser.push(enc('GET / HTTP/1.1\r\nHost: a\r\nX-Big: '))).toEqual([]);
    expect(onlyError(parser.push(enc('a'.repeat(2000)))).status).toBe(431);
  });

  it('answers 431 for too many headers', () => {
    const many = Array.from({ length: 20 }, (_, i) => `X-${i}: v\r\n`).join('');
    const parser = new Http1RequestParser({ maxHeaderCount: 10 });
    expect(onlyError(parser.push(enc(`GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`))).status).toBe(431);
  });

  it('tells a truncated request from an idle close', () => {
    const idle = new Http1RequestParser();
    idle.push(enc(ping));
    expect(idle.end()).toEqual([]);
    const cut = new Http1RequestParser();
    cut.push(enc('GET /v2/ HTTP/1.1\r\nHo'));
    expect(onlyError(cut.end()).status).toBe(400);
    const cutBody = new Http1RequestParser();
    cutBody.push(enc('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc'));
    expect(onlyError(cutBody.end()).status).toBe(400);
  });

  describe('fuzz', () => {
    const valid = [
      ping,
      'HEAD /v2/library/busybox/manifests/latest HTTP/1.1\r\nHost: h\r\nAccept: application/vnd.oci.image.index.v1+json\r\n\r\n',
      'POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world',
      'GET http://example.com/ HTTP/1.0\r\n\r\n',
    ];

    function randomBytes(random: () => number, length: number): Uint8Array {
      return Uint8Array.from({ length }, () => Math.floor(random() * 256));
    }

    function mutate(random: () => number, bytes: Uint8Array): Uint8Array {
      const out = [...bytes];
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i++) {
        const at = Math.floor(random() * (out.length + 1));
        const pick = random();
        if (pick < 0.3) out.splice(at, 1);
        else if (pick < 0.6) out.splice(at, 0, Math.floor(random() * 256));
        else if (pick < 0.8) out.splice(at, 0, ...enc(random() < 0.5 ? '\r\n' : ': '));
        else out.splice(at, 0, ...enc('x'.repeat(Math.floor(random() * 5000))));
      }
      return Uint8Array.from(out);
    }

    function feed(random: () => number, parser: Http1RequestParser, bytes: Uint8Array): Http1ParseEvent[] {
      const events: Http1ParseEvent[] = [];
      let offset = 0;
      while (offset < bytes.length) {
        const size = 1 + Math.floor(random() * 300);
        events.push(...parser.push(bytes.subarray(offset, offset + size)));
        offset += size;
      }
      return events;
    }

    it('never throws on random bytes, mutated requests, truncations and half-closes', () => {
      for (let seed = 1; seed <= 3000; seed++) {
        const random = prng(seed);
        const parser = new Http1RequestParser({ maxHeadBytes: 4096, maxBodyBytes: 1 << 16 });
        const kind = seed % 4;
        let input: Uint8Array;
        const base = enc(valid[seed % valid.length] ?? ping);
        if (kind === 0) input = randomBytes(random, Math.floor(random() * 2000));
        else if (kind === 1) input = mutate(random, base);
        else if (kind === 2) input = base.subarray(0, Math.floor(random() * base.length));
        else input = Uint8Array.from([...base, ...mutate(random, base), ...base]);
        let events: Http1ParseEvent[] = [];
        try {
          events = feed(random, parser, input);
          if (random() < 0.5) events.push(...parser.end());
        } catch (error) {
          throw new Error(`seed ${seed} threw: ${String(error)}`);
        }
        // At most one error, and it is the last event: after it the parser is finished.
        const errorIndex = events.findIndex((e) => e.type === 'error');
        if (errorIndex !== -1) expect(errorIndex, `seed ${seed}`).toBe(events.length - 1);
        for (const request of requests(events)) {
          expect(request.body.length, `seed ${seed}`).toBeLessThanOrEqual(1 << 16);
        }
      }
    });

    it('never holds more than the head limit while waiting for a head', () => {
      const random = prng(42);
      for (let round = 0; round < 200; round++) {
        const parser = new Http1RequestParser({ maxHeadBytes: 2048 });
        // No CRLFCRLF anywhere: the parser must give up with 431 rather than buffer forever.
        const junk = randomBytes(random, 5000).map((b) => (b === 10 || b === 13 ? 65 : b));
        const events = feed(random, parser, Uint8Array.from([...enc('GET / HTTP/1.1\r\nX-Junk: '), ...junk]));
        expect(events.at(-1)).toMatchObject({ type: 'error', status: 431 });
      }
    });

    it('finds the same requests however the stream is split', () => {
      const stream = enc(valid.slice(0, 3).join(''));
      const whole = requests(new Http1RequestParser().push(stream));
      expect(whole).toHaveLength(3);
      for (let seed = 1; seed <= 300; seed++) {
        expect(requests(feed(prng(seed), new Http1RequestParser(), stream))).toEqual(whole);
      }
    });
  });
});

describe('formatResponseHead', () => {
  it('drops header values that could split the response', () => {
    const head = new TextDecoder().decode(
      formatResponseHead(200, [
        ['content-length', '3'],
        ['x-evil', 'a\r\nSet-Cookie: b'],
      ]),
    );
    expect(head).toBe('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n');
  });
});
