// Embed mode in Chromium: the example host page (public/embed-example.html) puts embed.html in an iframe,
// gets `ready` once the machine runs, sends a `run` request, and sees the command's output in the frame; the
// lab step it completes comes back as `step-done` only once the reader has accepted the lab's checks in the
// frame (the host page cannot). One VM boot.
import { expect, test } from '@playwright/test';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const CHECK_TIMEOUT_MS = 5 * 60_000;

const EMBED_LAB = `---
title: E2E embed
---
## Write from the host page

\`\`\`verify
grep -qx embedded /tmp/e2e-embed
\`\`\`
`;

test('a host page runs a command in embedded tabdock and hears ready and step-done', async ({ page }) => {
  // A predicate, not a glob: a glob would also match the host page's own `?lab=./e2e-labs/embed.md`.
  await page.context().route((url) => url.pathname === '/e2e-labs/embed.md', (route) =>
    route.fulfill({ status: 200, contentType: 'text/markdown; charset=utf-8', body: EMBED_LAB }),
  );
  await page.goto('./embed-example.html?lab=./e2e-labs/embed.md');
  const frame = page.frameLocator('#tabdock');
  await expect(frame.getByRole('heading', { level: 1, name: 'E2E embed' })).toBeVisible();
  // No page chrome in embed mode: no header, no session buttons.
  await expect(frame.locator('.app-header')).toHaveCount(0);

  const events = page.locator('#events li');
  await expect(events.filter({ hasText: /^ready$/ })).toHaveCount(1, { timeout: BOOT_TIMEOUT_MS });
  await expect(page.getByRole('button', { name: 'Run in tabdock' })).toBeEnabled();

  await page.getByLabel('Command').fill('echo embedded | tee /tmp/e2e-embed');
  await page.getByRole('button', { name: 'Run in tabdock' }).click();
  await expect(events.filter({ hasText: 'reply run-1: ok' })).toHaveCount(1);
  // The command's output, in the frame's terminal (a row of its own, not the echoed command line).
  await expect
    .poll(async () => (await frame.locator('#terminal .xterm-rows > div').allInnerTexts()).map((row) => row.replace(/\u00a0/g, ' ').trim()), {
      timeout: CHECK_TIMEOUT_MS,
    })
    .toContain('embedded');
  // No check runs before the reader accepts the lab's checks in the frame.
  await expect(frame.locator('.lab-step-message')).toHaveText(/^Check not run: accept checks to enable/);
  await frame.locator('.lab-consent-accept').click();
  await expect(events.filter({ hasText: '"state":"accepted"' })).toHaveCount(1);
  // The next command the host runs finishes, and the step's check passes: no Check click, no check request.
  await page.getByLabel('Command').fill('echo again');
  await page.getByRole('button', { name: 'Run in tabdock' }).click();
  await expect(events.filter({ hasText: 'step-done 0: Write from the host page' })).toHaveCount(1, { timeout: CHECK_TIMEOUT_MS });
  await expect(frame.locator('.lab-status')).toHaveClass(/lab-status-done/);
});
