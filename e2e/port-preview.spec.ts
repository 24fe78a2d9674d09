// Port preview in Chromium with the real guest, on the sub-path server (the Service Worker's scope is the app's
// base there, not the origin's root): a container publishes port 8080, the page offers it, and its HTML, CSS,
// JS and PNG (relative links, one in a sub-folder) render in the preview panel and in a tab of their own. A
// port nothing listens on shows the error page. The page is reloaded under the active Service Worker first, so
// the whole boot (manifest, wasm, disk Range requests from the VM worker) also passes through it.
import { expect, test, type Page } from '@playwright/test';
import { SUBPATH, SUBPATH_PORT } from '../playwright.config.ts';
import { typeCommand, waitForLine, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const APP = `http://localhost:${SUBPATH_PORT}${SUBPATH}`;

const FILES: Record<string, string> = {
  'index.html':
    '<!doctype html><html><head><title>preview e2e</title><link rel="stylesheet" href="style.css"></head>' +
    '<body><h1 id="title">before js</h1><img id="dot" src="img/dot.png" alt="dot"><script src="app.js"></script></body></html>\n',
  'style.css': 'h1 { color: rgb(1, 2, 3); }\n',
  'app.js': "document.getElementById('title').textContent = 'js ran';\n",
};
/** A 1x1 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** One shell line that writes the site into /tmp/site in the guest and copies it into the container's docroot. */
function writeSiteCommand(): string {
  const writes = Object.entries(FILES).map(([name, text]) => `echo ${Buffer.from(text).toString('base64')} | base64 -d > ${name}`);
  writes.push(`mkdir img && echo ${PNG_BASE64} | base64 -d > img/dot.png`);
  return `rm -rf /tmp/site && mkdir /tmp/site && cd /tmp/site && ${writes.join(' && ')} && docker cp /tmp/site/. web:/www/ && cd && echo site-copied`;
}

async function expectSiteRendered(page: Page, frame: ReturnType<Page['frameLocator']> | Page): Promise<void> {
  const title = frame.locator('#title');
  await expect(title).toHaveText('js ran', { timeout: 60_000 });
  expect(await title.evaluate((h1) => getComputedStyle(h1).color)).toBe('rgb(1, 2, 3)');
  const dot = frame.locator('#dot');
  await expect.poll(() => dot.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 60_000 }).toBe(1);
}

test.describe.serial('port preview', () => {
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
    page = await context.newPage();
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test('the VM boots under the active Service Worker', async () => {
    await page.goto(APP);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.reload();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${APP}port-preview-sw.js`);
    await waitForReady(page, BOOT_TIMEOUT_MS);
  });

  test('a published port is offered and its page renders in the panel', async () => {
    await typeCommand(page, 'docker run -d --name web -p 8080:80 tabdock/httpd', COMMAND_TIMEOUT_MS);
    await waitForLine(page, /^[0-9a-f]{64}$/, COMMAND_TIMEOUT_MS);
    await typeCommand(page, writeSiteCommand(), COMMAND_TIMEOUT_MS);
    // The site is in the container only once `docker cp` said so: opening the preview earlier shows the old page.
    await waitForLine(page, /^site-copied$/, COMMAND_TIMEOUT_MS);

    const bar = page.getByRole('region', { name: 'Published ports' });
    const open = bar.getByRole('button', { name: /^Open port 8080 \(web\)/ });
    await expect(open).toBeVisible({ timeout: COMMAND_TIMEOUT_MS });
    await expect(bar).toContainText('Port 8080');
    await open.click();
    const panel = page.getByRole('region', { name: 'Port 8080' });
    await expect(panel).toBeVisible();
    await expectSiteRendered(page, page.frameLocator('iframe[title="Preview of port 8080"]'));
  });

  test('the same page opens in a tab of its own, and port/8080 gains its slash', async () => {
    const tab = await page.context().newPage();
    const response = await tab.goto(`${APP}port/8080`);
    expect(response?.status()).toBe(200);
    expect(tab.url()).toBe(`${APP}port/8080/`);
    await expectSiteRendered(tab, tab);
    await tab.close();
  });

  test('a port nothing listens on shows a clear error page', async () => {
    const tab = await page.context().newPage();
    const response = await tab.goto(`${APP}port/9999/`);
    expect(response?.status()).toBe(502);
    await expect(tab.getByRole('alert')).toHaveAttribute('data-error-code', 'not-listening');
    await expect(tab.getByRole('heading')).toHaveText('The container is not listening on this port (port 9999)');
    await expect(tab.getByRole('alert')).toContainText('Nothing in the VM is listening on port 9999');
    await tab.close();
  });
});
