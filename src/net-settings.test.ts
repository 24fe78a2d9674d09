import { describe, expect, it } from 'vitest';
import { NET_SETTINGS_KEY, defaultProxyUrl, defaultRelayUrl, loadNetSettings, networkDefaults, networkOptions, saveNetSettings, type SettingsStorage } from './net-settings.ts';

const PAGE = 'https://example.org/tabdock/';
const DEFAULTS = { proxyUrl: 'https://example.org/cors-proxy/', relayUrl: 'wss://example.org/wisp/' };

function memoryStorage(initial: Record<string, string> = {}): SettingsStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe('remembered settings', () => {
  it('round-trips through storage and feeds boot() the settings over the defaults, complete', () => {
    const storage = memoryStorage();
    saveNetSettings(storage, { upstreamMirror: 'mirror.gcr.io' });
    const loaded = loadNetSettings(storage, PAGE);
    expect(loaded).toEqual({ settings: { upstreamMirror: 'mirror.gcr.io' } });
    expect(networkOptions(loaded.settings, DEFAULTS)).toEqual({ ...DEFAULTS, dockerHubUpstream: 'mirror.gcr.io' });
    saveNetSettings(storage, { proxyUrl: 'https://p.example/', upstreamMirror: 'http://127.0.0.1:5000' });
    expect(networkOptions(loadNetSettings(storage, PAGE).settings, DEFAULTS)).toEqual({
      proxyUrl: 'https://p.example/',
      relayUrl: DEFAULTS.relayUrl,
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

describe('relay URL setting', () => {
  it('is remembered with the other settings and sent to boot()', () => {
    const storage = memoryStorage();
    saveNetSettings(storage, { relayUrl: 'wss://relay.example.com/wisp/' });
    const loaded = loadNetSettings(storage, PAGE);
    expect(loaded.settings).toEqual({ relayUrl: 'wss://relay.example.com/wisp/' });
    expect(networkOptions(loaded.settings, DEFAULTS)).toEqual({ proxyUrl: DEFAULTS.proxyUrl, relayUrl: 'wss://relay.example.com/wisp/' });
    storage.setItem(NET_SETTINGS_KEY, JSON.stringify({ version: 1, relayUrl: 'ftp://x/' }));
    expect(loadNetSettings(storage, PAGE).problem).toContain('saved relay URL ignored');
  });

  it('defaults to /wisp/ on the page origin, or the build setting, which may turn the relay off', () => {
    expect(defaultRelayUrl(undefined, 'https://example.org/tabdock/')).toBe('wss://example.org/wisp/');
    expect(defaultRelayUrl('https://relay.example.com/w', 'https://example.org/')).toBe('wss://relay.example.com/w/');
    // Built with VITE_TABDOCK_RELAY=off, the Network dialog said "Default: wss://example.org/tabdock/off/" (#25).
    expect(defaultRelayUrl('off', PAGE)).toBe('off');
    expect(networkDefaults({ VITE_TABDOCK_RELAY: 'off' }, PAGE)).toEqual({ proxyUrl: 'https://example.org/cors-proxy/', relayUrl: 'off' });
  });

  it('falls back from a build setting that does not parse, naming it and saying what to do', () => {
    const defaults = networkDefaults({ VITE_TABDOCK_RELAY: 'ftp://relay.example.com/', VITE_CORS_PROXY: 'https://p.example/?x=1' }, PAGE);
    expect(defaults).toMatchObject({ proxyUrl: 'https://example.org/cors-proxy/', relayUrl: 'wss://example.org/wisp/' });
    expect(defaults.problem).toMatch(/VITE_CORS_PROXY=https:\/\/p.example\/\?x=1, which is not usable \(.*\?query.*\); using \/cors-proxy\/ instead/);
    expect(defaults.problem).toMatch(/VITE_TABDOCK_RELAY=ftp:\/\/relay.example.com\/, which is not usable \(The relay URL must start with wss:\/\//);
    expect(networkDefaults({}, PAGE).problem).toBeUndefined();
  });
});
