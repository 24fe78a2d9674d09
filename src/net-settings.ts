// The page's network settings: which CORS proxy registry traffic leaves through, which registry stands in for
// Docker Hub, and which Wisp relay carries every other TCP connection from containers. Parsed and validated here
// (no DOM), remembered in localStorage, handed to boot().
import type { NetworkOptions } from '../worker/shared/contract.ts';

/** What the user chose; an absent field means "the default". */
export interface NetSettings {
  /** Absolute CORS proxy base URL, always ending in '/'. */
  proxyUrl?: string;
  /** `host[:port]` (reached over HTTPS) or an `http(s)://host[:port]` origin. */
  upstreamMirror?: string;
  /** Absolute ws:// or wss:// URL ending in '/', or 'off' (no TCP from containers beyond the shim's HTTP). */
  relayUrl?: string;
}

export const NET_SETTINGS_KEY = 'tabdock.network-settings';
const STORED_VERSION = 1;

export type FieldResult = { ok: true; value: string | undefined } | { ok: false; error: string };

/** The storage slice used (localStorage in the page, a Map in tests). */
export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A proxy URL as typed: empty means the default; a path such as `/cors-proxy/` is taken relative to the page;
 * anything else must be an http(s) URL without credentials, query or fragment (the shim appends `host/path`).
 */
export function parseProxyUrl(text: string, baseUri: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  let url: URL;
  try {
    url = new URL(trimmed, baseUri);
  } catch {
    return { ok: false, error: `"${trimmed}" is not a URL; enter one like https://proxy.example.com/ or /cors-proxy/.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `The proxy URL must start with http:// or https:// (got ${url.protocol}).` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: 'The proxy URL must not contain a user name or password; the proxy takes no credentials.' };
  }
  if (url.search !== '' || url.hash !== '') {
    return { ok: false, error: 'The proxy URL must not have a ?query or #fragment: registry paths are appended to it.' };
  }
  const href = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return { ok: true, value: href };
}

// A DNS name or IPv4 address with an optional port (RFC 1123 labels); enough for registries.
const HOST_PORT = /^(?=.{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::(\d{1,5}))?$/i;

/**
 * A Docker Hub upstream as typed: empty means Docker Hub itself; `mirror.gcr.io` or `host:port` is reached over
 * HTTPS; `http://host:port` for a plain-HTTP mirror (e.g. a local registry). No path: mirrors serve /v2/ at the root.
 */
export function parseUpstreamMirror(text: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  if (schemeMatch) {
    const scheme = schemeMatch[1]?.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      return { ok: false, error: `The upstream mirror must be a host name or an http:// or https:// address (got ${scheme}://).` };
    }
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      return { ok: false, error: `"${trimmed}" is not a valid address; enter one like mirror.gcr.io or http://127.0.0.1:5000.` };
    }
    if (url.username !== '' || url.password !== '') {
      return { ok: false, error: 'The upstream mirror must not contain a user name or password.' };
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      return { ok: false, error: 'Give the mirror without a path (e.g. https://mirror.example.com): it serves /v2/ at its root.' };
    }
    return { ok: true, value: url.origin };
  }
  const match = HOST_PORT.exec(trimmed);
  const port = match?.[1];
  if (!match || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    return { ok: false, error: `"${trimmed}" is not a host name; enter one like mirror.gcr.io, registry.example.com:5000 or http://127.0.0.1:5000.` };
  }
  return { ok: true, value: trimmed.toLowerCase() };
}

/**
 * A relay URL as typed: empty means the default; `off` turns egress off; a path such as `/wisp/` is taken relative
 * to the page; http(s) becomes ws(s). No query or fragment (the Wisp client needs a URL ending in '/'); a token goes
 * in the path (`wss://relay.example/wisp/<token>/`).
 */
export function parseRelayUrl(text: string, baseUri: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  if (trimmed.toLowerCase() === 'off') return { ok: true, value: 'off' };
  let url: URL;
  try {
    url = new URL(trimmed, baseUri);
  } catch {
    return { ok: false, error: `"${trimmed}" is not a URL; enter one like wss://relay.example.com/wisp/ or /wisp/, or off.` };
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    return { ok: false, error: `The relay URL must start with wss://, ws://, https:// or http:// (got ${url.protocol}).` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: 'The relay URL must not contain a user name or password; put a relay token in the path (/wisp/<token>/).' };
  }
  if (url.search !== '' || url.hash !== '') {
    return { ok: false, error: 'The relay URL must not have a ?query or #fragment; put a relay token in the path (/wisp/<token>/).' };
  }
  const href = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return { ok: true, value: href };
}

export interface LoadedNetSettings {
  settings: NetSettings;
  /** Set when something was stored but could not be used; the stored text is left as it was. */
  problem?: string;
}

/** Reads the remembered settings; damaged or invalid entries are ignored (defaults used) and reported. */
export function loadNetSettings(storage: SettingsStorage, baseUri: string): LoadedNetSettings {
  let raw: string | null;
  try {
    raw = storage.getItem(NET_SETTINGS_KEY);
  } catch (error) {
    return { settings: {}, problem: `The browser refused to read the saved network settings (${describe(error)}); using the defaults.` };
  }
  if (raw === null) return { settings: {} };
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    return { settings: {}, problem: 'The saved network settings are damaged; using the defaults until you save new ones.' };
  }
  if (typeof stored !== 'object' || stored === null || (stored as { version?: unknown }).version !== STORED_VERSION) {
    return { settings: {}, problem: 'The saved network settings are from another version of tabdock; using the defaults until you save new ones.' };
  }
  const record = stored as { proxyUrl?: unknown; upstreamMirror?: unknown; relayUrl?: unknown };
  const settings: NetSettings = {};
  const problems: string[] = [];
  if (typeof record.proxyUrl === 'string') {
    const proxy = parseProxyUrl(record.proxyUrl, baseUri);
    if (proxy.ok) {
      if (proxy.value !== undefined) settings.proxyUrl = proxy.value;
    } else problems.push(`saved proxy URL ignored: ${proxy.error}`);
  }
  if (typeof record.upstreamMirror === 'string') {
    const mirror = parseUpstreamMirror(record.upstreamMirror);
    if (mirror.ok) {
      if (mirror.value !== undefined) settings.upstreamMirror = mirror.value;
    } else problems.push(`saved upstream mirror ignored: ${mirror.error}`);
  }
  if (typeof record.relayUrl === 'string') {
    const relay = parseRelayUrl(record.relayUrl, baseUri);
    if (relay.ok) {
      if (relay.value !== undefined) settings.relayUrl = relay.value;
    } else problems.push(`saved relay URL ignored: ${relay.error}`);
  }
  return problems.length === 0 ? { settings } : { settings, problem: `Network settings: ${problems.join('; ')}` };
}

/** Remembers the settings; all-default settings remove the entry. Throws with a sentence if storage refuses. */
export function saveNetSettings(storage: SettingsStorage, settings: NetSettings): void {
  try {
    if (settings.proxyUrl === undefined && settings.upstreamMirror === undefined && settings.relayUrl === undefined) {
      storage.removeItem(NET_SETTINGS_KEY);
      return;
    }
    storage.setItem(NET_SETTINGS_KEY, JSON.stringify({ version: STORED_VERSION, ...settings }));
  } catch (error) {
    throw new Error(`The browser refused to store the network settings (${describe(error)}); they apply to this page only until it is reloaded.`);
  }
}

/** What boot() gets: only the fields the user set, so the worker's defaults fill the rest. */
export function networkOptions(settings: NetSettings): NetworkOptions {
  const options: NetworkOptions = {};
  if (settings.proxyUrl !== undefined) options.proxyUrl = settings.proxyUrl;
  if (settings.upstreamMirror !== undefined) options.dockerHubUpstream = settings.upstreamMirror;
  if (settings.relayUrl !== undefined) options.relayUrl = settings.relayUrl;
  return options;
}

/** Whether two settings would configure the worker the same way. */
export function sameNetSettings(a: NetSettings, b: NetSettings): boolean {
  return a.proxyUrl === b.proxyUrl && a.upstreamMirror === b.upstreamMirror && a.relayUrl === b.relayUrl;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The proxy the worker uses when none is set (worker/vm/worker.ts computes the same): VITE_CORS_PROXY from the
 * build, relative to the page, else /cors-proxy/ on the page's origin, which `vite` and `vite preview` serve.
 */
export function defaultProxyUrl(configured: unknown, pageUrl: string): string {
  const base = typeof configured === 'string' && configured !== '' ? new URL(configured, pageUrl).href : new URL('/cors-proxy/', pageUrl).href;
  return base.endsWith('/') ? base : `${base}/`;
}

/**
 * The relay the worker uses when none is set (worker/vm/worker.ts computes the same): VITE_TABDOCK_RELAY from the
 * build, relative to the page, else /wisp/ on the page's origin, which `vite` and `vite preview` serve.
 */
export function defaultRelayUrl(configured: unknown, pageUrl: string): string {
  const url = new URL(typeof configured === 'string' && configured !== '' ? configured : '/wisp/', pageUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}
