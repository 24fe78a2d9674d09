// Bench section "browser": the same guest in Debian's Chromium (time to first prompt, bytes before it, and
// `docker run` typed through the terminal); e2e/bench-browser.ts builds the site and drives the page itself.
import { runBrowserBench } from '../../../e2e/bench-browser.ts';
import type { BenchContext, BenchSection } from './section.ts';

export const browserSection: BenchSection = {
  name: 'browser',
  ownVm: true,
  async run(context: BenchContext) {
    return { ...(await runBrowserBench(context.log)) };
  },
};
