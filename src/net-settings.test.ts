import { describe, expect, it } from 'vitest';
import {
  NET_SETTINGS_KEY,
  defaultProxyUrl,
  defaultRelayUrl,
  loadNetSettings,
  networkOptions,
  parseProxyUrl,
  parseRelayUrl,
  parseUpstreamMirror,
  saveNetSettings,
  type SettingsStorage,
} from './net-settings.ts';

const PAGE = 'https://example.org/tabdock/';

function memoryStorage(initial: Record<string, string> = {}): SettingsStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

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

describe('remembered settings', () => {
  it('round-trips through storage and feeds boot() only the fields that were set', () => {
    const storage = memoryStorage();
    saveNetSettings(storage, { upstreamMirror: 'mirror.gcr.io' });
    const loaded = loadNetSettings(storage, PAGE);
    expect(loaded).toEqual({ settings: { upstreamMirror: 'mirror.gcr.io' } });
    expect(networkOptions(loaded.settings)).toEqual({ dockerHubUpstream: 'mirror.gcr.io' });
    saveNetSettings(storage, { proxyUrl: 'https://p.example/', upstreamMirror: 'http://127.0.0.1:5000' });
    expect(networkOptions(loadNetSettings(storage, PAGE).settings)).toEqual({
      proxyUrl: 'https://p.example/',
      dockerHubUpstream: 'http://127.0.0.1:5000',
    });
  });

  it('reset to default removes the entry', () => {
    const storage = memoryStorage();
    saveNetSettings(storage, { proxyUrl: 'https://p.example/' });
    saveNetSettings(storage, {});
    expect(storage.data.has(NET_SETTINGS_KEY)).toBe(false);
    expect(loadNetSettings(storage, PAGE)).toEqual({ settings: {} });
  });

  it('uses defaults for damaged or foreign entries, says so, and leaves the stored text alone', () => {
    for (const raw of ['{not json', '{"version":99,"proxyUrl":"https://p.example/"}', 'null']) {
      const storage = memoryStorage({ [NET_SETTINGS_KEY]: raw });
      const loaded = loadNetSettings(storage, PAGE);
      expect(loaded.settings).toEqual({});
      expect(loaded.problem).toMatch(/using the defaults/);
      expect(storage.data.get(NET_SETTINGS_KEY)).toBe(raw);
    }
  });

  it('keeps the valid field when the other one is invalid', () => {
    const storage = memoryStorage({ [NET_SETTINGS_KEY]: JSON.stringify({ version: 1, proxyUrl: 'ftp://x/', upstreamMirror: 'mirror.gcr.io' }) });
    const loaded = loadNetSettings(storage, PAGE);
    expect(loaded.settings).toEqual({ upstreamMirror: 'mirror.gcr.io' });
    expect(loaded.problem).toContain('saved proxy URL ignored');
  });

  it('turns a storage refusal into a sentence instead of losing it silently', () => {
    const storage: SettingsStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => undefined,
    };
    expect(loadNetSettings(storage, PAGE).problem).toContain('SecurityError');
    expect(() => saveNetSettings(storage, { upstreamMirror: 'mirror.gcr.io' })).toThrow(/refused to store.*QuotaExceededError/);
  });
});

describe('default proxy URL', () => {
  it('is /cors-proxy/ on the page origin unless the build names one', () => {
    expect(defaultProxyUrl(undefined, PAGE)).toBe('https://example.org/cors-proxy/');
    expect(defaultProxyUrl('', PAGE)).toBe('https://example.org/cors-proxy/');
    expect(defaultProxyUrl('https://tabdock-proxy.example.workers.dev', PAGE)).toBe('https://tabdock-proxy.example.workers.dev/');
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

  it('is remembered with the other settings and sent to boot()', () => {
    const storage = memoryStorage();
    saveNetSettings(storage, { relayUrl: 'wss://relay.example.com/wisp/' });
    const loaded = loadNetSettings(storage, PAGE);
    expect(loaded.settings).toEqual({ relayUrl: 'wss://relay.example.com/wisp/' });
    expect(networkOptions(loaded.settings)).toEqual({ relayUrl: 'wss://relay.example.com/wisp/' });
    storage.setItem(NET_SETTINGS_KEY, JSON.stringify({ version: 1, relayUrl: 'ftp://x/' }));
    expect(loadNetSettings(storage, PAGE).problem).toContain('saved relay URL ignored');
  });

  it('defaults to /wisp/ on the page origin, or the build setting', () => {
    expect(defaultRelayUrl(undefined, 'https://example.org/tabdock/')).toBe('wss://example.org/wisp/');
    expect(defaultRelayUrl('https://relay.example.com/w', 'https://example.org/')).toBe('wss://relay.example.com/w/');
  });
});
