// The parsers of the network settings (NetworkOptions in contract.ts), one per field, shared by the page's Network
// dialog (src/net-settings.ts) and `npm run vm`'s flags (worker/node/network-flags.ts). Each takes what a person
// typed and answers with the normalised value or a sentence that says what to enter instead.

export type FieldResult = { ok: true; value: string | undefined } | { ok: false; error: string };

/**
 * A CORS proxy URL as typed: empty means the default; with a base (the page), a path such as `/cors-proxy/` is
 * taken relative to it; anything else must be an http(s) URL without credentials, query or fragment (the shim
 * appends `host/path`). The value always ends in '/'.
 */
export function parseProxyUrl(text: string, baseUri?: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  const url = parseUrl(trimmed, baseUri);
  if (!url) {
    const example = baseUri === undefined ? 'http://127.0.0.1:8787/ (from `npm run proxy`)' : 'https://proxy.example.com/ or /cors-proxy/';
    return { ok: false, error: `"${trimmed}" is not ${baseUri === undefined ? 'an absolute URL' : 'a URL'}; enter one like ${example}.` };
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
  return { ok: true, value: withSlash(url.href) };
}

// A DNS name or IPv4 address with an optional port (RFC 1123 labels); enough for registries.
const HOST_PORT = /^(?=.{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::(\d{1,5}))?$/i;

/** `host[:port]`, lower-cased, with the port in range; undefined when it is not one. */
export function parseHostPort(text: string): { host: string; port: number | undefined } | undefined {
  const match = HOST_PORT.exec(text);
  const port = match?.[1] === undefined ? undefined : Number(match[1]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) return undefined;
  return { host: text.toLowerCase(), port };
}

/** An `http(s)://host[:port]` origin: no path, query, fragment or credentials (a registry serves /v2/ at its root). */
export function parseHttpOrigin(text: string, what: string): FieldResult {
  const url = parseUrl(text.trim());
  if (!url) return { ok: false, error: `"${text.trim()}" is not a valid address; enter one like http://127.0.0.1:5000.` };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `${what} must be a host name or an http:// or https:// address (got ${url.protocol}//).` };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, error: `${what} must not contain a user name or password.` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { ok: false, error: `Give ${what.replace(/^The /, 'the ')} without a path (e.g. https://mirror.example.com): it serves /v2/ at its root.` };
  }
  return { ok: true, value: url.origin };
}

/**
 * A Docker Hub upstream as typed: empty means Docker Hub itself; `mirror.gcr.io` or `host:port` is reached over
 * HTTPS; `http://host:port` for a plain-HTTP mirror (e.g. a local registry). No path: mirrors serve /v2/ at the root.
 */
export function parseUpstreamMirror(text: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return parseHttpOrigin(trimmed, 'The upstream mirror');
  const hostPort = parseHostPort(trimmed);
  if (!hostPort) {
    return { ok: false, error: `"${trimmed}" is not a host name; enter one like mirror.gcr.io, registry.example.com:5000 or http://127.0.0.1:5000.` };
  }
  return { ok: true, value: hostPort.host };
}

/**
 * A relay URL as typed: empty means the default; `off` turns egress off; with a base (the page), a path such as
 * `/wisp/` is taken relative to it; http(s) becomes ws(s). No query or fragment (the Wisp client needs a URL
 * ending in '/'); a token goes in the path (`wss://relay.example/wisp/<token>/`).
 */
export function parseRelayUrl(text: string, baseUri?: string): FieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  if (trimmed.toLowerCase() === 'off') return { ok: true, value: 'off' };
  const url = parseUrl(trimmed, baseUri);
  if (!url) {
    return { ok: false, error: `"${trimmed}" is not a URL; enter one like wss://relay.example.com/wisp/${baseUri === undefined ? '' : ' or /wisp/'}, or off.` };
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
  return { ok: true, value: withSlash(url.href) };
}

function parseUrl(text: string, baseUri?: string): URL | undefined {
  try {
    return new URL(text, baseUri);
  } catch {
    return undefined;
  }
}

function withSlash(href: string): string {
  return href.endsWith('/') ? href : `${href}/`;
}
