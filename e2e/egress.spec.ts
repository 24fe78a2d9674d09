// HTTPS from a container in Chromium, through the whole chain: curl in a `docker build` RUN step on tabdock/curl
// -> the guest's NAT -> the worker's DNS and egress -> one WebSocket to the preview's Wisp relay at /wisp/ -> an
// HTTPS server on 127.0.0.1 that the relay lets the guest reach as host.tabdock.internal (TABDOCK_ALLOW_HOST_PORTS,
// set for the preview in playwright.config.ts). Then a refusal, and the Network dialog trying a relay that is not there (what
// the VM does with a relay that is down is in worker/vm/net/egress.vm.test.ts, without a second boot).
import { expect, test, type Page } from '@playwright/test';
import { EGRESS_HTTPS_PORT } from '../playwright.config.ts';
import { freePort } from '../worker/testing/registry.ts';
import { makeCertificates, startHttpsServer, type TestCertificates, type TestHttpsServer } from '../worker/testing/tls.ts';
import { terminalLines, typeCommand, waitForLine, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const GREETING = 'hello over TLS through the relay';

/** The screen's text with all white space removed: xterm wraps long notices over several rows. */
async function screenText(page: Page): Promise<string> {
  return (await terminalLines(page)).join('').replace(/\s+/g, '');
}

const squeezed = (text: string) => text.replace(/\s+/g, '');

test.describe.serial('TCP from containers through the Wisp relay', () => {
  let page: Page;
  let certs: TestCertificates;
  let https: TestHttpsServer;

  test.beforeAll(async ({ browser }, testInfo) => {
    certs = await makeCertificates();
    https = await startHttpsServer(certs, { '/': GREETING }, EGRESS_HTTPS_PORT);
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });

  test.afterAll(async () => {
    await page?.context().close();
    await https?.close();
    await certs?.remove();
  });

  test('a docker build whose RUN step fetches over HTTPS from the host; a port the relay refuses fails at once', async () => {
    await page.goto('./');
    await waitForReady(page, BOOT_TIMEOUT_MS);
    // One RUN step (its container is where curl runs) prints the body, then curl's exit code for a port the relay
    // does not allow: 7, failed to connect (the guest's SYN was answered with a reset). The typed line holds
    // `exit=$?`, never `exit=7`, so only the build's output can match.
    const dockerfile =
      `FROM tabdock/curl\\nRUN curl -ksS https://host.tabdock.internal:${EGRESS_HTTPS_PORT}/; ` +
      `curl -ksS https://host.tabdock.internal:22/ 2>/dev/null; echo " exit=$?"\\n`;
    // --progress=plain keeps the RUN step's output on screen (BuildKit's terminal view folds it away); its lines
    // then start with the step and the time, e.g. `#6 0.91 exit=7`.
    await typeCommand(page, `tabdock-load-image curl && printf '${dockerfile}' | docker build --progress=plain -t egress-e2e -`);
    // The page's notice about the refusal may land between the two (it writes its own line).
    await waitForLine(page, /(^|\s)exit=7$/, COMMAND_TIMEOUT_MS);
    await waitForLine(page, new RegExp(GREETING), 1000);
    await expect.poll(() => screenText(page)).toContain(squeezed('host.tabdock.internal:22 was refused by the relay'));
  });

  test('the Network dialog tries a new relay URL and keeps one that does not answer only when asked twice', async () => {
    const deadRelay = `ws://127.0.0.1:${await freePort()}/wisp/`;
    await page.getByRole('button', { name: 'Network…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Network settings' });
    const relay = dialog.getByLabel('TCP relay URL');
    await relay.fill('ftp://relay.example.com/');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('must start with wss://');
    await relay.fill(deadRelay);
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('The relay did not answer');
    await expect(dialog).toBeVisible();
    // Kept on the second press (it may be started later), remembered, and in effect from the next start.
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole('button', { name: 'Network…' }).click();
    await expect(relay).toHaveValue(deadRelay);
    await expect(dialog).toContainText('keeps its current settings until it restarts');
    // The preview's own relay answers the same check.
    await relay.fill('/wisp/');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(dialog).toBeHidden();
  });
});
