// One real boot in Chromium, shared by the steps a user goes through: the page loads, the progress reaches
// ready, a container's output shows in the terminal, and the guest follows the terminal's size.
import { expect, test, type Page } from '@playwright/test';
import { runAndRead, terminalLines, typeCommand, waitForLine, waitForPrompt, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;

/**
 * Asks the guest for its terminal size until its rows are `rows` and returns the size it reported: a new window
 * size reaches the guest asynchronously (debounce, worker message, virtio resize, SIGWINCH). `label` keeps each
 * caller's marker lines apart, so an answer from an earlier call on screen is never read again.
 */
async function waitForGuestRows(page: Page, rows: number, label: string): Promise<{ rows: number; cols: number }> {
  let attempt = 0;
  let size = { rows: 0, cols: 0 };
  await expect
    .poll(
      async () => {
        attempt += 1;
        const [guestRows, guestCols] = (await runAndRead(page, `${label}${attempt}`, 'stty size', COMMAND_TIMEOUT_MS)).split(' ').map(Number);
        size = { rows: guestRows ?? 0, cols: guestCols ?? 0 };
        return size.rows;
      },
      { timeout: 120_000, intervals: [1000] },
    )
    .toBe(rows);
  return size;
}

test.describe.serial('a VM booted in the page', () => {
  let page: Page;

  test.beforeAll(async ({ browser }, testInfo) => {
    page = await browser.newPage({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 } });
  });

  test.afterAll(async () => {
    await page.close();
  });

  test('the page loads with its header, boot progress and terminal', async () => {
    await page.goto('./');
    await expect(page.locator('.brand-name')).toHaveText('tabdock');
    await expect(page.getByRole('progressbar', { name: 'Boot progress' })).toBeVisible();
    await expect(page.locator('#terminal .xterm-rows')).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
  });

  test('boot progress reaches ready with real figures', async () => {
    await waitForReady(page, BOOT_TIMEOUT_MS);
    const bar = page.getByRole('progressbar', { name: 'Boot progress' });
    await expect(bar).toHaveAttribute('aria-valuetext', /^Ready: [\d.]+ MB downloaded · booted in [\d.]+ s$/);
    await expect(page.locator('.progress-stages li[data-status="done"]')).toHaveCount(6);
    await expect(page.getByRole('status')).toContainText(/\d+ MiB RAM · (cold boot|restored from snapshot|resumed session) · ready in [\d.]+ s/);
    await expect(page.getByRole('alert')).toHaveCount(0);
  });

  test('a docker run typed into the terminal prints its output there', async () => {
    // Like a person, wait for the prompt: keys typed while bash starts up are partly dropped.
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    await runAndRead(page, 'shell', 'echo up', COMMAND_TIMEOUT_MS);
    await typeCommand(page, 'docker run --rm busybox echo hello-from-tab');
    // Exactly the output line: the echoed command line also contains the words, but not alone.
    await waitForLine(page, /^hello-from-tab$/, COMMAND_TIMEOUT_MS);
  });

  test('resizing the window changes the guest terminal size', async () => {
    const [rowsBefore, colsBefore] = (await runAndRead(page, 'size0', 'stty size', COMMAND_TIMEOUT_MS)).split(' ').map(Number);
    const visibleRowsBefore = (await terminalLines(page)).length;
    expect(rowsBefore).toBe(visibleRowsBefore);

    await page.setViewportSize({ width: 820, height: 520 });
    await expect.poll(async () => (await terminalLines(page)).length).toBeLessThan(visibleRowsBefore);
    const visibleRowsAfter = (await terminalLines(page)).length;
    const colsAfter = (await waitForGuestRows(page, visibleRowsAfter, 'size')).cols;
    expect(colsAfter).toBeGreaterThan(0);
    expect(colsAfter).toBeLessThan(colsBefore ?? 0);
  });

  test("docker build's output, with the default builder, fits an 80-column terminal", async () => {
    // Wide again, and wait until the guest has the new size, so no late resize undoes `stty cols 80`.
    const narrowRows = (await terminalLines(page)).length;
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect.poll(async () => (await terminalLines(page)).length).toBeGreaterThan(narrowRows);
    await waitForGuestRows(page, (await terminalLines(page)).length, 'wide');
    // A multi-stage Dockerfile whose RUN line is longer than 80 columns.
    const dockerfile = 'FROM busybox AS build\nRUN echo "this RUN step is long on purpose, far longer than the eighty columns of a terminal" > /x\nFROM busybox\nCOPY --from=build /x /x\n';
    await typeCommand(page, `clear; stty cols 80; mkdir -p /tmp/b80 && echo ${Buffer.from(dockerfile).toString('base64')} | base64 -d > /tmp/b80/Dockerfile`);
    await typeCommand(page, 'docker build -t tabdock/b80 /tmp/b80; echo "build-exit=$?"');
    await waitForLine(page, /^build-exit=0$/, COMMAND_TIMEOUT_MS);
    const lines = await terminalLines(page);
    // BuildKit's terminal view drew it (not plain progress), and no line is wider than 80 columns.
    expect(lines.some((line) => /^\[\+\] Building [\d.]+s \(\d+\/\d+\) FINISHED/.test(line))).toBe(true);
    expect(lines.filter((line) => line.length > 80)).toEqual([]);
  });
});
