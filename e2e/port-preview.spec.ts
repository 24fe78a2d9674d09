// Port preview in Chromium with the real guest, on the sub-path server (the app at /tabdock/): previews live on
// their own origin, the preview server's port + 10000 (worker/service-worker/node/). A container publishes port
// 8080 and serves e2e/port-preview-site.ts; its pages must work in the panel and in a tab of their own (assets,
// links and forms relative and root-relative, a fetch to its own API), and a page that tries to read the app's
// localStorage and OPFS, script its page or reach other ports must get nothing.
import { expect, test, type FrameLocator, type Page } from '@playwright/test';
import { SUBPATH, SUBPATH_PORT } from '../playwright.config.ts';
import { APP_SECRET, siteScript } from './port-preview-site.ts';
import { typeCommand, waitForLine, waitForPrompt, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** A page through the guest can wait for a busy emulator. */
const PAGE_TIMEOUT_MS = 60_000;
const APP = `http://localhost:${SUBPATH_PORT}${SUBPATH}`;
const PREVIEW_ORIGIN = `http://localhost:${SUBPATH_PORT + 10_000}`;

interface StealReport {
  origin: string;
  appSecret: unknown;
  localStorageKeys: unknown;
  opfs: unknown;
  topOrigin: string;
  terminal: string;
  opener: string;
  port2375: string;
  port9999: string;
}

/** Opens steal.html from the site's index in `frame` and returns what its script found. */
async function steal(frame: FrameLocator): Promise<StealReport> {
  await frame.locator('#steal').click();
  const report = frame.locator('#report');
  await expect(report).not.toHaveText('running', { timeout: PAGE_TIMEOUT_MS });
  return JSON.parse(await report.innerText()) as StealReport;
}

/** Everything a normal site does, in `frame`: assets, API fetches, links and forms, relative and root-relative. */
async function expectSiteWorks(frame: FrameLocator, postsBefore: number): Promise<void> {
  const url = () => frame.locator(':root').evaluate(() => location.href);
  await expect(frame.locator('#title')).toHaveText('js ran', { timeout: PAGE_TIMEOUT_MS });
  expect(await frame.locator('#title').evaluate((h1) => getComputedStyle(h1).color)).toBe('rgb(1, 2, 3)');
  await expect.poll(() => frame.locator('#sub').evaluate((h2) => getComputedStyle(h2).color), { timeout: PAGE_TIMEOUT_MS }).toBe('rgb(4, 5, 6)');
  await expect(frame.locator('#root-js')).toHaveText('root js ran', { timeout: PAGE_TIMEOUT_MS });
  await expect.poll(() => frame.locator('#dot').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: PAGE_TIMEOUT_MS }).toBe(1);
  await expect(frame.locator('#api')).toHaveText('relative:GET|root:GET', { timeout: PAGE_TIMEOUT_MS });
  // A GET form to a relative page, then a root-relative Home link: both stay on the port.
  await frame.locator('#search').click();
  await expect(frame.locator('#q')).toHaveText('hello', { timeout: PAGE_TIMEOUT_MS });
  expect(await url()).toBe(`${PREVIEW_ORIGIN}/port/8080/page2.html?q=hello`);
  await frame.locator('#home').click();
  await expect(frame.locator('#title')).toHaveText('js ran', { timeout: PAGE_TIMEOUT_MS });
  expect(await url()).toBe(`${PREVIEW_ORIGIN}/port/8080/`);
  await frame.locator('#abs').click();
  await expect(frame.locator('#p2')).toHaveText('page two', { timeout: PAGE_TIMEOUT_MS });
  expect(await url()).toBe(`${PREVIEW_ORIGIN}/port/8080/page2.html`);
  await frame.locator('#home').click();
  // A POST form with a root-relative action: the body reaches the container's CGI.
  await frame.locator('#send').click();
  await expect(frame.locator('#echo')).toHaveText('POST msg=posted+from+the+preview', { timeout: PAGE_TIMEOUT_MS });
  expect(await url()).toBe(`${PREVIEW_ORIGIN}/port/8080/cgi-bin/echo`);
  expect(await postCount(frame)).toBe(postsBefore + 1);
  await frame.locator(':root').evaluate(() => history.back());
  await expect(frame.locator('#title')).toHaveText('js ran', { timeout: PAGE_TIMEOUT_MS });
}

/** How many forms the container's CGI received, asked from a preview page. */
function postCount(frame: FrameLocator): Promise<number> {
  return frame.locator(':root').evaluate(() => fetch(new URL('/cgi-bin/api', location.href)).then((r) => r.json() as Promise<{ posts: number }>).then((a) => a.posts));
}

function expectIsolated(report: StealReport): void {
  expect(report.appSecret).toBeNull();
  expect(report.localStorageKeys).toEqual([]);
  expect(report.opfs).toEqual([]);
  expect(report.opener).toBe('none');
  expect(report.port2375).toBe('403 not-allowed');
  expect(report.port9999).toBe('403 not-allowed');
  expect(report.origin).toBe(PREVIEW_ORIGIN);
}

test.describe.serial('port preview', () => {
  let page: Page;
  /** The preview in a tab of its own, opened with New tab. */
  let tab: Page;

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
    page = await context.newPage();
  });

  test.afterAll(async () => {
    await page.context().close();
  });

  test("the app keeps no preview worker on its own origin, the preview origin serves nothing of the app, the VM boots", async () => {
    await page.goto(APP);
    // What an older build left: a preview worker on the app's origin, and what a preview must never read.
    await page.evaluate(async (secret) => {
      await navigator.serviceWorker.register('port-preview-sw.js', { scope: './' });
      await navigator.serviceWorker.ready;
      localStorage.setItem(secret.localStorageKey, secret.value);
      const file = await (await navigator.storage.getDirectory()).getFileHandle(secret.opfsFile, { create: true });
      const writable = await file.createWritable();
      await writable.write(secret.value);
      await writable.close();
    }, APP_SECRET);
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.getRegistrations().then((all) => all.length)), { timeout: 30_000 }).toBe(0);
    const shell = await page.request.get(`${PREVIEW_ORIGIN}/`);
    expect([shell.status(), await shell.text()]).toEqual([200, expect.stringContaining('<title>tabdock port preview</title>')]);
    for (const path of ['/index.html?app', `${SUBPATH}`, '/vm/manifest.json', `${SUBPATH}vm/manifest.json`, '/port/8080/', '/cors-proxy/']) {
      const response = await page.request.get(`${PREVIEW_ORIGIN}${path}`);
      expect([path, response.status()]).toEqual([path, path === '/index.html?app' ? 200 : 404]);
    }
    expect((await page.request.post(`${PREVIEW_ORIGIN}/port/8080/`, { data: 'x' })).status()).toBe(405);
    await waitForReady(page, BOOT_TIMEOUT_MS);
  });

  test('a published port is offered; its site works in the panel, from the preview origin', async () => {
    await typeCommand(page, 'docker run -d --name web -p 8080:80 tabdock/httpd', COMMAND_TIMEOUT_MS);
    await waitForLine(page, /^[0-9a-f]{64}$/, COMMAND_TIMEOUT_MS);
    await typeCommand(page, 'cd /tmp', COMMAND_TIMEOUT_MS);
    await waitForPrompt(page, COMMAND_TIMEOUT_MS);
    await page.evaluate((script) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([script], 'site.sh', { type: 'text/plain' }));
      const target = document.querySelector('#terminal .xterm-screen') ?? document.querySelector('#terminal');
      if (!target) throw new Error('no terminal to drop on');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, siteScript());
    await expect(page.locator('.file-transfer')).toContainText('Placed /tmp/site.sh', { timeout: COMMAND_TIMEOUT_MS });
    await typeCommand(page, 'sh /tmp/site.sh && cd', COMMAND_TIMEOUT_MS);
    // The site is in the container only once `docker cp` said so: opening the preview earlier shows the old page.
    await waitForLine(page, /^site-copied$/, COMMAND_TIMEOUT_MS);

    const bar = page.getByRole('region', { name: 'Published ports' });
    const open = bar.getByRole('button', { name: /^Open port 8080 \(web\)/ });
    await expect(open).toBeVisible({ timeout: COMMAND_TIMEOUT_MS });
    await expect(bar).toContainText('Port 8080');
    await open.click();
    await expect(page.getByRole('region', { name: 'Port 8080' })).toBeVisible();
    const panel = page.locator('iframe[title="Preview of port 8080"]');
    await expect(panel).toHaveAttribute('src', `${PREVIEW_ORIGIN}/port/8080/`, { timeout: PAGE_TIMEOUT_MS });
    await expectSiteWorks(page.frameLocator('iframe[title="Preview of port 8080"]'), 0);
  });

  test("script in the panel's page cannot read the app's localStorage or OPFS, nor script its page", async () => {
    const report = await steal(page.frameLocator('iframe[title="Preview of port 8080"]'));
    console.log(`port preview, panel: ${JSON.stringify(report)}`);
    expectIsolated(report);
    expect(report.topOrigin).toMatch(/^blocked: SecurityError/);
    expect(report.terminal).toMatch(/^blocked: SecurityError/);
    // The app's own data is still there: the preview merely could not see it.
    expect(await page.evaluate((key) => localStorage.getItem(key), APP_SECRET.localStorageKey)).toBe(APP_SECRET.value);
  });

  test('the site works in a tab of its own, which reaches the VM only through the tab that opened it', async () => {
    // Without the panel (and its relay frame) the tab's own shell is the only way to the VM, as on a preview
    // origin of another site, whose storage partition the tab does not share with tabdock's frames.
    await page.getByRole('button', { name: 'Close the preview' }).click();
    [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('region', { name: 'Published ports' }).getByRole('link', { name: 'Open port 8080 in a new tab' }).click(),
    ]);
    await tab.waitForLoadState();
    expect(new URL(tab.url()).origin).toBe(PREVIEW_ORIGIN);
    const site = tab.frameLocator('iframe.site');
    await expectSiteWorks(site, 1);
    const report = await steal(site);
    console.log(`port preview, tab: ${JSON.stringify(report)}`);
    expectIsolated(report);
    // The page's top is the preview shell (its own origin), which let go of its opener: the app is out of reach.
    expect(report.topOrigin).toBe(PREVIEW_ORIGIN);
    // A reload comes back to the same page, reconnected through the app's tab.
    await tab.reload();
    await expect(site.locator('#report')).toContainText('"appSecret":null', { timeout: PAGE_TIMEOUT_MS });
  });

  test('a form another site posts into a preview is refused before it reaches the container', async () => {
    const attacker = await page.context().newPage();
    await attacker.route('http://attacker.localhost/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form id="csrf" method="post" action="${PREVIEW_ORIGIN}/port/8080/cgi-bin/echo"><input name="msg" value="forged"><button>go</button></form>`,
      }),
    );
    await attacker.goto('http://attacker.localhost/csrf.html');
    const [response] = await Promise.all([attacker.waitForResponse(`${PREVIEW_ORIGIN}/port/8080/cgi-bin/echo`), attacker.locator('#csrf button').click()]);
    expect(response.status()).toBe(403);
    await expect(attacker.getByRole('alert')).toHaveAttribute('data-error-code', 'foreign-post');
    await attacker.close();
    expect(await postCount(tab.frameLocator('iframe.site'))).toBe(2);
    await tab.close();
  });

  test('a port opened before its server listens shows the wait, then the page without a reload', async () => {
    // docker-proxy listens on 8081 at once, so the bar offers it; the server in the container starts 20 s later.
    await typeCommand(page, "docker run -d --name slow -p 8081:80 tabdock/httpd sh -c 'sleep 20; exec httpd -f -p 80 -h /www'", COMMAND_TIMEOUT_MS);
    await waitForLine(page, /^[0-9a-f]{64}$/, COMMAND_TIMEOUT_MS);
    const open = page.getByRole('region', { name: 'Published ports' }).getByRole('button', { name: /^Open port 8081 \(slow\)/ });
    await expect(open).toBeVisible({ timeout: COMMAND_TIMEOUT_MS });
    await open.click();
    const region = page.getByRole('region', { name: 'Port 8081' });
    await expect(region.getByRole('status')).toContainText(/Waiting for port 8081 to answer… \(\d+ s\)/, { timeout: PAGE_TIMEOUT_MS });
    const panel = page.locator('iframe[title="Preview of port 8081"]');
    expect(await panel.getAttribute('src')).toBeNull();
    await expect(panel).toHaveAttribute('src', `${PREVIEW_ORIGIN}/port/8081/`, { timeout: PAGE_TIMEOUT_MS });
    await expect(page.frameLocator('iframe[title="Preview of port 8081"]').locator('h1')).toHaveText('tabdock test page', { timeout: PAGE_TIMEOUT_MS });
    await expect(region.getByRole('status')).toBeHidden();
  });
});
