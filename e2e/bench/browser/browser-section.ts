// Bench section "browser": the same guest in Debian's Chromium (time to first prompt, bytes before it, and
// `docker run` typed through the terminal); e2e/bench/browser/browser.ts builds the site and drives the page itself.
import { runBrowserBench } from './browser.ts';
import { runBrowserDiskBench } from './browser-disk.ts';
import { runBrowserPullBench } from './pull.ts';
import type { BenchContext, BenchSection } from '../node/section.ts';

export const browserSection: BenchSection = {
  name: 'browser',
  ownVm: true,
  async run(context: BenchContext) {
    return { ...(await runBrowserBench(context.log)) };
  },
};

/** Tab memory and session save/resume with 1 GiB written, in Chromium (e2e/bench/browser/browser-disk.ts). */
export const browserDiskSection: BenchSection = {
  name: 'browserDisk',
  ownVm: true,
  async run(context: BenchContext) {
    return { ...(await runBrowserDiskBench(context.log)) };
  },
};

/** The Chromium half of `pull` (e2e/bench/browser/pull.ts); `npm run bench -- pull` runs both. */
export const pullBrowserSection: BenchSection = {
  name: 'pullBrowser',
  group: 'pull',
  ownVm: true,
  async run(context: BenchContext) {
    return runBrowserPullBench(context.log);
  },
};
