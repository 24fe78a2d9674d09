import { describe, expect, it } from 'vitest';
import { formatRequestHead, Http1ResponseParser, type ResponseEvent } from './http1-response.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Feeds the bytes one at a time, the worst split a TCP stream can produce, then optionally closes. */
function feedBytewise(parser: Http1ResponseParser, text: string, close = false): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  for (const byte of enc(text)) events.push(...parser.push(Uint8Array.of(byte)));
  if (close) events.push(...parser.end());
  return events;
}

function bodyOf(events: ResponseEvent[]): string {
  const parts = events.flatMap((e) => (e.type === 'data' ? [dec(e.bytes)] : []));
  return parts.join('');
}

describe('formatRequestHead', () => {
  it('writes origin-form, our Host, drops hop-by-hop and framing headers, asks to close', () => {
    const head = dec(
      formatRequestHead({
        method: 'GET',
        target: '/a/b.css?v=1',
        host: 'localhost:8080',
        headers: [
          ['Accept', 'text/css'],
          ['Host', 'evil'],
          ['Connection', 'keep-alive'],
          ['Content-Length', '99'],
          ['X-Bad', 'a\r\nInjected: 1'],
        ],
      }),
    );
    expect(head).toBe('GET /a/b.css?v=1 HTTP/1.1\r\nhost: localhost:8080\r\naccept: text/css\r\nconnection: close\r\n\r\n');
  });

  it('announces the body length of a POST', () => {
    const head = dec(formatRequestHead({ method: 'POST', target: '/form', host: 'h', headers: [], body: enc('a=1') }));
    expect(head).toContain('content-length: 3\r\n');
  });

  it('refuses a target or method that would break the request line', () => {
    expect(() => formatRequestHead({ method: 'GET', target: '/a b', host: 'h', headers: [] })).toThrow(/invalid request target/);
    expect(() => formatRequestHead({ method: 'GET', target: 'http://x/', host: 'h', headers: [] })).toThrow(/invalid request target/);
    expect(() => formatRequestHead({ method: 'G ET', target: '/', host: 'h', headers: [] })).toThrow(/invalid HTTP method/);
  });
});

describe('Http1ResponseParser', () => {
  it('reads a Content-Length body split at every byte', () => {
    const events = feedBytewise(new Http1ResponseParser({ requestMethod: 'GET' }), 'HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: 5\r\n\r\nh1{}');
    expect(events[0]).toEqual({ type: 'head', head: { status: 200, statusText: 'OK', headers: [['content-type', 'text/css'], ['content-length', '5']] } });
    expect(events.at(-1)?.type).toBe('data');
    const parser = new Http1ResponseParser({ requestMethod: 'GET' });
    const all = parser.push(enc('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nh1{}x trailing-garbage'));
    expect(bodyOf(all)).toBe('h1{}x');
    expect(all.at(-1)).toEqual({ type: 'end' });
  });

  it('decodes a chunked body with extensions and trailers, split at every byte', () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n';
    const events = feedBytewise(new Http1ResponseParser({ requestMethod: 'GET' }), wire);
    expect(bodyOf(events)).toBe('Wikipedia in\r\n\r\nchunks.');
    expect(events.at(-1)).toEqual({ type: 'end' });
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
  });

  it('reads a body delimited by the close, and only ends on close', () => {
    const parser = new Http1ResponseParser({ requestMethod: 'GET' });
    const events = parser.push(enc('HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG'));
    expect(events.some((e) => e.type === 'end')).toBe(false);
    expect(parser.end()).toEqual([{ type: 'end' }]);
  });

  it('gives no body for HEAD, 204 and 304 whatever the headers say', () => {
    expect(new Http1ResponseParser({ requestMethod: 'HEAD' }).push(enc('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')).map((e) => e.type)).toEqual(['head', 'end']);
    expect(new Http1ResponseParser({ requestMethod: 'GET' }).push(enc('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).map((e) => e.type)).toEqual(['head', 'end']);
  });

  it('skips interim 1xx responses', () => {
    const events = new Http1ResponseParser({ requestMethod: 'POST' }).push(enc('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'));
    expect(events).toEqual([{ type: 'head', head: { status: 201, statusText: 'Created', headers: [['content-length', '0']] } }, { type: 'end' }]);
  });

  it('reports a close before the response, or in the middle of its body', () => {
    expect(new Http1ResponseParser({ requestMethod: 'GET' }).end()).toEqual([{ type: 'error', message: 'the server closed the connection without answering' }]);
    const parser = new Http1ResponseParser({ requestMethod: 'GET' });
    parser.push(enc('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(parser.sawHead).toBe(true);
    expect(parser.end()).toEqual([{ type: 'error', message: 'the server closed the connection before the whole response body arrived' }]);
  });

  it('rejects what is not HTTP, bad chunk sizes and conflicting lengths, without throwing', () => {
    expect(new Http1ResponseParser({ requestMethod: 'GET' }).push(enc('SSH-2.0-OpenSSH_9.2\r\n'))).toEqual([
      { type: 'error', message: 'the server did not answer with HTTP (is this port serving another protocol?)' },
    ]);
    const chunked = new Http1ResponseParser({ requestMethod: 'GET' }).push(enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
    expect(chunked.at(-1)).toEqual({ type: 'error', message: 'malformed chunked body: bad chunk size "zz"' });
    const lengths = new Http1ResponseParser({ requestMethod: 'GET' }).push(enc('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'));
    expect(lengths.at(-1)).toEqual({ type: 'error', message: 'invalid Content-Length in the response' });
    const huge = new Http1ResponseParser({ requestMethod: 'GET', maxHeadBytes: 64 });
    expect(huge.push(enc(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`))).toEqual([{ type: 'error', message: 'the response head exceeds 64 bytes' }]);
    expect(huge.push(enc('more'))).toEqual([]);
  });
});
