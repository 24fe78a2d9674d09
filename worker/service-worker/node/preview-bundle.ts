// Builds the preview bundle, everything a preview origin serves (README "Port preview"): the shell page
// (src/port-preview/shell/), its 404 page and the Service Worker as one self-contained script. vite.config.ts
// writes it to dist/preview/ (and the worker beside index.html, for the same-origin fallback); the dev server
// builds it in memory.
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig, type Rollup } from 'vite';

export const SERVICE_WORKER_FILE = 'port-preview-sw.js';
export const SERVICE_WORKER_SOURCE = fileURLToPath(new URL('../service-worker.ts', import.meta.url));
const SHELL_DIR = fileURLToPath(new URL('../../../src/port-preview/shell/', import.meta.url));

/** File path inside the bundle (`index.html`, `assets/shell-1a2b.js`) to its bytes. */
export type BundleFiles = Map<string, Uint8Array>;

function common(outDir: string, write: boolean): InlineConfig {
  return {
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir,
      write,
      target: 'es2022',
      copyPublicDir: false,
      rollupOptions: {
        onwarn(warning, warn) {
          // zod places /*#__PURE__*/ comments where Rollup cannot use them; harmless, and not ours to fix.
          if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
          warn(warning);
        },
      },
    },
  };
}

function collect(result: Awaited<ReturnType<typeof build>>, files: BundleFiles): void {
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  for (const output of outputs) {
    if (!('output' in output)) throw new Error('the preview bundle build returned a watcher, not files');
    for (const item of output.output) {
      files.set(item.fileName, item.type === 'chunk' ? new TextEncoder().encode(item.code) : typeof item.source === 'string' ? new TextEncoder().encode(item.source) : item.source);
    }
  }
}

/** Builds the bundle into `outDir` (write) or only returns its files (the dev server). */
export async function buildPreviewBundle(outDir: string, write: boolean): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  const shell = common(outDir, write);
  collect(
    await build({
      ...shell,
      root: SHELL_DIR,
      base: './',
      build: { ...shell.build, emptyOutDir: true, rollupOptions: { ...shell.build?.rollupOptions, input: { index: `${SHELL_DIR}index.html`, 404: `${SHELL_DIR}404.html` } } },
    }),
    files,
  );
  // A classic script in one file: Firefox and Safari lack module Service Workers, and a worker cannot share chunks.
  const worker = common(outDir, write);
  collect(
    await build({
      ...worker,
      build: {
        ...worker.build,
        emptyOutDir: false,
        lib: { entry: SERVICE_WORKER_SOURCE, formats: ['iife'], name: 'tabdockPortPreview', fileName: () => SERVICE_WORKER_FILE },
      },
    }),
    files,
  );
  if (!files.has('index.html') || !files.has('404.html') || !files.has(SERVICE_WORKER_FILE)) {
    throw new Error(`the preview bundle lacks a file: it has ${[...files.keys()].join(', ')}`);
  }
  return files;
}
