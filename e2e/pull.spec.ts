// docker pull in Chromium through the whole chain: dockerd -> the worker's registry shim -> the preview's CORS
// proxy (/cors-proxy/) -> a token-protected test registry on 127.0.0.1 whose blobs redirect to a "CDN". The
// upstream is set the way a user sets it: in the page's Network dialog. One boot for the whole file, which also
// drives the Docker view (src/docker-view/) with the keyboard only: a container started with -p appears with
// its port, stopping it from the view changes its state, and the pull shows its layer's progress.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { PULL_CDN_PORT, PULL_GATEWAY_PORT } from '../playwright.config.ts';
import { extendOciLayout } from '../worker/testing/oci-layout.ts';
import { pushLayout, startAuthGateway, startRegistry, type AuthGateway, type TestRegistry } from '../worker/testing/registry.ts';
import { terminalLines, typeCommand, waitForLine, waitForReady } from './terminal-view.ts';

const BOOT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
const UPSTREAM = `http://127.0.0.1:${PULL_GATEWAY_PORT}`;
const marker = `pulled-in-tab-${randomBytes(6).toString('hex')}`;

test.describe.serial('docker pull through the CORS proxy', () => {
  let page: Page;
  let registry: TestRegistry;
  let gateway: AuthGateway | undefined;
  let workDir: string;
  let layerDigest: string;
  /** The pull's per-layer lines as the terminal ended them (`<id>: Pull complete`, `<id>: Already exists`). */
  let terminalLayerLines: string[] = [];

  test.beforeAll(async ({ browser }, testInfo) => {
    workDir = await mkdtemp(join(tmpdir(), 'tabdock-pull-e2e-'));
    registry = await startRegistry();
    // The preview's proxy allow-lists exactly these two ports (playwright.config.ts).
    gateway = await startAuthGateway(registry.host, { port: PULL_GATEWAY_PORT, cdnPort: PULL_CDN_PORT });
    // The guest's preloaded busybox plus one new layer: the pull must download bytes the guest has never had.
    const image = await extendOciLayout(join('public', 'vm', 'test-images', 'busybox'), join(workDir, 'layout'), 'v1', {
      'pulled-marker.txt': Buffer.from(`${marker}\n`),
      'random.bin': randomBytes(512 * 1024),
    });
    await pushLayout(image.layoutDir, 'v1', registry.host, 'library/pulled');
    layerDigest = image.layerDigest;
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });

  test.afterAll(async () => {
    await page?.context().close();
    await gateway?.stop();
    await registry?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('the Network dialog refuses a bad mirror, then saves the test registry and restarts the VM', async () => {
    await page.goto('./');
    await page.getByRole('button', { name: 'Network…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Network settings' });
    await expect(dialog).toBeVisible();
    const mirror = dialog.getByLabel('Docker Hub upstream mirror');
    await mirror.fill('ftp://mirror.example.com');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('http:// or https://');
    await expect(mirror).toHaveAttribute('aria-invalid', 'true');
    await expect(dialog).toBeVisible();

    await mirror.fill(UPSTREAM);
    await expect(dialog).toContainText('keeps its current settings until it restarts');
    await dialog.getByRole('button', { name: 'Save and restart' }).click();
    await expect(dialog).toBeHidden();
    await waitForReady(page, BOOT_TIMEOUT_MS);

    // Remembered: the dialog shows it again, and says the running VM uses it.
    await page.getByRole('button', { name: 'Network…' }).click();
    await expect(mirror).toHaveValue(UPSTREAM);
    await expect(dialog).toContainText('the settings the running VM uses');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  test('the Docker view, with the keyboard only: a -p container appears with its port, Stop changes its state', async () => {
    // Keyboard only: Tab from the top of the page to the header's toggle, Enter opens the view and focuses it.
    // Start in the header (the terminal had focus, and it keeps Tab for the shell).
    await page.getByRole('button', { name: 'Reset' }).focus();
    const toggle = page.getByRole('button', { name: 'Docker view' });
    for (let presses = 0; presses < 20 && !(await toggle.evaluate((el) => el === document.activeElement)); presses++) await page.keyboard.press('Tab');
    await expect(toggle).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    const view = page.getByRole('complementary', { name: 'Docker' });
    await expect(view).toBeVisible();
    await expect(view.getByRole('heading', { name: 'Docker', exact: true })).toBeFocused();
    await expect(view).toContainText('Live from the Docker daemon', { timeout: COMMAND_TIMEOUT_MS });
    await expect(view.getByRole('list', { name: 'Images' })).toContainText('tabdock/httpd:latest', { timeout: COMMAND_TIMEOUT_MS });
    await expect(page.getByRole('img', { name: /How Docker works/ })).toBeVisible();

    await typeCommand(page, 'docker run -d -p 8080:80 --name web tabdock/httpd');
    const containers = view.getByRole('list', { name: 'Containers' });
    const web = containers.getByRole('listitem').filter({ hasText: 'web' });
    await expect(web).toContainText('port 8080 → 80/tcp', { timeout: COMMAND_TIMEOUT_MS });
    await expect(web).toContainText(/running/);
    await expect(web.getByRole('button', { name: 'Open port 8080 of web in the preview' })).toBeVisible();
    await expect(view.getByRole('list', { name: 'Networks' }).getByRole('listitem').filter({ hasText: 'bridge' }).first()).toContainText(/web 172\.17\.\d+\.\d+/);
    await expect(view).toContainText('client → REST API → daemon');

    // Back into the view with the keyboard: the terminal keeps Tab for the shell, so from the header's toggle,
    // whose next stops are the view's controls.
    await toggle.focus();
    const stop = web.getByRole('button', { name: 'Stop web' });
    for (let presses = 0; presses < 30 && !(await stop.evaluate((el) => el === document.activeElement)); presses++) await page.keyboard.press('Tab');
    await expect(stop).toBeFocused();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await terminalLines(page)).some((line) => line.startsWith('# docker stop web'))).toBe(true);
    await expect(web).toContainText(/exited \(\d+\)/, { timeout: COMMAND_TIMEOUT_MS });
    // The rebuilt row keeps the keyboard user's place: Stop became Start and has focus.
    await expect(web.getByRole('button', { name: 'Start web' })).toBeFocused();
    await expect(view).toContainText(/web exited with code \d+/);
  });

  test('docker pull downloads from the upstream and docker run prints the new layer', async () => {
    // A Docker Hub name: dockerd asks its registry mirror (the shim), which uses the upstream set above.
    await typeCommand(page, 'docker pull pulled:v1');
    await waitForLine(page, /^Status: Downloaded newer image for pulled:v1$/, COMMAND_TIMEOUT_MS);
    const pullLines = await terminalLines(page);
    terminalLayerLines = pullLines.filter((line) => /^[0-9a-f]{12}: /.test(line));
    // dockerd's fallback warning when the digest a tag resolved to cannot be fetched (issue #27).
    expect(pullLines.join('\n')).not.toMatch(/Failed to pull manifest by the resolved digest|DEPRECATED/);
    expect(gateway?.tokenRequests).toBeGreaterThan(0);
    await typeCommand(page, 'docker run --rm pulled:v1 cat /pulled-marker.txt');
    await waitForLine(page, new RegExp(`^${marker}$`), COMMAND_TIMEOUT_MS);
  });

  test('the Docker view showed the pull: its new layer with progress, then the image', async () => {
    const view = page.getByRole('complementary', { name: 'Docker' });
    const layers = view.getByRole('list', { name: 'Layers of the current pull' });
    const layer = layers.getByRole('listitem').filter({ hasText: layerDigest.slice('sha256:'.length, 'sha256:'.length + 12) });
    await expect(layer.getByRole('progressbar')).toHaveAttribute('value', /\d+/);
    // The view's layer lines read as the terminal's last ones did (issue #27), both layers: the new one and the
    // busybox base. dockerd downloads the base too: the guest's busybox came from `docker load`, which records no
    // registry digest for its layer, so dockerd cannot know it has it ("Already exists" needs an earlier pull).
    expect(terminalLayerLines).toContain(`${layerDigest.slice('sha256:'.length, 'sha256:'.length + 12)}: Pull complete`);
    expect(terminalLayerLines).toHaveLength(2);
    await expect(layers.getByRole('listitem')).toHaveText(terminalLayerLines);
    await expect(view.getByRole('list', { name: 'Images' })).toContainText('pulled:v1');
    await view.getByText('Recent activity').click();
    await expect(view).toContainText('Pulled pulled:v1');
    await expect(view).toContainText('Pulling a layer of pulled from 127.0.0.1');
  });

  test('a missing tag prints "manifest unknown"', async () => {
    // The mirror's own name: a Docker Hub name would fall back to registry-1.docker.io (README, limits).
    await typeCommand(page, "docker pull mirror.tabdock.internal/pulled:nope 2>&1 | grep -o 'manifest unknown' | head -n 1");
    await waitForLine(page, /^manifest unknown$/, COMMAND_TIMEOUT_MS);
  });

  test('a stopped upstream gives a message naming it, not a hang', async () => {
    await gateway?.stop();
    gateway = undefined;
    await typeCommand(page, `docker pull mirror.tabdock.internal/pulled:v2 2>&1 | grep -o 'could not reach ${UPSTREAM}' | head -n 1`);
    await waitForLine(page, new RegExp(`^could not reach ${UPSTREAM.replace(/\./g, '\\.')}$`), COMMAND_TIMEOUT_MS);
  });

  test('the proxy answers 403 for a host that is not allow-listed', async () => {
    // The bare registry is really there on 127.0.0.1, but only the gateway's port is allow-listed.
    const answers = await page.evaluate(async (targets) => {
      const results = [];
      for (const target of targets) {
        const response = await fetch(new URL(`/cors-proxy/${target}/v2/`, location.href));
        results.push({ status: response.status, text: await response.text() });
      }
      return results;
    }, [registry.host, 'example.com']);
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expect(answer.text).toMatch(/allow/i);
    }
  });
});
