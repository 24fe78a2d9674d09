// The built site served under a sub-path (/tabdock/, second preview server in playwright.config.ts) loads its
// page, worker, v86.wasm and VM files with URLs relative to the page, and boots far enough to run the kernel.
import { expect, test } from '@playwright/test';
import { SUBPATH, SUBPATH_PORT } from '../playwright.config.ts';

test('the built site works from a sub-path', async ({ page }) => {
  const origin = `http://localhost:${SUBPATH_PORT}`;
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  // Requests from the VM's dedicated worker (manifest, kernel, wasm, disk ranges) count too.
  page.context().on('request', (request) => requested.push(request.url()));

  await page.goto(`${origin}${SUBPATH}`);
  // The kernel stage means: manifest, boot files and v86.wasm all loaded, and the emulator is running.
  await expect(page.locator('.progress-stages li[data-stage="booting-kernel"]')).toHaveAttribute('data-status', /active|done/, {
    timeout: 5 * 60_000,
  });
  await expect(page.getByRole('alert')).toHaveCount(0);

  const local = [...new Set(requested)].filter((url) => url.startsWith(origin));
  expect(local.some((url) => url.includes('/vm/manifest.json'))).toBe(true);
  expect(local.some((url) => /\.wasm$/.test(url))).toBe(true);
  expect(local.filter((url) => !url.startsWith(`${origin}${SUBPATH}`))).toEqual([]);
});
