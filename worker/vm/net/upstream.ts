// The shim's way out: turns an upstream URL into a fetch through the CORS proxy (or a direct fetch), follows
// redirects the proxy did not follow, bounds the wait for a response head, and names what failed.
import { PROXY_ERROR_HEADER } from '../../shared/proxy-errors.ts';

export interface UpstreamConfig {
  /**
   * Base URL of the CORS proxy, ending in '/', e.g. `http://localhost:5173/cors-proxy/`. Undefined fetches
   * upstream URLs directly (Node, or registries that send CORS headers themselves).
   */
  proxyUrl?: string;
  /** Time allowed for a response head; a body may take as long as it needs. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Injected for tests (e.g. the proxy handler in-process); defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

export type UpstreamErrorCode =
  /** The proxy itself did not answer: wrong URL, not running, or offline. */
  | 'proxy-unreachable'
  /** The proxy answered but refused the target (allow-list, method). */
  | 'proxy-refused'
  /** The proxy (or a direct fetch) could not reach the registry. */
  | 'upstream-unreachable'
  | 'timeout';

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly url: string;
  constructor(code: UpstreamErrorCode, message: string, url: string) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.url = url;
  }
}

export interface UpstreamRequest {
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
}

export class Upstream {
  readonly proxyUrl: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly doFetch: (request: Request) => Promise<Response>;

  constructor(config: UpstreamConfig = {}) {
    if (config.proxyUrl !== undefined && !config.proxyUrl.endsWith('/')) {
      throw new Error(`proxyUrl must end in "/" (got ${config.proxyUrl}); e.g. http://localhost:5173/cors-proxy/`);
    }
    this.proxyUrl = config.proxyUrl;
    this.timeoutMs = config.timeoutMs ?? 30_000;
    this.maxRedirects = config.maxRedirects ?? 5;
    this.doFetch = config.fetch ?? ((request) => fetch(request));
  }

  /** The URL actually fetched for `target`: `<proxy><host[:port]><path>?<query>` behind a proxy. */
  fetchUrlFor(target: URL): string {
    if (this.proxyUrl === undefined) return target.href;
    return `${this.proxyUrl}${target.host}${target.pathname}${target.search}`;
  }

  /** Fetches `target`, following redirects; rejects with UpstreamError, never with a bare TypeError. */
  async fetch(target: URL, request: UpstreamRequest): Promise<Response> {
    const headers = new Headers(request.headers);
    // Node's fetch would otherwise ask for gzip and decode it, leaving Content-Length describing other bytes.
    // Browsers ignore this header (it is forbidden there); the CORS proxy sets it for them.
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'identity');
    let current = target;
    for (let hop = 0; ; hop++) {
      const response = await this.fetchOnce(current, request.method, headers);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel();
      if (hop >= this.maxRedirects) {
        throw new UpstreamError('upstream-unreachable', `${target.host} redirected more than ${this.maxRedirects} times`, target.href);
      }
      const next = new URL(location, current);
      // A blob CDN must not see the registry's token (S3 rejects a second auth scheme with 400).
      if (next.origin !== current.origin) headers.delete('authorization');
      current = next;
    }
  }

  private async fetchOnce(target: URL, method: 'GET' | 'HEAD', headers: Headers): Promise<Response> {
    const url = this.fetchUrlFor(target);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await this.doFetch(new Request(url, { method, headers, redirect: 'manual', signal: controller.signal }));
    } catch (error) {
      if (controller.signal.aborted) {
        throw new UpstreamError(
          'timeout',
          `${this.proxyUrl ?? target.origin} did not answer within ${this.timeoutMs} ms for ${target.href}`,
          target.href,
        );
      }
      const detail = error instanceof Error ? error.message : String(error);
      if (this.proxyUrl !== undefined) {
        throw new UpstreamError(
          'proxy-unreachable',
          `the CORS proxy at ${this.proxyUrl} is unreachable (${detail}); start it with \`npm run proxy\` or fix the ` +
            'proxy URL in the tabdock settings',
          target.href,
        );
      }
      throw new UpstreamError('upstream-unreachable', `could not reach ${target.origin}: ${detail}`, target.href);
    } finally {
      clearTimeout(timer);
    }
    const proxyError = response.headers.get(PROXY_ERROR_HEADER);
    if (proxyError !== null) {
      const body = (await response.text()).trim();
      const code: UpstreamErrorCode =
        proxyError === 'timeout' ? 'timeout' : proxyError === 'unreachable' || proxyError === 'redirect' ? 'upstream-unreachable' : 'proxy-refused';
      throw new UpstreamError(code, body || `the CORS proxy at ${this.proxyUrl} refused ${target.href}`, target.href);
    }
    return response;
  }
}
