// A browser without WebAssembly is told so before anything downloads. V8's jitless mode, which hardened
// browser setups use, has no WebAssembly global (https://v8.dev/blog/jitless); the launch flag needs its own file.
import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config.ts';

test.use({ launchOptions: { executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS, '--js-flags=--jitless'] } });

test('a browser without WebAssembly sees why the VM cannot run, and no Restart', async ({ page }) => {
  await page.goto('./');
  const alert = page.getByRole('alert');
  await expect(alert.getByRole('heading')).toHaveText('This browser cannot run the VM');
  await expect(alert).toContainText('WebAssembly');
  await expect(alert.getByRole('button', { name: 'Restart' })).toHaveCount(0);
  await expect(page.getByRole('status')).toContainText('Failed');
});
