// The Chromium half of bench section `pull` (issue #22; e2e/bench/node/pull-real.ts is the Node half): the bench
// images in a registry on 127.0.0.1 set as the page's Docker Hub upstream mirror (through the preview's CORS
// proxy), and each case typed into the terminal of a fresh tab. A new case is one more entry of BROWSER_PULL_CASES.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../../playwright.config.ts';
import { NET_SETTINGS_KEY, saveNetSettings } from '../../../src/net-settings.ts';
import { BY_HAND_ROW, byHandCommand, NGINX, NGINX_LAYERS5, parseByHand, startBenchRegistry, type BenchRegistry } from '../node/pull-images.ts';
import { BENCH_PORT, countBytes, measureVisit, type ByteCounter } from './browser.ts';
import { guestCpuDelta } from '../node/cpu-split.ts';
import { PROMPT, runTimed, typeAndWait, visibleLines, vmDiagnostics } from './page-driver.ts';
import { profileThreadCpu, threadCpuDelta } from './renderer-threads.ts';
import { runAloneIfMain } from './run-alone.ts';

const COMMAND_TIMEOUT_MS = 15 * 60_000;

export interface BrowserPullContext {
  page: Page;
  bench: BenchRegistry;
  /** The Chromium profile's directory: finds its processes in /proc for their CPU time. */
  profileDir: string;
  log(message: string): void;
}

export interface BrowserPullCase {
  name: string;
  run(context: BrowserPullContext): Promise<Record<string, unknown>>;
}

/**
 * The guest's /proc/stat cpu line and dockerd's utime and stime, as one short row the terminal shows unwrapped,
 * turned back into what guestCpuDelta reads (cpu-split.ts).
 */
async function guestCpuReading(page: Page): Promise<string> {
  await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
  const command = "echo cpusnap $(head -n 1 /proc/stat | cut -d' ' -f3-9) $(cut -d' ' -f14,15 /proc/$(pidof dockerd)/stat)";
  const { line } = await typeAndWait(page, command, /^cpusnap \d/, COMMAND_TIMEOUT_MS);
  const numbers = line.split(/\s+/).slice(1);
  return `cpu  ${numbers.slice(0, 7).join(' ')}\n${numbers.slice(7).join(' ')}`;
}

/** CPU seconds of every process of the Chromium profile, by process type (renderer, gpu-process, utility, browser). */
async function chromiumProcessCpu(profileDir: string): Promise<Record<string, number>> {
  const byType: Record<string, number> = {};
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(`--user-data-dir=${profileDir}`)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
    const utility = type === 'utility' ? `:${/--utility-sub-type=[\w.]*?(\w+)(?:\s|\0|$)/.exec(cmdline)?.[1] ?? ''}` : '';
    byType[`${type}${utility}`] = (byType[`${type}${utility}`] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return byType;
}

/** Where the CPU went while `work` ran: the guest's, the tab's threads, Chromium's other processes, this process. */
async function cpuDuring<T>(context: BrowserPullContext, work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, unknown> }> {
  const guestBefore = await guestCpuReading(context.page);
  const threadsBefore = await profileThreadCpu(context.profileDir);
  const processesBefore = await chromiumProcessCpu(context.profileDir);
  const benchBefore = process.cpuUsage();
  const result = await work();
  const bench = process.cpuUsage(benchBefore);
  const processesAfter = await chromiumProcessCpu(context.profileDir);
  const threads = threadCpuDelta(threadsBefore, await profileThreadCpu(context.profileDir));
  const guest = guestCpuDelta(guestBefore, await guestCpuReading(context.page));
  const processes = Object.fromEntries(Object.entries(processesAfter).map(([type, s]) => [type, Math.round((s - (processesBefore[type] ?? 0)) * 10) / 10]));
  return {
    result,
    cpu: {
      /** The guest CPU (/proc/stat) and dockerd's share of it. */
      guest,
      /** The tab's renderer threads: the VM worker, V8's thread pool (wasm compiles, GC), the main thread. */
      rendererThreadsS: threads,
      /** Every process of this Chromium, by type: the network service is utility:network. */
      chromiumProcessesS: processes,
      /** This process: vite preview, its CORS proxy and the test registry's client side, Playwright. */
      benchProcessS: Math.round(((bench.user + bench.system) / 1e6) * 10) / 10,
    },
  };
}

/** Lines of the screen that a reader would not want to see after a pull. */
async function screenWarnings(page: Page): Promise<string[]> {
  return (await visibleLines(page)).filter((line) => /WARNING|DEPRECATED/.test(line));
}

/**
 * `docker run -d -p 8080:80 nginx` typed at the prompt, until the port bar offers 8080 and its page shows in the
 * preview panel (Reload pressed each second while nginx is not listening yet, as a reader would).
 */
export const unbakedNginxToPageInBrowser: BrowserPullCase = {
  name: 'unbakedNginxToPage',
  async run({ page, log }) {
    await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
    await page.locator('#terminal').click();
    await page.keyboard.type(`docker run -d --name bench-nginx -p 8080:80 ${NGINX.reference}`);
    const sentAt = performance.now();
    await page.keyboard.press('Enter');
    const open = page.getByRole('region', { name: 'Published ports' }).getByRole('button', { name: /^Open port 8080/ });
    await open.waitFor({ state: 'visible', timeout: COMMAND_TIMEOUT_MS });
    const portOfferedMs = Math.round(performance.now() - sentAt);
    await open.click();
    const heading = page.frameLocator('iframe[title="Preview of port 8080"]').getByRole('heading', { name: 'Welcome to nginx!' });
    let reloads = 0;
    while (!(await heading.isVisible().catch(() => false))) {
      if (performance.now() - sentAt > COMMAND_TIMEOUT_MS) throw new Error('the nginx page never showed in the preview');
      await page.waitForTimeout(1000);
      if (await heading.isVisible().catch(() => false)) break;
      await page.getByRole('button', { name: 'Reload' }).click();
      reloads++;
    }
    const pageShownMs = Math.round(performance.now() - sentAt);
    const warnings = await screenWarnings(page);
    await page.getByRole('button', { name: 'Close the preview' }).click();
    await runTimed(page, `docker rm -f bench-nginx >/dev/null; docker rmi ${NGINX.reference} >/dev/null`, COMMAND_TIMEOUT_MS);
    log(`pull (Chromium): unbaked nginx offered after ${portOfferedMs} ms, page after ${pageShownMs} ms (${reloads} reloads)`);
    return { command: `docker run -d -p 8080:80 ${NGINX.reference}`, portOfferedMs, pageShownMs, reloads, goalMs: 30_000, warnings };
  },
};

export function pullAgainstByHandInBrowser(name: string, reference: string): BrowserPullCase {
  return {
    name,
    async run(context) {
      const { page, bench, log } = context;
      const image = bench.images[reference];
      if (!image) throw new Error(`bench image ${reference} was not pushed`);
      await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
      const byHandRun = await typeAndWait(page, byHandCommand(image), BY_HAND_ROW, COMMAND_TIMEOUT_MS);
      const byHand = parseByHand(byHandRun.line);
      await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
      const { result, cpu } = await cpuDuring(context, async () => {
        const ms = await runTimed(page, `docker pull ${image.reference}`, COMMAND_TIMEOUT_MS);
        // Read before the next reading clears the screen.
        return { ms, warnings: await screenWarnings(page) };
      });
      const { ms: pullMs, warnings } = result;
      await runTimed(page, `docker rmi ${image.reference} >/dev/null`, COMMAND_TIMEOUT_MS);
      log(`pull (Chromium): ${image.reference}: docker pull ${pullMs} ms, by hand ${byHandRun.ms} ms (${JSON.stringify(byHand)})`);
      return {
        image: image.reference,
        layers: image.layers.length,
        pullMs,
        byHandMs: byHandRun.ms,
        byHandSteps: byHand,
        pullToByHandRatio: Math.round((pullMs / byHandRun.ms) * 100) / 100,
        warnings,
        cpuDuringPull: cpu,
      };
    },
  };
}

export const BROWSER_PULL_CASES: readonly BrowserPullCase[] = [
  unbakedNginxToPageInBrowser,
  pullAgainstByHandInBrowser('nginxOneLayer', NGINX.reference),
  pullAgainstByHandInBrowser('nginxFiveLayers', NGINX_LAYERS5.reference),
];

export async function runBrowserPullBench(log: (message: string) => void = () => {}): Promise<Record<string, unknown>> {
  log('pull (Chromium): building the site');
  await build({ logLevel: 'warn' });
  const bench = await startBenchRegistry(log);
  const allowBefore = process.env['TABDOCK_PROXY_ALLOW'];
  // The preview's CORS proxy reads its allow-list when it starts.
  process.env['TABDOCK_PROXY_ALLOW'] = [allowBefore, bench.mirror].filter(Boolean).join(',');
  const counter: ByteCounter = { bytes: 0, requests: 0, byPath: new Map() };
  const server = await preview({ logLevel: 'warn', preview: { port: BENCH_PORT, strictPort: true }, plugins: [countBytes(counter)] });
  const profileDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-pull-profile-'));
  const profile = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
  try {
    const pageQuery = process.env.TABDOCK_BENCH_PAGE_QUERY ?? '';
    const url = `${server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`}${pageQuery === '' ? '' : `?${pageQuery}`}`;
    // The settings the Network dialog would save, in its own format, before the page first reads them.
    const stored = new Map<string, string>();
    saveNetSettings({ getItem: (key) => stored.get(key) ?? null, setItem: (key, value) => void stored.set(key, value), removeItem: (key) => void stored.delete(key) }, { upstreamMirror: bench.mirror });
    await profile.addInitScript(([key, value]) => window.localStorage.setItem(key, value), [NET_SETTINGS_KEY, stored.get(NET_SETTINGS_KEY)!] as const);
    const page = await profile.newPage();
    const visit = await measureVisit(page, url, counter, log, 'pull (Chromium) visit');
    const results: Record<string, unknown> = { url, firstPromptMs: visit.firstPromptMs };
    for (const pullCase of BROWSER_PULL_CASES) {
      try {
        results[pullCase.name] = await pullCase.run({ page, bench, profileDir, log });
      } catch (error) {
        results[pullCase.name] = { error: error instanceof Error ? error.message : String(error) };
        log(`pull (Chromium): ${pullCase.name} failed: ${String(error)}`);
      }
    }
    results['diagnostics'] = await vmDiagnostics(page);
    return results;
  } finally {
    await profile.close();
    await rm(profileDir, { recursive: true, force: true });
    await server.close();
    await bench.registry.stop();
    if (allowBefore === undefined) delete process.env['TABDOCK_PROXY_ALLOW'];
    else process.env['TABDOCK_PROXY_ALLOW'] = allowBefore;
  }
}

runAloneIfMain(import.meta.url, 'bench-browser-pull', runBrowserPullBench);
