// The preview origin of `npm start` and `npm run dev`: a second listener, beside the app's port, that serves the
// preview bundle and nothing else (no page, script or file of the app). Same host, other port: another origin
// but the same site, so the panel's frame keeps first-party storage in every browser (README "Port preview").
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { isIP } from 'node:net';
import type { BundleFiles } from './preview-bundle.ts';

/** Where previews go when TABDOCK_PREVIEW_PORT does not say: the app's port plus this (4173 -> 14173). */
export const PREVIEW_PORT_OFFSET = 10_000;

export function defaultPreviewPort(appPort: number): number {
  return appPort + PREVIEW_PORT_OFFSET <= 65535 ? appPort + PREVIEW_PORT_OFFSET : appPort - PREVIEW_PORT_OFFSET;
}

/** TABDOCK_PREVIEW_PORT, when set: a port number, or an error that says what is wrong. */
export function previewPortSetting(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`TABDOCK_PREVIEW_PORT=${value} is not a TCP port number (1-65535)`);
  return port;
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * Host names this server answers, as Vite's own default: loopback names and IP literals, plus the dev
 * server's allowedHosts. Anything else may be a DNS-rebinding page (https://vite.dev/config/server-options#server-allowedhosts).
 */
export function hostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[] | true): boolean {
  if (!hostHeader) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (allowedHosts === true || bare === 'localhost' || bare.endsWith('.localhost') || isIP(bare) !== 0) return true;
  return allowedHosts.some((allowed) => (allowed.startsWith('.') ? bare === allowed.slice(1) || bare.endsWith(allowed) : bare === allowed));
}

/** The response for one request to the preview origin: a bundle file, or the bundle's 404 page. */
export function previewResponse(method: string, rawUrl: string, files: BundleFiles): { status: number; headers: Record<string, string>; body: Uint8Array | undefined } {
  const headers: Record<string, string> = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: new TextEncoder().encode('The preview origin serves only its own pages; container pages come through its Service Worker.\n') };
  }
  let path: string | undefined;
  try {
    path = decodeURIComponent(new URL(rawUrl, 'http://preview.invalid').pathname).slice(1) || 'index.html';
  } catch {
    // Not a path at all (a broken %-escape): nothing of the bundle is there.
    path = undefined;
  }
  const file = path === undefined || path.split('/').includes('..') ? undefined : files.get(path);
  const name = file && path ? path : '404.html';
  const body = file ?? files.get('404.html');
  headers['content-type'] = CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
  return { status: file ? 200 : 404, headers, body: method === 'HEAD' ? undefined : body };
}

export interface PreviewServerOptions {
  port: number;
  /** The app server's bound address (`::1`, `127.0.0.1`, `::`): previews listen where the app does. */
  host: string;
  https: HttpsOptions | undefined;
  allowedHosts: readonly string[] | true;
  /** The bundle's files; a promise while the dev server still builds them. */
  files: Promise<BundleFiles>;
}

export function startPreviewServer(options: PreviewServerOptions): Promise<Server> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req.headers.host, options.allowedHosts)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('This host name is not allowed for the preview origin (Vite allowedHosts).\n');
      return;
    }
    options.files.then(
      (files) => {
        const answer = previewResponse(req.method ?? 'GET', req.url ?? '/', files);
        res.writeHead(answer.status, answer.headers).end(answer.body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`The preview bundle failed to build: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
  const server = options.https ? createHttpsServer(options.https, handler) : createHttpServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
