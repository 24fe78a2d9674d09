// Plain HTTP from the guest that is not registry traffic (e.g. `wget -qO- http://example.com` in a container):
// forwarded through the same fetch path. HTTPS is not possible: the guest's TLS would need a real peer.
import { headerValue, type Http1Request } from './http1.ts';
import { requestLocation } from './registry-mirror.ts';
import { type Upstream, UpstreamError } from './upstream.ts';

const FORWARDED_HEADERS = ['accept', 'range', 'if-none-match', 'if-modified-since', 'if-range'];
const RETURNED_HEADERS_DROPPED = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding', 'x-tabdock-final-url']);

/** `rewrite` maps a guest-visible host to an upstream origin (the shim's hostRewrites), if one is configured. */
export async function forwardHttp(
  upstream: Upstream,
  request: Http1Request,
  rewrite: (host: string) => string | undefined = () => undefined,
): Promise<Response> {
  const { host } = requestLocation(request);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return textResponse(501, `tabdock forwards only GET and HEAD requests from the VM, not ${request.method}`);
  }
  if (host === '') return textResponse(400, 'the request has no Host header, so tabdock cannot tell where it goes');
  const query = request.target.includes('?') ? request.target.slice(request.target.indexOf('?')) : '';
  const path = /^https?:\/\//i.test(request.target) ? new URL(request.target).pathname : request.target.split('?')[0] ?? '/';
  const rewritten = rewrite(host);
  const origin = rewritten === undefined ? `http://${host}` : /^https?:\/\//.test(rewritten) ? rewritten : `http://${rewritten}`;
  const target = new URL(`${origin}${path}${query}`);
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headerValue(request, name);
    if (value !== undefined) headers[name] = value;
  }
  let response: Response;
  try {
    response = await upstream.fetch(target, { method: request.method, headers });
  } catch (error) {
    if (error instanceof UpstreamError) return textResponse(502, `tabdock could not fetch ${target.href}: ${error.message}`);
    throw error;
  }
  const returned = new Headers();
  response.headers.forEach((value, name) => {
    if (!RETURNED_HEADERS_DROPPED.has(name) && !name.startsWith('access-control-')) returned.set(name, value);
  });
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: returned });
}

function textResponse(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
