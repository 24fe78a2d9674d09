// Bench section "disk" (issue #16): this process's memory (the VM runs in it) at the prompt, after writing
// 1 GiB in the guest, after pulling a 300 MB image from the offline test registry and after 20 `docker run`s;
// then saving the session with that 1 GiB written and resuming it in a new host. Runs last: it ends the
// shared VM. The browser's figures are e2e/bench/browser/browser-disk.ts's (section "browserDisk").
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtendedImage } from '../../../worker/testing/oci-layout.ts';
import { startRegistry, type TestRegistry } from '../../../worker/testing/registry.ts';
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from '../../../worker/node/node-platform.ts';
import { pushBusyboxWithLayer } from './busybox-layers.ts';
import { roundMs, type BenchSection } from './section.ts';

const PULL_BYTES = 300 * 1024 * 1024;
const REGISTRY_NAME = 'disk-bench.test';
const REPOSITORY = 'bench/three-hundred';
const TAG = 'v1';
const COMMAND_TIMEOUT_MS = 1_800_000;
const MIB = 1024 * 1024;

let registry: TestRegistry | undefined;
let image: ExtendedImage | undefined;
let workDir: string | undefined;

interface MemoryFigures {
  rssBytes: number;
  /** V8's heap in use plus ArrayBuffers outside the guest's RAM (which is WebAssembly memory). */
  jsHeapBytes: number;
  heapUsedBytes: number;
  arrayBuffersBytes: number;
  /** The block store: bytes of its file (outside the heap) and blocks held in memory for lack of space. */
  storeFileBytes: number;
  storeHeldBytes: number;
  imageCacheBytes: number;
}

function memory(host: VmHost): MemoryFigures {
  // A full collection first, when the bench runs with --expose-gc, so garbage does not count as growth.
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const disk = host.probe.disk;
  return {
    rssBytes: usage.rss,
    jsHeapBytes: usage.heapUsed + usage.arrayBuffers,
    heapUsedBytes: usage.heapUsed,
    arrayBuffersBytes: usage.arrayBuffers,
    storeFileBytes: disk?.store.fileBytes ?? 0,
    storeHeldBytes: disk?.store.heldBytes ?? 0,
    imageCacheBytes: disk?.image.counters.cachedBytes ?? 0,
  };
}

async function timed(host: VmHost, command: string): Promise<number> {
  const started = performance.now();
  const result = await host.exec(command, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`\`${command}\` failed (${result.exitCode}): ${result.output}`);
  return roundMs(performance.now() - started);
}

export const diskSection: BenchSection = {
  name: 'disk',
  async prepare(log) {
    workDir = await mkdtemp(join(tmpdir(), 'tabdock-bench-disk-'));
    registry = await startRegistry();
    image = await pushBusyboxWithLayer({ layoutDir: join(workDir, 'layout'), tag: TAG, registryHost: registry.host, repository: REPOSITORY, files: { 'random.bin': randomBytes(PULL_BYTES) } });
    log(`disk: pushed ${REGISTRY_NAME}/${REPOSITORY}:${TAG}, new layer ${image.layerBytes} bytes`);
    return {
      network: { hostRewrites: { [REGISTRY_NAME]: `http://${registry.host}` } },
      async dispose() {
        await registry?.stop();
        if (workDir) await rm(workDir, { recursive: true, force: true });
      },
    };
  },
  async run({ host, log, diskDirectory }) {
    if (!registry || !image) throw new Error('disk section was not prepared');
    const atPrompt = memory(host);
    log(`disk: at the prompt ${JSON.stringify(atPrompt)}`);

    const writeMs = await timed(host, 'dd if=/dev/urandom of=/root/bench-1g bs=1M count=1024 status=none && sync');
    const afterWrite = memory(host);
    log(`disk: 1 GiB written in ${writeMs} ms ${JSON.stringify(afterWrite)}`);
    // A cheap identity for after the resume (hashing all of it takes the guest two minutes; the VM test does).
    const fingerprintCommand = 'stat -c %s /root/bench-1g && tail -c 4194304 /root/bench-1g | sha256sum';
    const fingerprint = (await host.exec(fingerprintCommand, { timeoutMs: COMMAND_TIMEOUT_MS })).output;

    const pullMs = await timed(host, `docker pull ${REGISTRY_NAME}/${REPOSITORY}:${TAG} >/dev/null && sync`);
    const afterPull = memory(host);
    log(`disk: 300 MB image pulled in ${pullMs} ms ${JSON.stringify(afterPull)}`);

    const runsMs = await timed(host, 'for i in $(seq 1 20); do docker run --rm busybox true || exit 1; done; sync');
    const afterRuns = memory(host);
    log(`disk: 20 docker runs in ${runsMs} ms ${JSON.stringify(afterRuns)}`);

    const saveStarted = performance.now();
    const saved = await host.saveState();
    const saveMs = roundMs(performance.now() - saveStarted);
    log(`disk: saved in ${saveMs} ms: ${JSON.stringify(saved)}`);
    await host.shutdown();

    const resumed = createNodeVmHost({ diskDirectory, network: false });
    let resume: Record<string, unknown>;
    try {
      const resumeStarted = performance.now();
      const result = await resumed.boot({ assetBase: process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: 840_000, disk: { store: 'session' }, resume: { kind: 'saved-session' } });
      const readyMs = roundMs(performance.now() - resumeStarted);
      const check = await resumed.exec(fingerprintCommand, { timeoutMs: COMMAND_TIMEOUT_MS });
      resume = {
        startedFrom: result.startedFrom,
        readyMs,
        steps: result.steps,
        fileIntact: check.output === fingerprint,
        memory: memory(resumed),
      };
      log(`disk: resumed in ${readyMs} ms ${JSON.stringify(resume)}`);
    } finally {
      await resumed.shutdown();
    }

    const perMiB = (after: MemoryFigures, mib: number) => Math.round(((after.jsHeapBytes - atPrompt.jsHeapBytes) / (mib * MIB)) * 1000) / 1000;
    return {
      note: 'Node process of the bench (the VM runs in it). jsHeapBytes = V8 heap used + ArrayBuffers; the guest RAM (WebAssembly memory) is in rssBytes only.',
      atPrompt,
      afterWrite1GiB: { ...afterWrite, writeMs, jsHeapMBPerMBWritten: perMiB(afterWrite, 1024) },
      afterPull300MB: { ...afterPull, pullMs, layerBytes: image.layerBytes },
      after20DockerRuns: { ...afterRuns, runsMs },
      save: { ms: saveMs, fileBytes: saved.fileBytes, diskBytes: saved.diskBytes, rawBytes: saved.rawBytes },
      resume,
    };
  },
};
