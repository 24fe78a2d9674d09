// The benchmark sections bench.ts runs, in order. Add a section module here to extend bench.json.
import { browserDiskSection, browserSection, pullBrowserSection } from './browser/browser-section.ts';
import { buildSection } from './node/build.ts';
import { consoleThroughputSection } from './node/console-throughput.ts';
import { containerStartSection } from './node/container-start.ts';
import { diskSection } from './node/disk.ts';
import { dockerRunSection } from './node/docker-run.ts';
import { dockerViewSection } from './browser/docker-view-section.ts';
import { egressSection } from './node/egress.ts';
import { emulationSection } from './node/emulation.ts';
import { portPreviewSection } from './node/port-preview.ts';
import { pullSection } from './node/pull.ts';
import type { BenchSection } from './node/section.ts';
import { snapshotSection } from './node/snapshot.ts';

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
  emulationSection,
  browserSection,
  dockerViewSection,
  browserDiskSection,
  // Last: it ends the shared VM (it saves the session and resumes it in a new host).
  diskSection,
];
