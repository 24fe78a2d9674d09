// Stack links in Chromium against the real guest (one boot): `?stack=<URL of a Compose file>`, the query of the
// old "Try in PWD" buttons, with the file served from 127.0.0.1 (a Playwright route, with the CORS header a raw
// file host sends). The panel shows the file, its service, image and port; nothing is written or started in the
// guest before Run; after Run the service runs and its published port is offered in the port bar.
import { createHash } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { PREVIEW_PORT } from '../playwright.config.ts';
import { runAndRead, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** Nothing listens here: the route answers, as a CORS-enabled file host would. */
const COMPOSE_URL = `http://127.0.0.1:${PREVIEW_PORT + 9}/e2e-stack/demo/docker-compose.yml`;
const COMPOSE = `services:
  web:
    image: tabdock/httpd
    ports:
      - "8082:80"
`;

test.describe.serial('stack links', () => {
  let page: Page;

  test.beforeAll(async ({ browser }, testInfo) => {
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 850 } });
    page = await context.newPage();
    await page.route((url) => url.href === COMPOSE_URL, (route) =>
      route.fulfill({ status: 200, contentType: 'text/yaml; charset=utf-8', headers: { 'access-control-allow-origin': '*' }, body: COMPOSE }),
    );
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test('the link shows the file, its service, image and port, and nothing runs before Run', async () => {
    await page.goto(`./?stack=${encodeURIComponent(COMPOSE_URL)}`);
    const panel = page.getByRole('region', { name: 'Stack from a link' });
    await expect(panel).toContainText('Run this stack?');
    await expect(panel).toContainText(COMPOSE_URL);
    await expect(panel.locator('table')).toContainText('tabdock/httpd');
    await expect(panel.locator('table')).toContainText('8082:80');
    await expect(panel.locator('pre')).toHaveText(COMPOSE);
    await waitForReady(page, BOOT_TIMEOUT_MS);
    const run = panel.getByRole('button', { name: 'Run', exact: true });
    await expect(run).toBeEnabled();
    // The machine is up and the question is on screen: no file was written, no container made.
    expect(await runAndRead(page, 'stackdir', 'ls -d /root/stacks 2>/dev/null | wc -l', COMMAND_TIMEOUT_MS)).toBe('0');
    expect(await runAndRead(page, 'before', 'docker ps -aq --filter label=com.docker.compose.project=demo | wc -l', COMMAND_TIMEOUT_MS)).toBe('0');
    await expect(page.getByRole('region', { name: 'Published ports' }).getByRole('button', { name: /^Open port 8082/ })).toHaveCount(0);
  });

  test('Run starts the service and its published port is offered', async () => {
    const panel = page.getByRole('region', { name: 'Stack from a link' });
    await panel.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(panel.getByRole('status')).toContainText('Started', { timeout: COMMAND_TIMEOUT_MS });
    const open = page.getByRole('region', { name: 'Published ports' }).getByRole('button', { name: /^Open port 8082 \(demo-web-1\)/ });
    await expect(open).toBeVisible({ timeout: COMMAND_TIMEOUT_MS });
    expect(await runAndRead(page, 'running', "docker ps --filter label=com.docker.compose.project=demo --format '{{.Names}}:{{.Ports}}'", COMMAND_TIMEOUT_MS)).toMatch(
      /^demo-web-1:.*8082->80\/tcp/,
    );
    // The file in the guest is the one shown, byte for byte.
    expect(await runAndRead(page, 'file', "md5sum < /root/stacks/demo/compose.yaml | cut -d' ' -f1", COMMAND_TIMEOUT_MS)).toBe(createHash('md5').update(COMPOSE).digest('hex'));
  });
});
