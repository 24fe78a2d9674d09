// Bench: what the open Docker view costs a command. In Debian's Chromium, `docker run --rm busybox true` typed
// into the terminal, 5 times with the view closed and 5 times open (alternating, after warm-up runs), from
// Enter to the next output line; the budget is a median at most 5 % slower with the view open.
// `npm run bench -- dockerView` runs it as a section; `npx tsx e2e/bench/browser/docker-view.ts` alone.
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { median } from '../node/section.ts';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../../playwright.config.ts';
import { failureOnPage, visibleLines, waitFor } from './page-driver.ts';
import { runAloneIfMain } from './run-alone.ts';

const BENCH_PORT = Number(process.env.TABDOCK_BENCH_PORT ?? 4175);
const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const RUNS_EACH = 5;
/** The first runs after a restore pay the emulator's warm-up; they are not part of the comparison. */
const WARM_UP_RUNS = 2;
const PROMPT = /^\S+@\S+:.*[#$]$/;
const COMMAND = 'docker run --rm busybox true';

export interface DockerViewBenchResult {
  command: string;
  closedRunsMs: number[];
  openRunsMs: number[];
  closedMedianMs: number;
  openMedianMs: number;
  /** (open - closed) / closed, in percent; the budget is 5. */
  openCostPercent: number;
  budgetPercent: number;
  warmUpRunsMs: number[];
  /** Order the runs were made in (alternating, so drift hits both sides alike). */
  order: Array<'closed' | 'open'>;
}

async function setView(page: Page, open: boolean): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Docker view' });
  if ((await toggle.getAttribute('aria-pressed')) !== String(open)) await toggle.click();
  if (!open) return;
  // Measure the steady state: connected and the first lists in, as a user who opened the view a while ago.
  await waitFor('the Docker view to connect', COMMAND_TIMEOUT_MS, async () => (await page.locator('.dv-connection').innerText()).includes('Live from the Docker daemon'));
  await waitFor('the Docker view to list images', COMMAND_TIMEOUT_MS, async () => (await page.locator('.dv-images .dv-item').count()) > 0);
  await page.waitForTimeout(1000);
}

async function timeRun(page: Page, label: string): Promise<number> {
  const marker = `${label}-2`;
  await waitFor('a prompt', COMMAND_TIMEOUT_MS, async () => (await visibleLines(page)).filter((line) => line !== '').at(-1)?.match(PROMPT) !== null);
  await page.locator('#terminal').click();
  // `$((...))` makes the output line differ from the echoed command line.
  await page.keyboard.type(`${COMMAND} && echo ${label}-$((1+1))`);
  const sentAt = performance.now();
  await page.keyboard.press('Enter');
  await waitFor(label, COMMAND_TIMEOUT_MS, async () => {
    const failure = await failureOnPage(page);
    if (failure) throw new Error(`docker view bench: the page reported an error:\n${failure}`);
    return (await visibleLines(page)).includes(marker);
  });
  return Math.round(performance.now() - sentAt);
}

export async function runDockerViewBench(log: (message: string) => void = () => {}): Promise<DockerViewBenchResult> {
  log('building the site');
  await build({ logLevel: 'warn' });
  const server = await preview({ logLevel: 'warn', preview: { port: BENCH_PORT, strictPort: true } });
  const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`);
    await waitFor('the VM to run', BOOT_TIMEOUT_MS, async () => (await page.locator('#status').innerText()).includes('Running'));
    const warmUpRunsMs: number[] = [];
    for (let i = 1; i <= WARM_UP_RUNS; i++) {
      warmUpRunsMs.push(await timeRun(page, `warm${i}`));
      log(`warm-up #${i}: ${warmUpRunsMs.at(-1)} ms`);
    }
    const closedRunsMs: number[] = [];
    const openRunsMs: number[] = [];
    const order: Array<'closed' | 'open'> = [];
    for (let i = 1; i <= RUNS_EACH; i++) {
      // closed, open, open, closed, ...: each side goes first as often as the other.
      const pair: Array<'closed' | 'open'> = i % 2 === 1 ? ['closed', 'open'] : ['open', 'closed'];
      for (const side of pair) {
        await setView(page, side === 'open');
        const ms = await timeRun(page, `${side}${i}`);
        (side === 'open' ? openRunsMs : closedRunsMs).push(ms);
        order.push(side);
        log(`${side} #${i}: ${ms} ms`);
      }
    }
    const closedMedianMs = median(closedRunsMs);
    const openMedianMs = median(openRunsMs);
    return {
      command: COMMAND,
      closedRunsMs,
      openRunsMs,
      closedMedianMs,
      openMedianMs,
      openCostPercent: Math.round(((openMedianMs - closedMedianMs) / closedMedianMs) * 1000) / 10,
      budgetPercent: 5,
      warmUpRunsMs,
      order,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

runAloneIfMain(import.meta.url, 'bench-docker-view', runDockerViewBench);
