// Bench section "dockerView": `docker run --rm busybox true` in Chromium with the Docker view open against closed
// (median of 5 each); e2e/bench/browser/docker-view.ts builds the site and drives the page itself.
import { runDockerViewBench } from './docker-view.ts';
import type { BenchContext, BenchSection } from '../node/section.ts';

export const dockerViewSection: BenchSection = {
  name: 'dockerView',
  ownVm: true,
  async run(context: BenchContext) {
    return { ...(await runDockerViewBench(context.log)) };
  },
};
