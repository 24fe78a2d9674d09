// Port preview in the Vite servers and the build (README "Port preview"): `vite build` writes the preview bundle
// to dist/preview/ and the same Service Worker beside index.html (the fallback without a preview origin);
// `vite` and `vite preview` serve the bundle on a second port and tell the page where at `port-preview.json`.
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Connect, Plugin, ResolvedConfig } from 'vite';
import { buildPreviewBundle, SERVICE_WORKER_FILE, SERVICE_WORKER_SOURCE, type BundleFiles } from './preview-bundle.ts';
import { defaultPreviewPort, previewPortSetting, startPreviewServer } from './preview-server.ts';

/** Answered next to index.html by `vite` and `vite preview` (src/port-preview/preview-origin.ts reads it). */
export const PREVIEW_DISCOVERY_FILE = 'port-preview.json';
/** Where `vite build` puts the bundle inside dist/, for `vite preview` and for deploying to a preview host. */
export const PREVIEW_BUNDLE_DIR = 'preview';

function readBundle(dir: string): BundleFiles {
  const files: BundleFiles = new Map();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

interface ServerLike {
  middlewares: Connect.Server;
  httpServer: { once(event: 'listening' | 'close', listener: () => void): unknown; address(): AddressInfo | string | null } | null;
  config: ResolvedConfig;
}

export function portPreviewPlugin(): Plugin {
  let outDir = '';
  /** The preview origin's port once it listens; undefined while not (the page then falls back and says so). */
  let listeningPort: number | undefined;
  let scheme: 'http' | 'https' = 'http';

  const discovery: Connect.NextHandleFunction = (req, res, next) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.endsWith(`/${PREVIEW_DISCOVERY_FILE}`)) return next();
    let hostname: string | undefined;
    try {
      hostname = req.headers.host ? new URL(`http://${req.headers.host}`).hostname : undefined;
    } catch {
      hostname = undefined;
    }
    if (listeningPort === undefined || hostname === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('No preview origin is running.\n');
      return;
    }
    // The host the page used, so the preview origin resolves to the same server (localhost, 127.0.0.1, a name).
    const body = JSON.stringify({ previewUrl: `${scheme}://${hostname}:${listeningPort}/` });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
  };

  const mount = (server: ServerLike, kind: 'dev' | 'preview', files: () => Promise<BundleFiles>): void => {
    server.middlewares.use(discovery);
    const httpServer = server.httpServer;
    if (!httpServer) return;
    const logger = server.config.logger;
    httpServer.once('listening', () => {
      const address = httpServer.address();
      if (address === null || typeof address === 'string') return;
      let port: number;
      try {
        port = previewPortSetting(process.env['TABDOCK_PREVIEW_PORT']) ?? defaultPreviewPort(address.port);
      } catch (error) {
        logger.error(`port preview: ${error instanceof Error ? error.message : String(error)}; previews run with the app's origin`);
        return;
      }
      const options = kind === 'dev' ? server.config.server : server.config.preview;
      scheme = options.https ? 'https' : 'http';
      startPreviewServer({ port, host: address.address, https: options.https, allowedHosts: options.allowedHosts ?? [], files: files() }).then(
        (previewServer: Server) => {
          listeningPort = port;
          logger.info(`  ➜  Port previews: ${scheme}://localhost:${port}/ (their own origin; TABDOCK_PREVIEW_PORT moves it)`);
          httpServer.once('close', () => previewServer.close());
        },
        (error: unknown) => {
          logger.warn(`port preview: cannot listen on port ${port} (${error instanceof Error ? error.message : String(error)}); previews run with the app's origin. Set TABDOCK_PREVIEW_PORT to a free port.`);
        },
      );
    });
  };

  return {
    name: 'tabdock:port-preview',
    configResolved(config) {
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir);
    },
    configureServer(server) {
      // The same-origin fallback registers the worker under its built name; the dev server answers with the source
      // as a module (src/port-preview/port-router.ts registers it with type 'module' there).
      server.middlewares.use((req, _res, next) => {
        const [path, query] = (req.url ?? '').split('?');
        if (path?.endsWith(`/${SERVICE_WORKER_FILE}`)) req.url = `/${relative(server.config.root, SERVICE_WORKER_SOURCE)}${query ? `?${query}` : ''}`;
        next();
      });
      // Built in memory once the server listens; the bundle is small (a page, a script, the worker).
      let built: Promise<BundleFiles> | undefined;
      mount(server, 'dev', () => (built ??= buildPreviewBundle(join(tmpdir(), 'tabdock-preview-bundle'), false)));
    },
    configurePreviewServer(server) {
      mount(server, 'preview', async () => readBundle(join(outDir, PREVIEW_BUNDLE_DIR)));
    },
    async writeBundle() {
      const dir = join(outDir, PREVIEW_BUNDLE_DIR);
      await buildPreviewBundle(dir, true);
      copyFileSync(join(dir, SERVICE_WORKER_FILE), join(outDir, SERVICE_WORKER_FILE));
      this.info(`port preview: bundle in ${relative(process.cwd(), dir)}/, ${SERVICE_WORKER_FILE} beside index.html`);
    },
  };
}
