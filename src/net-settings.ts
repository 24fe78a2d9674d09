// The page's network settings: which CORS proxy registry traffic leaves through, which registry stands in for
// Docker Hub, and which Wisp relay carries every other TCP connection from containers. Parsed and validated here
// (no DOM, with the parsers of worker/shared/network-options.ts), remembered in localStorage, and handed to boot()
// complete, over the build's defaults (networkDefaults), so the worker computes no network setting of its own.
import type { NetworkOptions } from '../worker/shared/contract.ts';
import { parseProxyUrl, parseRelayUrl, parseUpstreamMirror, type FieldResult } from '../worker/shared/network-options.ts';

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

/** The storage slice used (localStorage in the page, a Map in tests). */
export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
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

/** The network the page falls back to for each field the user left empty (networkDefaults). */
export type NetDefaults = Pick<NetworkOptions, 'proxyUrl' | 'relayUrl'>;

/** What boot() gets: the user's settings over the defaults, complete (the worker computes nothing of its own). */
export function networkOptions(settings: NetSettings, defaults: NetDefaults): NetworkOptions {
  return {
    proxyUrl: settings.proxyUrl ?? defaults.proxyUrl,
    relayUrl: settings.relayUrl ?? defaults.relayUrl,
    ...(settings.upstreamMirror === undefined ? {} : { dockerHubUpstream: settings.upstreamMirror }),
  };
}

/**
 * The build's defaults, made absolute against the page once: VITE_CORS_PROXY, else /cors-proxy/ on the page's
 * origin; VITE_TABDOCK_RELAY (a URL, a path, or `off`), else /wisp/ on the page's origin (`vite` and `vite
 * preview` serve both). A build setting that does not parse is replaced by that fallback, and `problem` says so.
 */
export function networkDefaults(env: Record<string, unknown>, pageUrl: string): NetDefaults & { problem?: string } {
  const proxy = buildSetting('VITE_CORS_PROXY', env['VITE_CORS_PROXY'], '/cors-proxy/', (text) => parseProxyUrl(text, pageUrl));
  const relay = buildSetting('VITE_TABDOCK_RELAY', env['VITE_TABDOCK_RELAY'], '/wisp/', (text) => parseRelayUrl(text, pageUrl));
  const problems = [proxy.problem, relay.problem].filter((problem) => problem !== undefined);
  return { proxyUrl: proxy.value, relayUrl: relay.value, ...(problems.length > 0 ? { problem: problems.join(' ') } : {}) };
}

export function defaultProxyUrl(configured: unknown, pageUrl: string): string {
  return networkDefaults({ VITE_CORS_PROXY: configured }, pageUrl).proxyUrl;
}

export function defaultRelayUrl(configured: unknown, pageUrl: string): string {
  return networkDefaults({ VITE_TABDOCK_RELAY: configured }, pageUrl).relayUrl;
}

function buildSetting(name: string, configured: unknown, fallback: string, parse: (text: string) => FieldResult): { value: string; problem?: string } {
  const fallbackValue = (): string => {
    const parsed = parse(fallback);
    if (!parsed.ok || parsed.value === undefined) throw new Error(`the built-in default ${fallback} for ${name} does not parse`);
    return parsed.value;
  };
  if (typeof configured !== 'string' || configured.trim() === '') return { value: fallbackValue() };
  const parsed = parse(configured);
  if (parsed.ok && parsed.value !== undefined) return { value: parsed.value };
  const why = parsed.ok ? 'it is empty' : parsed.error;
  return { value: fallbackValue(), problem: `This site was built with ${name}=${configured}, which is not usable (${why}); using ${fallback} instead. Set it in the Network dialog, or rebuild the site with a valid one.` };
}

/** Whether two settings would configure the worker the same way. */
export function sameNetSettings(a: NetSettings, b: NetSettings): boolean {
  return a.proxyUrl === b.proxyUrl && a.upstreamMirror === b.upstreamMirror && a.relayUrl === b.relayUrl;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
