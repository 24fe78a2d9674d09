// Runs a web-standard `(Request) => Promise<Response>` handler on Node's http request/response pair, streaming
// the body with the socket's back-pressure. Typed structurally so the Vite plugin needs no Node types.
import { PROXY_ERROR_HEADER, type ProxyErrorCode } from '../../shared/proxy-errors.ts';

export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  once(event: 'close', listener: () => void): unknown;
}

export interface NodeResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  setHeader(name: string, value: string): unknown;
  write(chunk: Uint8Array): boolean;
  end(body?: string): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
  destroy(): unknown;
}

/**
 * Runs the handler for one request. Never rejects: whatever goes wrong is answered with an error status (or, once
 * the body started, a cut connection), so callers may start it with `void` and one request cannot end the process.
 */
export async function runOnNode(
  handler: (request: Request) => Promise<Response>,
  req: NodeRequestLike,
  res: NodeResponseLike,
): Promise<void> {
  try {
    const request = toRequest(req);
    if (!(request instanceof Request)) {
      answer(res, ...request);
      return;
    }
    await respond(await handler(request), req, res);
  } catch (error) {
    try {
      answer(res, 500, 'unreachable', `the proxy failed: ${error instanceof Error ? error.message : String(error)}`);
    } catch {
      // Not even an error status can be written: the cut connection is the answer.
      res.destroy();
    }
  }
}

type Refusal = [status: number, code: ProxyErrorCode, message: string, extra?: Record<string, string>];

/** The request as fetch's Request, or why it cannot be one (what the handler never has to see). */
function toRequest(req: NodeRequestLike): Request | Refusal {
  const target = req.url ?? '/';
  // Only origin-form targets (`/<host>/<path>`): an absolute-form or `*` target names no proxy URL.
  if (!target.startsWith('/')) return [400, 'bad-request', `proxy URLs look like /<host>/<path>, not ${JSON.stringify(target.slice(0, 80))}`];
  const host = typeof req.headers.host === 'string' ? req.headers.host : 'localhost';
  let url: URL;
  try {
    url = new URL(`http://${host}${target}`);
  } catch {
    // RFC 9112 section 3.2: a Host header with an invalid value is answered with 400.
    return [400, 'bad-request', `the Host header ${JSON.stringify(host.slice(0, 80))} is not a host[:port]`];
  }
  const method = req.method ?? 'GET';
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith(':') || value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    // The proxy only takes GET/HEAD/OPTIONS, so the request body is never read.
    return new Request(url, { method, headers });
  } catch (error) {
    // What fetch cannot carry at all: TRACE, TRACK, CONNECT, or a header value it refuses.
    return /^(TRACE|TRACK|CONNECT)$/i.test(method)
      ? [405, 'method', `the proxy only forwards GET and HEAD, not ${method}`, { allow: 'GET, HEAD, OPTIONS' }]
      : [400, 'bad-request', `this request cannot be forwarded: ${error instanceof Error ? error.message : String(error)}`];
  }
}

async function respond(response: Response, req: NodeRequestLike, res: NodeResponseLike): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  if (response.body === null || req.method === 'HEAD') {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  let clientGone = false;
  res.once('close', () => {
    clientGone = !res.writableEnded;
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (clientGone || res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          // Both listeners go once either fires: a long download waits many times on one response.
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    }
    res.end();
  } catch (error) {
    // The upstream broke mid-body; headers are out, so cutting the connection is the only signal left
    // (ending normally would pass a short body off as complete).
    await reader.cancel(error).catch(() => undefined);
    res.destroy();
  }
}

function answer(res: NodeResponseLike, status: number, code: ProxyErrorCode, message: string, extra: Record<string, string> = {}): void {
  // Headers already out (the upstream broke mid-body): cutting the connection is the only signal left.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader(PROXY_ERROR_HEADER, code);
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  res.end(`tabdock CORS proxy: ${message}\n`);
}
