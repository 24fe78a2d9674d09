// Runs a web-standard `(Request) => Promise<Response>` handler on Node's http request/response pair, streaming
// the body with the socket's back-pressure. Typed structurally so the Vite plugin needs no Node types.

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

export async function runOnNode(
  handler: (request: Request) => Promise<Response>,
  req: NodeRequestLike,
  res: NodeResponseLike,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const host = typeof req.headers.host === 'string' ? req.headers.host : 'localhost';
  // The proxy only takes GET/HEAD/OPTIONS, so the request body is never read.
  const request = new Request(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
  let response: Response;
  try {
    response = await handler(request);
  } catch (error) {
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`tabdock CORS proxy failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return;
  }
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
