// Browser bench: builds the site, serves it with `vite preview`, and in Debian's Chromium measures the time
// to the first shell prompt, the bytes the server sent before it, and the containerStart sequence typed
// through the terminal (e2e/bench/browser/container-start.ts); then the same for a returning visitor (a new tab in the
// same browser profile: HTTP cache warm), whose first `docker run` is traced by process, once without and once
// with a saved session. The Node bench (`npm run bench`) calls runBrowserBench(); `npx tsx e2e/bench/browser/browser.ts`
// runs it alone. TABDOCK_BENCH_PAGE_QUERY (e.g. `jitThreshold=400000&yield=channel`) is added to the page URL,
// to measure emulator settings (src/page-config.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { build, preview, type Plugin } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../../playwright.config.ts';
import { containerStartInPage, tracedRun } from './container-start.ts';
import type { ProcessTrace } from '../node/proctrace.ts';
import { failureOnPage, POLL_MS, PROMPT, visibleLines, waitFor } from './page-driver.ts';
import { runAloneIfMain } from './run-alone.ts';

/** TABDOCK_BENCH_PORT moves it, so checkouts side by side do not fight over the port. */
export const BENCH_PORT = Number(process.env.TABDOCK_BENCH_PORT ?? 4175);
const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;

/** The first visit's figures: VisitFigures, with what each means. */
export interface BrowserBenchResult extends VisitFigures {
  chromium: string;
  url: string;
  /** From page.goto() to a shell prompt visible in the terminal. */
  firstPromptMs: number;
  /** What the page's status line says ("ready in ... s", measured by the VM host from boot()). */
  statusLine: string;
  /** Bytes the preview server sent (bodies, all requests: page, worker, wasm, boot files, disk ranges). */
  bytesBeforePrompt: number;
  /** The largest contributors, by URL path (ranges of one file summed). */
  bytesByPath: Record<string, number>;
  /** The page URL's query for emulator settings (TABDOCK_BENCH_PAGE_QUERY), empty for the defaults. */
  pageQuery: string;
  /** First visit: the containerStart sequence (e2e/bench/browser/container-start.ts). */
  containerStart: Record<string, unknown>;
  /** Returning visit, cache warm: its first `docker run` after the restore, traced by process. */
  tracedFirstRun: { ms: number } & ProcessTrace;
  pollIntervalMs: number;
  /** Returning visits in the same browser profile, after the first one. */
  returning: {
    /** HTTP cache warm, no saved session: the boot snapshot comes from the disk cache. */
    cacheWarm: VisitFigures;
    /** HTTP cache warm and a session saved with Ctrl+S on the previous visit: it is resumed from OPFS. */
    sessionResumed: VisitFigures;
  };
  /** The issue's goal for a returning visitor's time to prompt. */
  returningGoalMs: number;
}

export interface VisitFigures {
  firstPromptMs: number;
  statusLine: string;
  /** The status line's tooltip: where the start's time went (worker/shared/contract.ts StartStep). */
  startSteps: string;
  bytesBeforePrompt: number;
  requestsBeforePrompt: number;
  bytesByPath: Record<string, number>;
}

export interface ByteCounter {
  bytes: number;
  requests: number;
  byPath: Map<string, number>;
}

/** Counts the body bytes the preview server writes: the transfer a real user's browser would see. */
export function countBytes(counter: ByteCounter): Plugin {
  return {
    name: 'tabdock:bench-byte-counter',
    // Before vite.config's vm/ range server, which answers disk reads without passing them on.
    enforce: 'pre',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        counter.requests++;
        const path = (req.url ?? '').split('?')[0] ?? '';
        const add = (chunk: unknown): void => {
          const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0;
          counter.bytes += size;
          counter.byPath.set(path, (counter.byPath.get(path) ?? 0) + size);
        };
        const write = res.write.bind(res) as (...args: unknown[]) => boolean;
        const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
        res.write = ((...args: unknown[]) => {
          add(args[0]);
          return write(...args);
        }) as typeof res.write;
        res.end = ((...args: unknown[]) => {
          if (typeof args[0] !== 'function') add(args[0]);
          return end(...args);
        }) as typeof res.end;
        next();
      });
    },
  };
}

/** Opens the page, waits for the first prompt and for Running; the counter is reset first. */
export async function measureVisit(page: Page, url: string, counter: ByteCounter, log: (message: string) => void, name: string): Promise<VisitFigures> {
  counter.bytes = 0;
  counter.requests = 0;
  counter.byPath.clear();
  const startedAt = performance.now();
  await page.goto(url);
  await waitFor('the first shell prompt', BOOT_TIMEOUT_MS, async () => {
    const failure = await failureOnPage(page);
    if (failure) throw new Error(`browser bench: the page reported an error before the prompt (${name}):\n${failure}`);
    return (await visibleLines(page)).some((line) => PROMPT.test(line));
  });
  const firstPromptMs = Math.round(performance.now() - startedAt);
  const figures = {
    firstPromptMs,
    bytesBeforePrompt: counter.bytes,
    requestsBeforePrompt: counter.requests,
    bytesByPath: Object.fromEntries([...counter.byPath].sort((a, b) => b[1] - a[1]).slice(0, 12)),
  };
  log(`${name}: first prompt after ${(firstPromptMs / 1000).toFixed(1)} s, ${figures.bytesBeforePrompt} bytes served`);
  await waitFor('the status line to say Running', BOOT_TIMEOUT_MS, async () => (await page.getByRole('status').innerText()).includes('Running'));
  const statusLine = (await page.getByRole('status').innerText()).replace(/\s+/g, ' ').trim();
  const startSteps = (await page.getByRole('status').getAttribute('title')) ?? '';
  return { ...figures, statusLine, startSteps };
}

export async function runBrowserBench(log: (message: string) => void = () => {}): Promise<BrowserBenchResult> {
  log('building the site');
  await build({ logLevel: 'warn' });
  const counter: ByteCounter = { bytes: 0, requests: 0, byPath: new Map() };
  const server = await preview({ logLevel: 'warn', preview: { port: BENCH_PORT, strictPort: true }, plugins: [countBytes(counter)] });
  // A real profile on disk: a new context would be incognito-like, with an in-memory HTTP cache that does not
  // keep a 34 MB snapshot, which is not what a returning visitor's browser does.
  const profileDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-profile-'));
  const profile = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_EXECUTABLE,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  try {
    const pageQuery = process.env.TABDOCK_BENCH_PAGE_QUERY ?? '';
    const url = `${server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`}${pageQuery === '' ? '' : `?${pageQuery}`}`;
    // Its HTTP cache and origin-private file system outlive a tab.
    const page = await profile.newPage();
    const chromiumVersion = /Chrome\/([\d.]+)/.exec(await page.evaluate(() => navigator.userAgent))?.[1] ?? 'unknown';
    log(`opening ${url} in Chromium ${chromiumVersion}`);
    const first = await measureVisit(page, url, counter, log, 'first visit');
    const { firstPromptMs, statusLine, startSteps, bytesBeforePrompt, requestsBeforePrompt, bytesByPath } = first;

    const containerStart = await containerStartInPage(page, log);
    // Returning visitor, cache warm: a new tab after the first one closed (nothing saved: no Save was pressed,
    // and the closing tab's own hidden-tab save cannot finish before the worker goes with the page).
    await page.close();
    const second = await profile.newPage();
    const cacheWarm = await measureVisit(second, url, counter, log, 'returning, cache warm');
    const tracedFirstRun = await tracedRun(second, 'first');
    log(`returning, cache warm: traced first docker run ${(tracedFirstRun.ms / 1000).toFixed(1)} s`);
    await second.locator('#terminal').click();
    await second.keyboard.press('Control+s');
    await waitFor('the session to be saved', COMMAND_TIMEOUT_MS, async () => /Saved \d+ MB/.test(await second.locator('.session-message').innerText()));
    await second.close();
    const third = await profile.newPage();
    const sessionResumed = await measureVisit(third, url, counter, log, 'returning, session resumed');
    await third.close();

    return {
      returning: { cacheWarm, sessionResumed },
      returningGoalMs: 3000,
      chromium: chromiumVersion,
      url,
      firstPromptMs,
      statusLine,
      startSteps,
      bytesBeforePrompt,
      requestsBeforePrompt,
      bytesByPath,
      pageQuery,
      containerStart,
      tracedFirstRun,
      pollIntervalMs: POLL_MS,
    };
  } finally {
    await profile.close();
    await rm(profileDir, { recursive: true, force: true });
    await server.close();
  }
}

runAloneIfMain(import.meta.url, 'bench-browser', runBrowserBench);
