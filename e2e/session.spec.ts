// Sessions in Chromium with the real guest: the first load restores the boot snapshot (the status line says
// so), a file and a running container survive Save + reload, and Reset brings back a clean VM.
import { expect, test, type Page } from '@playwright/test';
import { runAndRead, typeCommand, waitForPrompt, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;

test.describe.serial('sessions', () => {
  let page: Page;

  test.beforeAll(async ({ browser }, testInfo) => {
    // A fresh context: empty origin-private file system, so no saved session yet.
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test('the first load restores the boot snapshot', async () => {
    await page.goto('./');
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('restored from snapshot');
  });

  test('a file and a running container survive Save and a reload', async () => {
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    await typeCommand(page, 'echo kept-by-e2e > /root/e2e.txt; docker run -d --name e2ebox busybox sleep 100000 >/dev/null');
    expect(await runAndRead(page, 'running', "docker inspect -f '{{.State.Running}}' e2ebox", COMMAND_TIMEOUT_MS)).toBe('true');
    await page.keyboard.press('Control+s');
    await expect(page.locator('.session-message')).toContainText(/Saved \d+ MB/, { timeout: COMMAND_TIMEOUT_MS });

    await page.reload();
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('resumed session');
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    expect(await runAndRead(page, 'file', 'cat /root/e2e.txt', COMMAND_TIMEOUT_MS)).toBe('kept-by-e2e');
    expect(await runAndRead(page, 'running', "docker inspect -f '{{.State.Running}}' e2ebox", COMMAND_TIMEOUT_MS)).toBe('true');
  });

  test('Reset starts a clean VM without them, and it stays clean after a reload', async () => {
    await page.getByRole('button', { name: 'Reset' }).click();
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('restored from snapshot');
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    expect(await runAndRead(page, 'file', 'cat /root/e2e.txt 2>/dev/null || echo gone', COMMAND_TIMEOUT_MS)).toBe('gone');
    expect(await runAndRead(page, 'boxes', 'docker ps -aq --filter name=e2ebox | wc -l', COMMAND_TIMEOUT_MS)).toBe('0');
    await page.reload();
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('restored from snapshot');
  });
});
