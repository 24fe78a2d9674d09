// The network field parsers shared by the page's Network dialog and `npm run vm`'s flags: what each accepts and
// normalises, and the sentence each refusal gives.
import { describe, expect, it } from 'vitest';
import { parseHostPort, parseHttpOrigin, parseProxyUrl, parseRelayUrl, parseUpstreamMirror } from './network-options.ts';

const PAGE = 'https://example.org/tabdock/';

describe('proxy URL field', () => {
  it('takes absolute URLs and page-relative paths, always ending in a slash', () => {
    expect(parseProxyUrl('https://proxy.example.com', PAGE)).toEqual({ ok: true, value: 'https://proxy.example.com/' });
    expect(parseProxyUrl('  http://127.0.0.1:8787/p  ', PAGE)).toEqual({ ok: true, value: 'http://127.0.0.1:8787/p/' });
    expect(parseProxyUrl('/cors-proxy/', PAGE)).toEqual({ ok: true, value: 'https://example.org/cors-proxy/' });
  });

  it('treats empty as the default', () => {
    expect(parseProxyUrl('   ', PAGE)).toEqual({ ok: true, value: undefined });
  });

  it('refuses other schemes, credentials, queries and fragments with a sentence', () => {
    for (const [text, words] of [
      ['ftp://proxy.example.com/', 'http:// or https://'],
      ['https://me:secret@proxy.example.com/', 'user name or password'],
      ['https://proxy.example.com/?x=1', '?query'],
      ['https://proxy.example.com/#top', '#fragment'],
      ['http://[bad', 'not a URL'],
    ] as const) {
      const result = parseProxyUrl(text, PAGE);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.error).toContain(words);
    }
  });
});

describe('upstream mirror field', () => {
  it('takes host names, host:port and http(s) origins', () => {
    expect(parseUpstreamMirror('mirror.gcr.io')).toEqual({ ok: true, value: 'mirror.gcr.io' });
    expect(parseUpstreamMirror('Registry.Example.com:5000')).toEqual({ ok: true, value: 'registry.example.com:5000' });
    expect(parseUpstreamMirror('http://127.0.0.1:5000/')).toEqual({ ok: true, value: 'http://127.0.0.1:5000' });
    expect(parseUpstreamMirror('https://mirror.example.com')).toEqual({ ok: true, value: 'https://mirror.example.com' });
    expect(parseUpstreamMirror('')).toEqual({ ok: true, value: undefined });
  });

  it('refuses paths, other schemes, credentials and non-hosts', () => {
    for (const [text, words] of [
      ['https://mirror.example.com/v2/', 'without a path'],
      ['ftp://mirror.example.com', 'http:// or https://'],
      ['https://u:p@mirror.example.com', 'user name or password'],
      ['mirror.example.com/library', 'not a host name'],
      ['mirror .example.com', 'not a host name'],
      ['mirror.example.com:99999', 'not a host name'],
      ['-bad-.example.com', 'not a host name'],
    ] as const) {
      const result = parseUpstreamMirror(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.error).toContain(words);
    }
  });
});

describe('relay URL field', () => {
  it('takes ws(s) URLs, http(s) ones as their WebSocket twins, page-relative paths, and off', () => {
    expect(parseRelayUrl('wss://relay.example.com/wisp', PAGE)).toEqual({ ok: true, value: 'wss://relay.example.com/wisp/' });
    expect(parseRelayUrl('https://relay.example.com/wisp/s3cret-token/', PAGE)).toEqual({ ok: true, value: 'wss://relay.example.com/wisp/s3cret-token/' });
    expect(parseRelayUrl('/wisp/', 'http://localhost:4173/')).toEqual({ ok: true, value: 'ws://localhost:4173/wisp/' });
    expect(parseRelayUrl(' OFF ', PAGE)).toEqual({ ok: true, value: 'off' });
    expect(parseRelayUrl('', PAGE)).toEqual({ ok: true, value: undefined });
  });

  it('refuses other schemes, credentials and queries with a sentence', () => {
    for (const [text, words] of [
      ['ftp://relay.example.com/', 'wss://'],
      ['wss://me:secret@relay.example.com/wisp/', 'token in the path'],
      ['wss://relay.example.com/wisp/?token=1', '?query'],
    ] as const) {
      const result = parseRelayUrl(text, PAGE);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toContain(words);
    }
  });
});

describe('without a page to resolve against (the Node flags)', () => {
  it('wants absolute URLs and says so', () => {
    expect(parseProxyUrl('http://127.0.0.1:8787')).toEqual({ ok: true, value: 'http://127.0.0.1:8787/' });
    const relative = parseProxyUrl('/cors-proxy/');
    expect(relative.ok).toBe(false);
    if (!relative.ok) expect(relative.error).toContain('is not an absolute URL; enter one like http://127.0.0.1:8787/');
    expect(parseRelayUrl('/wisp/').ok).toBe(false);
  });

  it('reads host[:port] names and http(s) origins', () => {
    expect(parseHostPort('Registry.Test:5000')).toEqual({ host: 'registry.test:5000', port: 5000 });
    expect(parseHostPort('registry.test')).toEqual({ host: 'registry.test', port: undefined });
    expect(parseHostPort('r.test:0')).toBeUndefined();
    expect(parseHttpOrigin('http://127.0.0.1:5000/', 'The registry origin')).toEqual({ ok: true, value: 'http://127.0.0.1:5000' });
    expect(parseHttpOrigin('https://x.test/v2/', 'The registry origin')).toMatchObject({ ok: false, error: expect.stringContaining('Give the registry origin without a path') });
  });
});
