// The CORS proxy between the browser tab and container registries: one web-standard
// `(request: Request) => Promise<Response>` handler, so it runs unchanged on Node, Cloudflare Workers and Deno.
// URL scheme: `<base><host[:port]>/<path>?<query>`, e.g. `/cors-proxy/registry-1.docker.io/v2/`.
import { PROXY_ERROR_HEADER, type ProxyErrorCode } from '../shared/proxy-errors.ts';
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, HostAllowList, type HostPattern } from './allow-list.ts';

export interface CorsProxyConfig {
  /** Path prefix the proxy is mounted under, with leading and trailing slash ('/' or '/cors-proxy/'). */
  basePath?: string;
  /** Hosts a client may name directly (registries, token services). */
  registryHosts?: readonly HostPattern[];
  /** Hosts reachable only as the target of a redirect the proxy follows (blob CDNs). */
  redirectHosts?: readonly HostPattern[];
  /** Time allowed for the upstream's response head; the body may take as long as it needs. */
  upstreamTimeoutMs?: number;
  maxRedirects?: number;
  /** Injected for tests and for runtimes whose global fetch needs wrapping. */
  fetch?: typeof fetch;
  /**
   * Used instead of `fetch` for targets whose name only a wildcard entry allows (`*.amazonaws.com`): on Node it
   * connects only to a public address the name resolves to (node/checked-fetch.ts). Edge runtimes reach no
   * private addresses and leave it unset.
   */
  fetchByWildcard?: (url: URL, init: RequestInit) => Promise<Response>;
}

/** Request headers passed upstream; everything else (cookies above all) is dropped. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'authorization', 'range', 'if-none-match', 'if-range'];

/** Response headers a registry client needs to read from script (CORS hides all but a few by default). */
export const EXPOSED_RESPONSE_HEADERS = [
  'content-length', 'content-type', 'content-range', 'accept-ranges', 'docker-content-digest',
  'docker-distribution-api-version', 'www-authenticate', 'location', 'retry-after', 'ratelimit-limit',
  'ratelimit-remaining', 'ratelimit-reset', 'etag', 'last-modified', PROXY_ERROR_HEADER, 'x-tabdock-final-url',
];

const DROPPED_RESPONSE_HEADERS = new Set([
  'set-cookie', 'set-cookie2', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer',
  'strict-transport-security', 'alt-svc', 'content-security-policy', 'content-security-policy-report-only', 'refresh',
]);

/**
 * On every answer: the proxy runs on the app's own origin under `npm start`, so whatever an upstream sends (HTML,
 * SVG with script) must never run there (#24 item 6): a sandboxed document with no sources, and no sniffing a
 * type that would.
 */
const INERT_CONTENT_HEADERS = {
  'content-security-policy': "sandbox; default-src 'none'",
  'x-content-type-options': 'nosniff',
};

export function createCorsProxy(config: CorsProxyConfig = {}): (request: Request) => Promise<Response> {
  const basePath = config.basePath ?? '/';
  const direct = new HostAllowList(config.registryHosts ?? DEFAULT_REGISTRY_HOSTS);
  const viaRedirect = new HostAllowList([
    ...(config.registryHosts ?? DEFAULT_REGISTRY_HOSTS),
    ...(config.redirectHosts ?? DEFAULT_REDIRECT_HOSTS),
  ]);
  const upstreamTimeoutMs = config.upstreamTimeoutMs ?? 30_000;
  const maxRedirects = config.maxRedirects ?? 5;
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init));

  return async (request) => {
    if (request.method === 'OPTIONS') return preflight(request);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return proxyError(405, 'method', `the proxy only forwards GET and HEAD, not ${request.method}`, {
        allow: 'GET, HEAD, OPTIONS',
      });
    }
    const requestUrl = new URL(request.url);
    if (!requestUrl.pathname.startsWith(basePath)) {
      return proxyError(404, 'bad-target', `proxy URLs look like ${basePath}<host>/<path>`);
    }
    const rest = requestUrl.pathname.slice(basePath.length);
    const slash = rest.indexOf('/');
    const hostPort = slash === -1 ? rest : rest.slice(0, slash);
    const path = slash === -1 ? '/' : rest.slice(slash);
    if (hostPort === '' || !/^[A-Za-z0-9.\-:[\]]+$/.test(hostPort)) {
      return proxyError(400, 'bad-target', `proxy URLs look like ${basePath}<host>/<path>; got ${requestUrl.pathname}`);
    }
    // An encoded slash or backslash would let an upstream that decodes before routing leave an allowed path.
    if (/%(2f|5c)/i.test(path)) {
      return proxyError(400, 'bad-target', `registry paths never contain an encoded "/" or "\\"; got ${path.slice(0, 100)}`);
    }
    const scheme = direct.schemeFor(hostPort, path);
    if (scheme === undefined) {
      return proxyError(
        403,
        'not-allowed',
        direct.schemeFor(hostPort, '/v2/') === undefined && direct.schemeFor(hostPort, '/token') === undefined
          ? `${hostPort} is not on this proxy's allow-list. Add it with --allow ${hostPort} (or TABDOCK_PROXY_ALLOW) ` +
              'if it is a container registry you trust.'
          : `${hostPort}${path.slice(0, 100)} is outside the registry paths this proxy reaches on ${hostPort}.`,
      );
    }
    let target = new URL(`${scheme}://${hostPort}${path}${requestUrl.search}`);
    const headers = new Headers();
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    // Compressed transfer would make Content-Length and the registry's digests disagree with what fetch yields.
    headers.set('accept-encoding', 'identity');

    for (let hop = 0; ; hop++) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), upstreamTimeoutMs);
      let upstream: Response;
      try {
        const byWildcard = config.fetchByWildcard && !isIpLiteral(target.hostname) && !viaRedirect.namesExactly(target);
        upstream = await (byWildcard ? config.fetchByWildcard! : doFetch)(target, {
          method: request.method,
          headers,
          // No `credentials` option: server-side fetch sends no cookies, and Cloudflare Workers rejects the field.
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (error) {
        const timedOut = controller.signal.aborted;
        return proxyError(
          timedOut ? 504 : 502,
          timedOut ? 'timeout' : 'unreachable',
          timedOut
            ? `${target.origin} did not answer within ${upstreamTimeoutMs} ms`
            : `could not reach ${target.origin}: ${describe(error)}`,
        );
      } finally {
        clearTimeout(timer);
      }
      const location = upstream.headers.get('location');
      if (upstream.status >= 300 && upstream.status < 400 && location !== null) {
        const next = new URL(location, target);
        if (hop >= maxRedirects || !viaRedirect.allowsUrl(next)) {
          await upstream.body?.cancel();
          return proxyError(
            502,
            'redirect',
            hop >= maxRedirects
              ? `${target.origin} redirected more than ${maxRedirects} times`
              : `${target.origin} redirected to ${next.origin}, which is not on the proxy's redirect allow-list`,
          );
        }
        await upstream.body?.cancel();
        // Credentials belong to the registry: a CDN given a second auth scheme answers 400 (S3 does).
        if (next.origin !== target.origin) headers.delete('authorization');
        target = next;
        continue;
      }
      return relay(upstream, target);
    }
  };
}

function relay(upstream: Response, finalUrl: URL): Response {
  const headers = new Headers();
  upstream.headers.forEach((value, name) => {
    // The upstream's own CORS answer (credentials above all) is never passed on: the proxy gives its own.
    if (!DROPPED_RESPONSE_HEADERS.has(name) && !name.startsWith('access-control-')) headers.set(name, value);
  });
  for (const [name, value] of Object.entries(corsHeaders())) headers.set(name, value);
  headers.set('x-tabdock-final-url', finalUrl.href);
  // Response's constructor rejects a body with 204/304.
  const body = upstream.status === 204 || upstream.status === 304 ? null : upstream.body;
  return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers });
}

function corsHeaders(): Record<string, string> {
  // No Access-Control-Allow-Credentials: with a wildcard origin the browser never sends cookies.
  return {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS.join(', '),
    ...INERT_CONTENT_HEADERS,
  };
}

function preflight(request: Request): Response {
  const asked = (request.headers.get('access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => FORWARDED_REQUEST_HEADERS.includes(h));
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(),
      'access-control-allow-methods': 'GET, HEAD, OPTIONS',
      'access-control-allow-headers': [...new Set([...FORWARDED_REQUEST_HEADERS, ...asked])].join(', '),
      'access-control-max-age': '86400',
    },
  });
}

function proxyError(status: number, code: ProxyErrorCode, message: string, extra: Record<string, string> = {}): Response {
  return new Response(`tabdock CORS proxy: ${message}\n`, {
    status,
    headers: {
      ...corsHeaders(),
      'content-type': 'text/plain; charset=utf-8',
      [PROXY_ERROR_HEADER]: code,
      ...extra,
    },
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
    return causeText && causeText !== error.message ? `${error.message} (${causeText})` : error.message;
  }
  return String(error);
}

function isIpLiteral(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith('[');
}
