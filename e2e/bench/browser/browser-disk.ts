// Browser disk bench (issue #16): tab memory in Debian's Chromium at the first prompt, after writing 1 GiB in
// the guest, after 20 `docker run`s and after pulling a 300 MB image (from the offline test registry, set as the
// page's Docker Hub upstream mirror, through the preview's CORS proxy), and the session save (Ctrl+S) and resume
// (reload) times with that 1 GiB written, and a 1 GiB read back after the resume. Memory is read from /proc for
// every process of this Chromium (found by its --user-data-dir): the tab's renderer (the page and its VM worker)
// as private memory, the whole browser as summed RSS and PSS (see chromiumMemory), and the worker's JS heap
// through DevTools. performance.measureUserAgentSpecificMemory() needs a cross-origin isolated page, which
// tabdock is not, so it is not used. The Node bench calls runBrowserDiskBench() (section
// "browserDisk"); `npx tsx e2e/bench/browser/browser-disk.ts` runs it alone.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../../playwright.config.ts';
import { BENCH_PORT, countBytes, measureVisit, type ByteCounter } from './browser.ts';
import { failureOnPage, visibleLines, waitFor } from './page-driver.ts';
import { NET_SETTINGS_KEY, saveNetSettings } from '../../../src/net-settings.ts';
import { extendOciLayout } from '../../../worker/testing/oci-layout.ts';
import { pushLayout, startRegistry } from '../../../worker/testing/registry.ts';
import { runAloneIfMain } from './run-alone.ts';

/** The image pulled at the end: busybox's layer plus one of this many random bytes (as the Node disk bench). */
const PULL_BYTES = 300 * 1024 * 1024;
const PULL_REPOSITORY = 'library/disk-bench';

const COMMAND_TIMEOUT_MS = 30 * 60_000;

/** One process's memory from /proc: resident, proportional (shared pages divided) and private (unshared). */
interface ProcessMemory {
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty + Swap: what Chromium's task manager calls the memory footprint on Linux. */
  private: number;
}

/** Chromium's processes of one profile by type (the browser, renderers, the GPU process, utilities). */
export interface ChromiumMemory {
  /** Summed over every process of the profile. */
  all: ProcessMemory;
  /** Summed over the renderer processes: the tab, its dedicated worker (the VM) runs in the same process. */
  renderers: ProcessMemory;
  processes: number;
  byType: Record<string, ProcessMemory & { processes: number }>;
}

function kib(text: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
}

function add(into: ProcessMemory, one: ProcessMemory): void {
  into.rss += one.rss;
  into.pss += one.pss;
  into.private += one.private;
}

/**
 * The memory of the processes whose command line names this profile directory. Summed RSS counts a page shared
 * by several of them (Chromium's own code, shared memory between renderer, GPU and browser) once per process;
 * PSS divides each shared page among the processes that map it, so the PSS sum is what the browser really
 * holds. The renderers' private memory is the tab's own: the page, the worker, the guest's RAM.
 */
export async function chromiumMemory(profileDir: string): Promise<ChromiumMemory> {
  const all = { rss: 0, pss: 0, private: 0 };
  const renderers = { rss: 0, pss: 0, private: 0 };
  const byType: ChromiumMemory['byType'] = {};
  let processes = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(`--user-data-dir=${profileDir}`)) continue;
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const one = { rss: kib(rollup, 'Rss'), pss: kib(rollup, 'Pss'), private: kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty') + kib(rollup, 'Swap') };
      const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
      const sum = (byType[type] ??= { rss: 0, pss: 0, private: 0, processes: 0 });
      add(sum, one);
      sum.processes++;
      add(all, one);
      if (type === 'renderer') add(renderers, one);
      processes++;
    } catch {
      // The process ended between listing and reading: it holds no memory any more.
    }
  }
  return { all, renderers, processes, byType };
}

/**
 * The VM worker's V8 heap (Runtime.getHeapUsage through the page's DevTools session, after a collection):
 * `usedSize` is the JS heap; `backingStorageSize` the ArrayBuffers' memory outside it.
 */
async function workerHeap(page: Page): Promise<{ usedSize: number; totalSize: number; backingStorageSize: number }> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((target) => target.type === 'worker' && /worker/.test(target.url));
    if (!worker) throw new Error(`browser disk bench: no VM worker among ${targetInfos.map((target) => `${target.type} ${target.url}`).join(', ')}`);
    // Not flattened: Playwright's CDP session sends only to its own target, so the worker's session is reached
    // through Target.sendMessageToTarget and answers as Target.receivedMessageFromTarget events.
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    let nextId = 1;
    const call = (method: string): Promise<Record<string, number>> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (event: { sessionId?: string; message: string }): void => {
          const message = JSON.parse(event.message) as { id?: number; result?: Record<string, number>; error?: { message: string } };
          if (event.sessionId !== sessionId || message.id !== id) return;
          cdp.off('Target.receivedMessageFromTarget', onMessage);
          if (message.error) reject(new Error(`browser disk bench: ${method} in the worker: ${message.error.message}`));
          else resolve(message.result ?? {});
        };
        cdp.on('Target.receivedMessageFromTarget', onMessage);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(reject);
      });
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    return { usedSize: usage['usedSize'] ?? 0, totalSize: usage['totalSize'] ?? 0, backingStorageSize: usage['backingStorageSize'] ?? 0 };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

interface Moment {
  memory: ChromiumMemory;
  workerHeap: Awaited<ReturnType<typeof workerHeap>>;
}

async function moment(page: Page, profileDir: string): Promise<Moment> {
  const heap = await workerHeap(page);
  return { memory: await chromiumMemory(profileDir), workerHeap: heap };
}

function describeMoment(name: string, figures: MomentSummary): string {
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  return (
    `${name}: the tab's renderer ${gb(figures.tabPrivate)} private (${gb(figures.tabRss)} RSS); the browser ${gb(figures.browserRss)} RSS, ` +
    `${gb(figures.browserPss)} PSS (${gb(figures.browserRssAdded)} / ${gb(figures.browserPssAdded)} more than before the page); ` +
    `worker JS heap ${(figures.workerJsHeap / 1e6).toFixed(1)} MB`
  );
}

/** Types a command and waits for its marker line (`$((...))` keeps the echoed command line from matching). */
async function runInTerminal(page: Page, command: string, label: string): Promise<number> {
  const marker = `${label}-2-done`;
  await page.locator('#terminal').click();
  await page.keyboard.type(`${command} && echo ${label}-$((1+1))-done`);
  const started = performance.now();
  await page.keyboard.press('Enter');
  await waitFor(label, COMMAND_TIMEOUT_MS, async () => {
    const failure = await failureOnPage(page);
    if (failure) throw new Error(`browser disk bench: the page reported an error during ${label}:\n${failure}`);
    return (await visibleLines(page)).includes(marker);
  });
  return Math.round(performance.now() - started);
}

/** The figures of one moment, in bytes. */
interface MomentSummary {
  /** The tab's renderer process(es): private memory (footprint) and RSS. */
  tabPrivate: number;
  tabRss: number;
  /** The whole browser (every process of the profile), and what it holds more than before the page opened. */
  browserRss: number;
  browserPss: number;
  browserRssAdded: number;
  browserPssAdded: number;
  /** The VM worker's V8 heap in use, and its ArrayBuffers' memory outside that heap. */
  workerJsHeap: number;
  workerBackingStore: number;
}

type MomentName = 'atPrompt' | 'afterWrite1GiB' | 'afterResume' | 'afterRead1GiB' | 'after20DockerRuns' | 'afterPull300MB';

export interface BrowserDiskBenchResult {
  method: string;
  moments: Record<MomentName, MomentSummary>;
  /** The worker's JS heap growth per MB the guest wrote (the 1 GiB write) and read back (after the resume). */
  workerJsHeapMBPerMBWritten: number;
  workerJsHeapMBPerMBRead: number;
  beforePage: ChromiumMemory;
  /** Per process type at the prompt and after the 1 GiB write. */
  byTypeAtPrompt: ChromiumMemory['byType'];
  byTypeAfterWrite1GiB: ChromiumMemory['byType'];
  write1GiBMs: number;
  saveMs: number;
  saveMessage: string;
  /** The save's steps as the page's message tooltip gives them. */
  saveSteps: string;
  resumePromptMs: number;
  read1GiBMs: number;
  dockerRuns20Ms: number;
  pull300MBMs: number;
  pullLayerBytes: number;
}

function summary(figures: Moment, before: ChromiumMemory): MomentSummary {
  const { all, renderers } = figures.memory;
  return {
    tabPrivate: renderers.private,
    tabRss: renderers.rss,
    browserRss: all.rss,
    browserPss: all.pss,
    browserRssAdded: all.rss - before.all.rss,
    browserPssAdded: all.pss - before.all.pss,
    workerJsHeap: figures.workerHeap.usedSize,
    workerBackingStore: figures.workerHeap.backingStorageSize,
  };
}

export async function runBrowserDiskBench(log: (message: string) => void = () => {}): Promise<BrowserDiskBenchResult> {
  log('building the site');
  await build({ logLevel: 'warn' });
  // The 300 MB image, in a registry on 127.0.0.1 that the page uses as its Docker Hub upstream mirror.
  const workDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-disk-'));
  const registry = await startRegistry();
  const image = await extendOciLayout(path.join('public', 'vm', 'test-images', 'busybox'), path.join(workDir, 'layout'), 'v1', { 'random.bin': randomBytes(PULL_BYTES) });
  await pushLayout(image.layoutDir, 'v1', registry.host, PULL_REPOSITORY);
  const mirror = `http://${registry.host}`;
  const allowBefore = process.env['TABDOCK_PROXY_ALLOW'];
  // The preview's CORS proxy reads its allow-list when it starts.
  process.env['TABDOCK_PROXY_ALLOW'] = [allowBefore, mirror].filter(Boolean).join(',');
  const counter: ByteCounter = { bytes: 0, requests: 0, byPath: new Map() };
  const server = await preview({ logLevel: 'warn', preview: { port: BENCH_PORT, strictPort: true }, plugins: [countBytes(counter)] });
  const profileDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-disk-profile-'));
  const profile = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
  try {
    const url = server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`;
    // The settings the Network dialog would save, in its own format, before the page first reads them.
    const stored = new Map<string, string>();
    saveNetSettings({ getItem: (key) => stored.get(key) ?? null, setItem: (key, value) => void stored.set(key, value), removeItem: (key) => void stored.delete(key) }, { upstreamMirror: mirror });
    await profile.addInitScript(([key, value]) => window.localStorage.setItem(key, value), [NET_SETTINGS_KEY, stored.get(NET_SETTINGS_KEY)!] as const);
    const page = await profile.newPage();
    const beforePage = await chromiumMemory(profileDir);
    const moments: Partial<Record<MomentName, MomentSummary>> = {};
    /** Takes the memory figures of one moment, keeps their summary for the result and logs it. */
    const measure = async (name: MomentName, label: string, prefix = ''): Promise<Moment> => {
      const figures = await moment(page, profileDir);
      const summarised = summary(figures, beforePage);
      moments[name] = summarised;
      log(`${prefix}${describeMoment(label, summarised)}`);
      return figures;
    };
    await measureVisit(page, url, counter, log, 'disk bench visit');
    const atPrompt = await measure('atPrompt', 'at the prompt');

    const write1GiBMs = await runInTerminal(page, 'dd if=/dev/urandom of=/root/big bs=1M count=1024 status=none && sync', 'write');
    const afterWrite = await measure('afterWrite1GiB', 'after the write', `1 GiB written in ${write1GiBMs} ms; `);

    const saveStarted = performance.now();
    await page.keyboard.press('Control+s');
    await waitFor('the session to be saved', COMMAND_TIMEOUT_MS, async () => /Saved \d+ MB/.test(await page.locator('.session-message').innerText()));
    const saveMs = Math.round(performance.now() - saveStarted);
    const saveMessage = await page.locator('.session-message').innerText();
    const saveSteps = (await page.locator('.session-message').getAttribute('title')) ?? '';
    log(`saved in ${saveMs} ms: ${saveMessage} (${saveSteps})`);

    const resumed = await measureVisit(page, url, counter, log, 'resume after reload');
    const afterResume = await measure('afterResume', 'after the resume');

    // The saved state holds no page cache (dropped before the save), so this reads the 1 GiB from the store.
    const read1GiBMs = await runInTerminal(page, 'cat /root/big >/dev/null', 'read');
    const afterRead = await measure('afterRead1GiB', 'after the read', `1 GiB read in ${read1GiBMs} ms; `);

    const dockerRuns20Ms = await runInTerminal(page, 'for i in $(seq 1 20); do docker run --rm busybox true || exit 1; done', 'runs');
    await measure('after20DockerRuns', 'after them', `20 docker runs in ${dockerRuns20Ms} ms; `);

    const pull300MBMs = await runInTerminal(page, `docker pull -q ${PULL_REPOSITORY.replace(/^library\//, '')}:v1 && sync`, 'pull');
    await measure('afterPull300MB', 'after the pull', `300 MB image pulled in ${pull300MBMs} ms; `);
    const perMB = (after: Moment, from: Moment) => Math.round(((after.workerHeap.usedSize - from.workerHeap.usedSize) / (1024 * 1024 * 1024)) * 1000) / 1000;
    return {
      method:
        'Linux /proc/PID/smaps_rollup of the Chromium processes of this profile: tab = the renderer processes (the page and its VM worker), private = Private_Clean + Private_Dirty + Swap; browser = every process, RSS and PSS, and what it added since before the page. Worker JS heap: Runtime.getHeapUsage in the worker after HeapProfiler.collectGarbage. measureUserAgentSpecificMemory needs cross-origin isolation, which tabdock does not have.',
      // Every moment was measured on the way here.
      moments: moments as Record<MomentName, MomentSummary>,
      workerJsHeapMBPerMBWritten: perMB(afterWrite, atPrompt),
      workerJsHeapMBPerMBRead: perMB(afterRead, afterResume),
      beforePage,
      byTypeAtPrompt: atPrompt.memory.byType,
      byTypeAfterWrite1GiB: afterWrite.memory.byType,
      write1GiBMs,
      saveMs,
      saveMessage,
      saveSteps,
      resumePromptMs: resumed.firstPromptMs,
      read1GiBMs,
      dockerRuns20Ms,
      pull300MBMs,
      pullLayerBytes: image.layerBytes,
    };
  } finally {
    await profile.close();
    await rm(profileDir, { recursive: true, force: true });
    await server.close();
    await registry.stop();
    await rm(workDir, { recursive: true, force: true });
    if (allowBefore === undefined) delete process.env['TABDOCK_PROXY_ALLOW'];
    else process.env['TABDOCK_PROXY_ALLOW'] = allowBefore;
  }
}

runAloneIfMain(import.meta.url, 'bench-browser-disk', runBrowserDiskBench);
