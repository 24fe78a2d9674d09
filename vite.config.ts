// Vite builds the page and its VM worker into a static site (dist/) that runs from any static host and any
// sub-path. The guest image (public/vm/, hundreds of MB) is hard-linked into dist/ rather than copied.
import { copyFileSync, createReadStream, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';
import { corsProxyPlugin } from './worker/proxy/node/vite-plugin.ts';
import { wispRelayPlugin } from './worker/proxy/node/wisp-vite-plugin.ts';
import { portPreviewPlugin } from './worker/service-worker/node/vite-plugin.ts';

/**
 * Vite's own publicDir copy would duplicate the root disk on every build. Hard links cost nothing and are
 * still real files, so dist/ stays deployable anywhere (rsync, scp, a CDN upload all see plain files).
 * Falls back to copying across file systems.
 */
function linkPublicDir(): Plugin {
  let publicDir = '';
  let outDir = '';
  return {
    name: 'tabdock:link-public-dir',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir);
    },
    writeBundle() {
      if (!publicDir || !existsDir(publicDir)) return;
      let linked = 0;
      let copied = 0;
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const from = join(dir, entry.name);
          const to = join(outDir, relative(publicDir, from));
          if (entry.isDirectory()) {
            mkdirSync(to, { recursive: true });
            walk(from);
          } else if (entry.isFile()) {
            rmSync(to, { force: true });
            try {
              linkSync(from, to);
              linked++;
            } catch (error) {
              const code = (error as NodeJS.ErrnoException).code;
              if (code !== 'EXDEV' && code !== 'EPERM') throw error;
              copyFileSync(from, to);
              copied++;
            }
          }
        }
      };
      walk(publicDir);
      this.info(`public/ into ${relative(process.cwd(), outDir) || '.'}: ${linked} files hard-linked, ${copied} copied`);
    },
  };
}

function existsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The manifest must be fetched fresh (it names the current build); every other file under vm/ is named by
 * its content hash, so a browser may keep it forever.
 */
function cacheControlFor(vmPath: string): string {
  return vmPath === 'manifest.json' ? 'no-cache' : 'public, max-age=31536000, immutable';
}

/**
 * Parses a single `bytes=` range (RFC 9110 section 14.1.2) against a file size; undefined for anything else
 * (multiple ranges, other units), which then gets the whole file. 'unsatisfiable' means answer 416.
 */
function parseByteRange(header: string, sizeBytes: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, sizeBytes - suffix), end: sizeBytes - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? sizeBytes - 1 : Math.min(Number(match[2]), sizeBytes - 1);
  if (start >= sizeBytes || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Serves vm/ Range requests itself in dev and preview. Vite's bundled sirv reads `bytes=0-0` as "to the
 * end" (`parseInt(y) || size - 1`), answering a one-byte probe of the 2 GiB disk with the whole disk;
 * v86's lazily loaded disk and the asset source's probe both depend on exact 206 answers.
 */
function vmFiles(rootOf: (server: 'dev' | 'preview') => string, server: 'dev' | 'preview'): Connect.NextHandleFunction {
  return (req, res, next) => {
    const urlPath = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    const match = /\/vm\/(.+)$/.exec(urlPath);
    if (!match?.[1] || match[1].split('/').includes('..')) return next();
    const vmPath = match[1];
    res.setHeader('Cache-Control', cacheControlFor(vmPath));
    const rangeHeader = req.headers.range;
    if (!rangeHeader || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const file = join(rootOf(server), 'vm', vmPath);
    let sizeBytes: number;
    let modified: Date;
    try {
      const stats = statSync(file);
      if (!stats.isFile()) return next();
      sizeBytes = stats.size;
      modified = stats.mtime;
    } catch {
      // Not there: sirv (or Vite's 404) answers as for any missing file.
      return next();
    }
    const range = parseByteRange(rangeHeader, sizeBytes);
    if (range === undefined) return next();
    res.setHeader('Accept-Ranges', 'bytes');
    if (range === 'unsatisfiable') {
      res.statusCode = 416;
      res.setHeader('Content-Range', `bytes */${sizeBytes}`);
      res.end();
      return;
    }
    res.statusCode = 206;
    // Strong validators, as static hosts send them: without one Chromium does not keep 206 answers in its
    // HTTP cache, and a returning visitor fetched every disk range again.
    res.setHeader('ETag', `"${sizeBytes.toString(16)}-${Math.floor(modified.getTime()).toString(16)}"`);
    res.setHeader('Last-Modified', modified.toUTCString());
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${sizeBytes}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start: range.start, end: range.end });
    stream.on('error', (error) => res.destroy(error));
    stream.pipe(res);
  };
}

function vmAssetServing(): Plugin {
  let publicDir = '';
  let outDir = '';
  const rootOf = (server: 'dev' | 'preview') => (server === 'dev' ? publicDir : outDir);
  return {
    name: 'tabdock:vm-asset-serving',
    configResolved(config) {
      publicDir = config.publicDir;
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(vmFiles(rootOf, 'dev'));
    },
    configurePreviewServer(server) {
      server.middlewares.use(vmFiles(rootOf, 'preview'));
    },
  };
}

export default defineConfig({
  // Relative URLs everywhere, so the built site works under any sub-path (https://vite.dev/guide/build#relative-base).
  base: './',
  // A missing file must be a 404, not index.html: the SPA fallback would hand the VM an HTML page.
  appType: 'mpa',
  build: {
    target: 'es2022',
    copyPublicDir: false,
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      // Two pages (the full app, and embed mode for iframes: embed.html, src/labs/README.md "Embedding"). The port
      // preview's bundle and Service Worker are built on their own (worker/service-worker/node/vite-plugin.ts).
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        embed: fileURLToPath(new URL('./embed.html', import.meta.url)),
      },
      onwarn(warning, warn) {
        // zod 4 places /*#__PURE__*/ comments where Rollup cannot use them; harmless, and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
        warn(warning);
      },
    },
  },
  worker: {
    // The VM worker is a module worker (`type: 'module'`), so its bundle must be ES modules too.
    format: 'es',
  },
  // The state compressor's wasm is found beside its module (new URL('./zstd.wasm', import.meta.url)), which
  // the dev server's dependency pre-bundling would move away from it.
  optimizeDeps: { exclude: ['@bokuweb/zstd-wasm'] },
  server: { port: 5173 },
  preview: { port: 4173 },
  // The CORS proxy at /cors-proxy/ on dev and preview: registry pulls from the guest leave through it. The Wisp
  // relay at /wisp/: every other TCP connection from containers (HTTPS, git, docker push) leaves through it. Port
  // previews on an origin of their own, the app's port + 10000 (README "Port preview").
  plugins: [linkPublicDir(), vmAssetServing(), corsProxyPlugin(), wispRelayPlugin(), portPreviewPlugin()],
});
