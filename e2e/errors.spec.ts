// Error panels as a user meets them: a deployment missing the VM files, a worker script that fails to load
// (with Restart). Each is caused for real; nothing inside the app is mocked. No-WebAssembly: no-webassembly.spec.ts.
import { expect, test } from '@playwright/test';
import { waitForLine } from './terminal-view.ts';

test('a missing VM asset folder shows an error panel that says what to do', async ({ page }) => {
  await page.goto('./?assets=./no-such-vm/');
  const alert = page.getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(alert.getByRole('heading')).toHaveText('A VM file is missing on the server');
  await expect(alert).toContainText('no-such-vm/');
  await expect(alert).toContainText('npm run images');
  await expect(page.getByRole('status')).toContainText('Failed');
  // The same sentence is printed in the terminal, where the user is looking.
  await waitForLine(page, /\[tabdock\] .*manifest\.json is missing/, 10_000);
});

test('a worker that fails to load shows the crash panel, and Restart starts a new worker', async ({ page }) => {
  // A real failed download of the worker script, as a half-finished deployment would produce.
  await page.route(/\/assets\/worker-[^/]+\.js$/, (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto('./?assets=./no-such-vm/');
  const crash = page.getByRole('alert').filter({ hasText: 'The VM worker could not start' });
  await expect(crash).toBeVisible();
  await expect(crash.getByRole('heading')).toHaveText('The VM crashed');
  await crash.locator('summary').click();
  await expect(crash.locator('pre')).toContainText('did not load');

  await page.unroute(/\/assets\/worker-[^/]+\.js$/);
  await crash.getByRole('button', { name: 'Restart' }).click();
  await expect(crash).toBeHidden();
  // The new worker runs: it fetches the (missing) manifest and reports that, which only a live worker can.
  await expect(page.getByRole('alert').getByRole('heading')).toHaveText('A VM file is missing on the server');
});

test('a boot that outlives its timeout shows the boot-timeout panel with Restart', async ({ page }) => {
  // The real image and emulator cold-booting (a snapshot restore can be ready in about 3 s), given 3 s to boot:
  // far less than any real cold boot takes.
  await page.goto('./?bootTimeoutMs=3000&snapshot=off');
  const alert = page.getByRole('alert');
  await expect(alert.getByRole('heading')).toHaveText('The VM took too long to boot', { timeout: 5 * 60_000 });
  await expect(alert).toContainText('3 s');
  await expect(alert.getByRole('button', { name: 'Restart' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Failed');
});
