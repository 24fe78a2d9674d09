// Playwright runs the e2e specs against the BUILT site (vite build + vite preview) in Debian's Chromium;
// `npx playwright install` cannot download browsers here. A second preview serves the same dist/ under a
// sub-path, to prove the static site does not assume it lives at the server root.
import { defineConfig } from '@playwright/test';

// TABDOCK_E2E_PORT moves both previews (it and the next port), so two checkouts can run e2e side by side.
export const PREVIEW_PORT = Number(process.env.TABDOCK_E2E_PORT ?? 4173);
export const SUBPATH_PORT = PREVIEW_PORT + 1;
export const SUBPATH = '/tabdock/';
/** e2e/pull.spec.ts starts a token-protected test registry here (and its blob "CDN" on the next port). */
export const PULL_GATEWAY_PORT = PREVIEW_PORT + 2;
export const PULL_CDN_PORT = PREVIEW_PORT + 3;
/** e2e/egress.spec.ts starts an HTTPS server here; the preview's relay lets the guest reach it as host.tabdock.internal. */
export const EGRESS_HTTPS_PORT = PREVIEW_PORT + 4;

/** Debian's Chromium; flags keep a headless run quiet and deterministic (no updates, sync or GPU). */
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // A cold boot is about a minute on a fast machine and several under load; a docker run adds more.
  timeout: 15 * 60_000,
  expect: { timeout: 30_000 },
  // One VM at a time: each boot wants a whole core of a 2-core machine.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: `http://localhost:${PREVIEW_PORT}/`,
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  // Started in order: the first builds dist/, the second only serves it under a sub-path.
  webServer: [
    {
      command: `npx vite build && npx vite preview --port ${PREVIEW_PORT} --strictPort`,
      url: `http://localhost:${PREVIEW_PORT}/`,
      // The preview's CORS proxy (worker/proxy/node/vite-plugin.ts) may reach e2e/pull.spec.ts's local test registry.
      env: {
        TABDOCK_PROXY_ALLOW: `http://127.0.0.1:${PULL_GATEWAY_PORT}`,
        TABDOCK_PROXY_ALLOW_REDIRECT: `http://127.0.0.1:${PULL_CDN_PORT}`,
        TABDOCK_ALLOW_HOST_PORTS: String(EGRESS_HTTPS_PORT),
      },
      reuseExistingServer: false,
      timeout: 180_000,
    },
    {
      command: `npx vite preview --port ${SUBPATH_PORT} --strictPort --base ${SUBPATH}`,
      url: `http://localhost:${SUBPATH_PORT}${SUBPATH}`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
