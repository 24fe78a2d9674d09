// Files and session files in Chromium with the real guest, on one VM boot where possible: a file dropped on
// the terminal lands in the shell's directory, "Get file…" downloads guest bytes exactly (and names a missing
// file), closing with unsaved work asks to stay and saves, Download then Open brings back a file and a
// container, a second tab never touches the first tab's saved session, and a corrupt saved session is moved
// aside, offered as a download and replaced by a clean VM.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { runAndRead, typeCommand, waitForPrompt, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The boot progress at 100 % and Running, tolerating alerts (a notice about the session is one). */
async function waitForRunning(page: Page): Promise<void> {
  await expect(page.getByRole('progressbar', { name: 'Boot progress' })).toHaveAttribute('aria-valuenow', '100', { timeout: BOOT_TIMEOUT_MS });
  await expect(page.getByRole('status')).toContainText('Running', { timeout: BOOT_TIMEOUT_MS });
}

/**
 * The saved session in the origin-private file system, as the VM worker keeps it (worker/vm/disk/session-disks.ts):
 * tabdock/sessions/<id>/session.tdstate beside its block store, the newest one without a `damaged` mark.
 */
async function savedSessionFacts(page: Page): Promise<{ id: string; bytes: number; lastModified: number } | null> {
  return page.evaluate(async () => {
    type Folder = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]>; keys(): AsyncIterable<string> };
    try {
      const tabdock = await (await navigator.storage.getDirectory()).getDirectoryHandle('tabdock');
      const sessions = (await tabdock.getDirectoryHandle('sessions')) as Folder;
      let newest: { id: string; bytes: number; lastModified: number } | null = null;
      for await (const [id, handle] of sessions.entries()) {
        if (handle.kind !== 'directory') continue;
        const names: string[] = [];
        for await (const name of (handle as Folder).keys()) names.push(name);
        if (names.includes('damaged') || !names.includes('session.tdstate')) continue;
        const file = await (await (handle as Folder).getFileHandle('session.tdstate')).getFile();
        if (!newest || file.lastModified > newest.lastModified) newest = { id, bytes: file.size, lastModified: file.lastModified };
      }
      return newest;
    } catch {
      return null;
    }
  });
}

test.describe.serial('files and session files', () => {
  let page: Page;
  /** When set, the next beforeunload prompt is answered "stay" and recorded; otherwise prompts are accepted. */
  let stayOnBeforeUnload = false;
  let beforeUnloadPrompts = 0;

  test.beforeAll(async ({ browser }, testInfo) => {
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      if (dialog.type() === 'beforeunload') beforeUnloadPrompts++;
      void (dialog.type() === 'beforeunload' && stayOnBeforeUnload ? dialog.dismiss() : dialog.accept());
    });
    await page.goto('./');
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('restored from snapshot');
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test('a file dropped on the terminal lands in the shell directory', async () => {
    await typeCommand(page, 'mkdir -p /tmp/dropdir && cd /tmp/dropdir && docker create --name filebox busybox true >/dev/null');
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped by e2e\nsecond line\n'], 'dropped.txt', { type: 'text/plain' }));
      const target = document.querySelector('#terminal .xterm-screen') ?? document.querySelector('#terminal');
      if (!target) throw new Error('no terminal to drop on');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await expect(page.locator('.file-transfer')).toContainText('Placed /tmp/dropdir/dropped.txt', { timeout: COMMAND_TIMEOUT_MS });
    expect(await runAndRead(page, 'dropped', 'tr "\\n" "|" < dropped.txt', COMMAND_TIMEOUT_MS)).toBe('dropped by e2e|second line|');
  });

  test('Get file names a missing file, then downloads a guest file byte for byte', async () => {
    await typeCommand(page, 'head -c 300000 /dev/urandom > rand.bin');
    const guestSum = await runAndRead(page, 'sum', 'sha256sum rand.bin | cut -c1-64', COMMAND_TIMEOUT_MS);
    await page.getByRole('button', { name: 'Get file…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Download a file from the guest' });
    await dialog.getByLabel('Path in the guest').fill('nope.bin');
    await dialog.getByRole('button', { name: 'Download' }).click();
    await expect(dialog.getByRole('alert')).toContainText('There is no file /tmp/dropdir/nope.bin', { timeout: COMMAND_TIMEOUT_MS });
    await dialog.getByLabel('Path in the guest').fill('rand.bin');
    const downloading = page.waitForEvent('download', { timeout: COMMAND_TIMEOUT_MS });
    await dialog.getByRole('button', { name: 'Download' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('rand.bin');
    const bytes = new Uint8Array(await readFile(await download.path()));
    expect(bytes.byteLength).toBe(300000);
    expect(sha256(bytes)).toBe(guestSum);
    await expect(dialog).toBeHidden();
  });

  test('closing with unsaved work asks to stay, and staying saves', async () => {
    await typeCommand(page, 'echo unsaved-work > /tmp/dropdir/unsaved.txt');
    stayOnBeforeUnload = true;
    const prompts = beforeUnloadPrompts;
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => beforeUnloadPrompts).toBe(prompts + 1);
    expect(page.isClosed()).toBe(false);
    await expect(page.locator('.session-message')).toContainText(/Saved \d+ MB/, { timeout: COMMAND_TIMEOUT_MS });
    stayOnBeforeUnload = false;
  });

  test('Download then Open brings back the file and the container', async ({}, testInfo) => {
    const downloading = page.waitForEvent('download', { timeout: COMMAND_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Download' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^tabdock-session-.*\.tdstate$/);
    const sessionFile = testInfo.outputPath('session.tdstate');
    await download.saveAs(sessionFile);

    await typeCommand(page, 'rm -f /tmp/dropdir/dropped.txt; docker rm -f filebox >/dev/null');
    expect(await runAndRead(page, 'gonefile', 'ls /tmp/dropdir/dropped.txt 2>/dev/null | wc -l', COMMAND_TIMEOUT_MS)).toBe('0');
    expect(await runAndRead(page, 'gonebox', 'docker ps -aq --filter name=filebox | wc -l', COMMAND_TIMEOUT_MS)).toBe('0');

    await page.locator('.session-bar input[type=file]').setInputFiles(sessionFile);
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await expect(page.getByRole('status')).toContainText('resumed session');
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    expect(await runAndRead(page, 'file', 'cat /tmp/dropdir/dropped.txt | head -1', COMMAND_TIMEOUT_MS)).toBe('dropped by e2e');
    expect(await runAndRead(page, 'box', "docker inspect -f '{{.Name}}' filebox", COMMAND_TIMEOUT_MS)).toBe('/filebox');
    // Opening a file makes it the saved session.
    await expect(page.locator('.session-message')).toContainText(/Saved \d+ MB/, { timeout: COMMAND_TIMEOUT_MS });
  });

  test('a second tab is told the session is open elsewhere and never saves over it', async () => {
    const before = await savedSessionFacts(page);
    expect(before).not.toBeNull();
    const second = await page.context().newPage();
    await second.goto('./');
    await expect(second.locator('.session-message')).toContainText('open in another tab', { timeout: BOOT_TIMEOUT_MS });
    await waitForRunning(second);
    await expect(second.getByRole('status')).toContainText('restored from snapshot');
    // The long notice once squeezed the brand until its tagline sat under the status text (seen at 1400x900).
    await second.setViewportSize({ width: 1400, height: 900 });
    const [tagline, status] = await Promise.all([second.locator('.brand-tagline').boundingBox(), second.locator('#status').boundingBox()]);
    expect(tagline && status && tagline.x + tagline.width <= status.x, `tagline ${JSON.stringify(tagline)} overlaps status ${JSON.stringify(status)}`).toBe(true);
    await second.getByRole('button', { name: 'Save' }).click();
    await expect(second.locator('.session-message')).toContainText('will not resume, save over or reset');
    expect(await savedSessionFacts(page)).toEqual(before);
    await second.close();
  });

  test('a corrupt saved session is moved aside, offered as a download, and a clean VM starts', async () => {
    const saved = await savedSessionFacts(page);
    expect(saved).not.toBeNull();
    const corrupt = await page.evaluate(async (id) => {
      // The session file magic (format 2), then bytes that are no header: looks like a session, fails the checks.
      const bytes = new Uint8Array(4096);
      bytes.set([0x54, 0x44, 0x53, 0x54, 0x41, 0x54, 0x45, 0x02]);
      for (let i = 8; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
      const tabdock = await (await navigator.storage.getDirectory()).getDirectoryHandle('tabdock');
      const folder = await (await tabdock.getDirectoryHandle('sessions')).getDirectoryHandle(id);
      const writable = await (await folder.getFileHandle('session.tdstate', { create: true })).createWritable();
      await writable.write(bytes);
      await writable.close();
      return Array.from(bytes);
    }, saved!.id);
    await page.reload();
    const message = page.locator('.session-message');
    await expect(message).toContainText('Started a clean VM instead', { timeout: BOOT_TIMEOUT_MS });
    await waitForRunning(page);
    await expect(page.getByRole('status')).toContainText('restored from snapshot');
    const downloading = page.waitForEvent('download');
    await message.getByRole('link', { name: 'Download the damaged file' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^damaged-.*\.tdstate$/);
    expect(Array.from(new Uint8Array(await readFile(await download.path())))).toEqual(corrupt);
    expect(await savedSessionFacts(page)).toBeNull();
  });
});
