// Drives the tabdock page for the browser bench as a person would: reads the terminal's rows, types command
// lines, waits for their output, and fetches a guest file through "Get file…". Timing is done by the caller.
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import type { VmDiagnostics } from '../../../worker/shared/contract.ts';

/** Polling the terminal's DOM rows; the figures are as precise as this. */
export const POLL_MS = 100;
/** bash's prompt from vm-images/config/bashrc: `\u@\h:\w\$ `. */
export const PROMPT = /^\S+@\S+:.*[#$]$/;

export async function visibleLines(page: Page): Promise<string[]> {
  const rows = await page.locator('#terminal .xterm-rows > div').allInnerTexts();
  return rows.map((row) => row.replace(/\u00a0/g, ' ').trimEnd());
}

export async function failureOnPage(page: Page): Promise<string | undefined> {
  const alerts = await page.getByRole('alert').allInnerTexts();
  return alerts.length > 0 ? alerts.join('\n') : undefined;
}

export async function waitFor(what: string, timeoutMs: number, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`browser bench: gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Types a command line and waits until a visible row matches `done`; returns the milliseconds from Enter to
 * that row and the row itself. A page error (role="alert") ends the wait with that error.
 */
export async function typeAndWait(page: Page, command: string, done: RegExp, timeoutMs: number): Promise<{ ms: number; line: string }> {
  await page.locator('#terminal').click();
  await page.keyboard.type(command);
  const sentAt = performance.now();
  await page.keyboard.press('Enter');
  let line = '';
  await waitFor(`the output of \`${command.slice(0, 80)}\``, timeoutMs, async () => {
    const failure = await failureOnPage(page);
    if (failure) throw new Error(`browser bench: the page reported an error during \`${command}\`:\n${failure}`);
    line = (await visibleLines(page)).find((row) => done.test(row)) ?? '';
    return line !== '';
  });
  return { ms: Math.round(performance.now() - sentAt), line };
}

let markerCount = 0;

/**
 * Runs a command line and waits for it to finish: `<command>; echo <marker>-$((n))-done` prints a row the
 * echoed command line cannot match. Clears the screen first, so an earlier marker is not found again.
 */
export async function runTimed(page: Page, command: string, timeoutMs: number): Promise<number> {
  markerCount++;
  await typeAndWait(page, 'clear', PROMPT, timeoutMs);
  const { ms } = await typeAndWait(page, `${command}; echo bench-$((${markerCount}))-done`, new RegExp(`^bench-${markerCount}-done$`), timeoutMs);
  return ms;
}

/** The running VM's JIT and disk image counters (src/main.ts tabdockDiagnostics). */
export async function vmDiagnostics(page: Page): Promise<VmDiagnostics | undefined> {
  return page.evaluate(() => (globalThis as unknown as { tabdockDiagnostics(): Promise<VmDiagnostics | undefined> }).tabdockDiagnostics());
}

/** Downloads a guest file through the header's "Get file…" dialog, as a user would, and returns its text. */
export async function getGuestFile(page: Page, guestPath: string, timeoutMs: number): Promise<string> {
  await page.getByRole('button', { name: 'Get file…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Download a file from the guest' });
  await dialog.getByLabel('Path in the guest').fill(guestPath);
  const downloading = page.waitForEvent('download', { timeout: timeoutMs });
  await dialog.getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  return readFile(await download.path(), 'utf8');
}
