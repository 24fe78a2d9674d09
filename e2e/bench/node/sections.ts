// The benchmark sections bench.ts runs, in order. Add a section module here to extend bench.json.
import { browserDiskSection, browserSection, pullBrowserSection } from './browser.ts';
import { buildSection } from './build.ts';
import { consoleThroughputSection } from './console-throughput.ts';
import { containerStartSection } from './container-start.ts';
import { diskSection } from './disk.ts';
import { dockerRunSection } from './docker-run.ts';
import { dockerViewSection } from './docker-view.ts';
import { egressSection } from './egress.ts';
import { portPreviewSection } from './port-preview.ts';
import { pullSection } from './pull.ts';
import type { BenchSection } from './section.ts';
import { snapshotSection } from './snapshot.ts';

export const BENCH_SECTIONS: readonly BenchSection[] = [
  containerStartSection,
  dockerRunSection,
  consoleThroughputSection,
  portPreviewSection,
  snapshotSection,
  pullSection,
  pullBrowserSection,
  buildSection,
  egressSection,
  browserSection,
  dockerViewSection,
  browserDiskSection,
  // Last: it ends the shared VM (it saves the session and resumes it in a new host).
  diskSection,
];
