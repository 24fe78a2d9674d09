// Reads the terminal the way a person does: the text of xterm's visible DOM rows (the default DOM renderer
// draws each row as a div under .xterm-rows). Typing goes through the real keyboard into xterm's textarea.
import { expect, type Page } from '@playwright/test';

/** The visible terminal rows, with xterm's non-breaking spaces turned back into spaces and trailing blanks cut. */
export async function terminalLines(page: Page): Promise<string[]> {
  const rows = await page.locator('#terminal .xterm-rows > div').allInnerTexts();
  return rows.map((row) => row.replace(/\u00a0/g, ' ').trimEnd());
}

/** Waits until some visible row matches the pattern and returns that row's text. */
export async function waitForLine(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  let found = '';
  await expect
    .poll(
      async () => {
        found = (await terminalLines(page)).find((line) => pattern.test(line)) ?? '';
        return found !== '';
      },
      { timeout: timeoutMs, intervals: [250, 500, 1000] },
    )
    .toBe(true);
  return found;
}

/** bash's prompt from vm-images/config/bashrc, `\u@\h:\w\$ `, with the trailing blank cut. */
export const SHELL_PROMPT = /^\S+@\S+:.*[#$]$/;

/** Waits until the last non-empty visible row is a shell prompt: the shell is waiting for a command. */
export async function waitForPrompt(page: Page, timeoutMs: number): Promise<void> {
  await expect
    .poll(async () => (await terminalLines(page)).filter((line) => line !== '').at(-1) ?? '', {
      timeout: timeoutMs,
      intervals: [250, 500, 1000],
    })
    .toMatch(SHELL_PROMPT);
}

/**
 * Types a command line into the guest shell as a user would: wait for the prompt, focus, type, wait until the
 * shell has echoed the line, Enter. Without the echo wait, a waitForPrompt() right after this could see the
 * prompt the line was typed at (the guest echoes slowly under load) and return before the command ran; the
 * next command was then typed ahead, and a check after it saw the state before it (CI, port-preview.spec).
 */
export async function typeCommand(page: Page, command: string, promptTimeoutMs = 5 * 60_000): Promise<void> {
  await waitForPrompt(page, promptTimeoutMs);
  await page.locator('#terminal').click();
  await page.keyboard.type(command);
  // Rows are trimmed and a long line wraps, so compare without blanks: the visible text must end with the line.
  const typed = command.replace(/\s+/g, '');
  await expect
    .poll(async () => (await terminalLines(page)).join('').replace(/\s+/g, '').endsWith(typed), {
      message: `the shell did not echo the typed line: ${command}`,
      timeout: ECHO_TIMEOUT_MS,
      intervals: [100, 250, 500],
    })
    .toBe(true);
  await page.keyboard.press('Enter');
}

/** How long the guest may take to echo a typed line (it echoes as it reads; a busy guest reads late). */
const ECHO_TIMEOUT_MS = 60_000;

/**
 * Runs a shell command and waits for its output line. The output is wrapped in a marker the typed command
 * line itself cannot match (`echo "m=$(cmd)"` echoes as `echo "m=$(cmd)"`, its output as `m=...`).
 */
export async function runAndRead(page: Page, marker: string, command: string, timeoutMs: number): Promise<string> {
  await typeCommand(page, `echo "${marker}=$(${command})"`);
  const line = await waitForLine(page, new RegExp(`^${marker}=`), timeoutMs);
  return line.slice(marker.length + 1);
}

/**
 * Waits for the VM to report ready: the boot progress bar at 100 % and the header saying Running. Fails at
 * once, with the panel's text, when an error panel appears instead: a failed boot never turns ready.
 */
export async function waitForReady(page: Page, timeoutMs: number): Promise<void> {
  const bar = page.getByRole('progressbar', { name: 'Boot progress' });
  const alerts = page.getByRole('alert');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await alerts.count()) > 0) {
      const details = await page.locator('.error-panel pre').allTextContents();
      throw new Error(`the boot failed:\n${(await alerts.allInnerTexts()).join('\n')}\n${details.join('\n')}`);
    }
    if ((await bar.getAttribute('aria-valuenow')) === '100') break;
    if (Date.now() > deadline) throw new Error(`the VM was not ready after ${timeoutMs} ms: ${await bar.getAttribute('aria-valuetext')}`);
    await page.waitForTimeout(500);
  }
  // The header's status line by id: a lab panel has role="status" messages of its own.
  await expect(page.locator('#status')).toContainText('Running');
}
