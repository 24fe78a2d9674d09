// The browser half of bench section containerStart (e2e/bench/node/container-start.ts is the Node half):
// the same command sequence typed into the page's terminal in Chromium, timed from Enter to the output row.
import type { Page } from '@playwright/test';
import { guestCpuLine, guestCpuTasks, parseGuestCpuOutput } from '../node/guest-cpu.ts';
import { parseProcTrace, procTraceCommand, type ProcessTrace } from '../node/proctrace.ts';
import { median } from '../node/section.ts';
import { getGuestFile, PROMPT, runTimed, typeAndWait } from './page-driver.ts';

const RUN = 'docker run --rm busybox true';
const COMMAND_TIMEOUT_MS = 10 * 60_000;
const WARM_RUNS = 5;
const IN_A_ROW = 10;

/** One `docker run` traced by process; the trace comes back through "Get file…". */
export async function tracedRun(page: Page, name: string): Promise<{ ms: number } & ProcessTrace> {
  const file = `/root/proctrace-${name}.txt`;
  const ms = await runTimed(page, procTraceCommand(RUN, file), COMMAND_TIMEOUT_MS);
  const trace = parseProcTrace(await getGuestFile(page, file, COMMAND_TIMEOUT_MS));
  await runTimed(page, `rm -f ${file}`, COMMAND_TIMEOUT_MS);
  return { ms, ...trace };
}

/**
 * `docker run -d -p 8080:80 tabdock/httpd` until the port preview answers: the bar offers the port, Open shows
 * the container's page in the panel. Removes the container afterwards.
 */
async function portPreview(page: Page): Promise<Record<string, number>> {
  await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
  await page.locator('#terminal').click();
  await page.keyboard.type('docker run -d --name bench-web -p 8080:80 tabdock/httpd');
  const sentAt = performance.now();
  await page.keyboard.press('Enter');
  const open = page.getByRole('region', { name: 'Published ports' }).getByRole('button', { name: /^Open port 8080/ });
  await open.waitFor({ state: 'visible', timeout: COMMAND_TIMEOUT_MS });
  const offeredMs = Math.round(performance.now() - sentAt);
  await open.click();
  const heading = page.frameLocator('iframe[title="Preview of port 8080"]').getByRole('heading', { name: 'tabdock test page' });
  await heading.waitFor({ state: 'visible', timeout: COMMAND_TIMEOUT_MS });
  const answeredMs = Math.round(performance.now() - sentAt);
  await page.getByRole('button', { name: 'Close the preview' }).click();
  await runTimed(page, 'docker rm -f bench-web >/dev/null', COMMAND_TIMEOUT_MS);
  return { portOfferedMs: offeredMs, pageShownMs: answeredMs };
}

async function guestCpu(page: Page): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  for (const task of guestCpuTasks()) {
    const marker = `cpu-${task.name}`;
    await typeAndWait(page, 'clear', PROMPT, COMMAND_TIMEOUT_MS);
    const { ms, line } = await typeAndWait(page, guestCpuLine(task, marker), new RegExp(`^${marker}=\\d+$`), COMMAND_TIMEOUT_MS);
    figures[task.name] = { what: task.description, guestMs: Math.round(parseGuestCpuOutput(line, marker) / 1000), enterToOutputMs: ms };
  }
  return figures;
}

/** The sequence on a page whose VM just restored the boot snapshot (a first visit). */
export async function containerStartInPage(page: Page, log: (message: string) => void): Promise<Record<string, unknown>> {
  const firstRunMs = await runTimed(page, RUN, COMMAND_TIMEOUT_MS);
  log(`containerStart: first run after a first visit ${(firstRunMs / 1000).toFixed(1)} s`);
  const warmRunsMs: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) warmRunsMs.push(await runTimed(page, RUN, COMMAND_TIMEOUT_MS));
  log(`containerStart: warm runs ${warmRunsMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
  const tracedWarm = await tracedRun(page, 'warm');
  const tenInARowMs = await runTimed(page, `for i in $(seq ${IN_A_ROW}); do ${RUN} || break; done`, COMMAND_TIMEOUT_MS);
  log(`containerStart: ${IN_A_ROW} in a row ${(tenInARowMs / 1000).toFixed(1)} s`);
  const port = await portPreview(page);
  log(`containerStart: port preview ${JSON.stringify(port)}`);
  const cpu = await guestCpu(page);
  log(`containerStart: guest CPU ${JSON.stringify(cpu)}`);
  return { command: RUN, firstRunMs, warmRunsMs, warmMedianMs: median(warmRunsMs), tenInARowMs, ...port, guestCpu: cpu, tracedWarm };
}
