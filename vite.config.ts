// Vite builds the page and its VM worker into a static site (dist/) that runs from any static host and any
// sub-path. The guest image (public/vm/, hundreds of MB) is hard-linked into dist/ rather than copied.
import { copyFileSync, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';

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
 * its content hash, so a browser may keep it forever. Both dev and preview serve vm/ with sirv, which
 * answers HTTP Range requests with 206 as v86's lazily loaded disk needs.
 */
const vmCacheHeaders: Connect.NextHandleFunction = (req, res, next) => {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (/\/vm\/manifest\.json$/.test(path)) res.setHeader('Cache-Control', 'no-cache');
  else if (/\/vm\/[^/]+$/.test(path)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  next();
};

function vmAssetHeaders(): Plugin {
  return {
    name: 'tabdock:vm-asset-headers',
    configureServer(server) {
      server.middlewares.use(vmCacheHeaders);
    },
    configurePreviewServer(server) {
      server.middlewares.use(vmCacheHeaders);
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
  },
  worker: {
    // The VM worker is a module worker (`type: 'module'`), so its bundle must be ES modules too.
    format: 'es',
  },
  server: { port: 5173 },
  preview: { port: 4173 },
  plugins: [linkPublicDir(), vmAssetHeaders()],
});
