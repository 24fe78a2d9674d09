// Part of bench section `pull`: `docker pull` of a ~30 MB linux/386 image through the registry shim, against raw
// fetches of the same layer blob in the same run: by Node straight from the registry (the host's speed) and by the
// guest's bash over the same shim without dockerd (the virtual NIC's speed). Also the process's peak memory while
// the pull runs, and unpigz against Go's gzip.
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtendedImage } from '../../../worker/testing/oci-layout.ts';
import { startRegistry, type TestRegistry } from '../../../worker/testing/registry.ts';
import { parseManifest } from '../../../worker/vm/assets.ts';
import { DEFAULT_ASSET_DIR } from '../../../worker/node/node-platform.ts';
import { guestCpuDelta, guestCpuSnapshotCommand, profileHostCpu } from './cpu-split.ts';
import { pushBusyboxWithLayer } from './busybox-layers.ts';
import { roundMs, type BenchContext, type PreparedSection } from './section.ts';

const PAYLOAD_BYTES = 30 * 1024 * 1024;
const REGISTRY_NAME = 'bench.test';
const REPOSITORY = 'bench/big';
const TAG = 'v1';
/** A layer of real Debian binaries (compressible, as layers are), for gzip -d by unpigz against Go's gzip. */
const PACKED_REPOSITORY = 'bench/packed';
const PACKED_BYTES = 24 * 1024 * 1024;
const PULL_TIMEOUT_MS = 900_000;

/** One blob body the shim fetched upstream: from the request to the last byte handed on to the guest. */
interface BlobTransfer {
  digest: string;
  startedMs: number;
  endedMs?: number;
  bytes: number;
}

let registry: TestRegistry | undefined;
let image: ExtendedImage | undefined;
let packed: ExtendedImage | undefined;
let workDir: string | undefined;
const transfers: BlobTransfer[] = [];

/**
 * The shim's fetch, timing blob bodies. The shim reads upstream only as fast as the guest ACKs (64 KiB slices),
 * so the end of a body is when the guest has taken it: the transfer part of the pull.
 */
async function timedFetch(request: Request): Promise<Response> {
  const digest = /\/blobs\/(sha256:[a-f0-9]{64})/.exec(new URL(request.url).pathname)?.[1];
  const startedMs = performance.now();
  const response = await fetch(request);
  if (digest === undefined || request.method !== 'GET' || response.body === null) return response;
  const transfer: BlobTransfer = { digest, startedMs, bytes: 0 };
  transfers.push(transfer);
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        transfer.bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush() {
        transfer.endedMs = performance.now();
      },
    }),
  );
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function layerTransferMs(digest: string, since: number): { ms: number; bytes: number; requests: number } {
  const done = transfers.filter((t) => t.digest === digest && t.startedMs >= since && t.endedMs !== undefined);
  if (done.length === 0) throw new Error(`the shim never finished sending ${digest}; see the pull output`);
  const first = Math.min(...done.map((t) => t.startedMs));
  const last = Math.max(...done.map((t) => t.endedMs ?? 0));
  return { ms: roundMs(last - first), bytes: done.reduce((sum, t) => sum + t.bytes, 0), requests: done.length };
}

/** Starts the registry and pushes the transfer and pigz images; the shim settings that reach them. */
export async function prepareTransfer(log: (message: string) => void): Promise<PreparedSection> {
  workDir = await mkdtemp(join(tmpdir(), 'tabdock-bench-pull-'));
  registry = await startRegistry();
  // Incompressible bytes, so the gzip layer is about PAYLOAD_BYTES on the wire; busybox's layers are
  // preloaded in the guest, so only the new layer travels.
  image = await pushBusyboxWithLayer({ layoutDir: join(workDir, 'layout'), tag: TAG, registryHost: registry.host, repository: REPOSITORY, files: { 'random.bin': randomBytes(PAYLOAD_BYTES) } });
  log(`pull: pushed ${REGISTRY_NAME}/${REPOSITORY}:${TAG}, new layer ${image.layerBytes} bytes`);
  packed = await pushBusyboxWithLayer({
    layoutDir: join(workDir, 'packed'),
    tag: TAG,
    registryHost: registry.host,
    repository: PACKED_REPOSITORY,
    files: { 'debian.bin': await rootDiskSlice(PACKED_BYTES) },
  });
  log(`pull: pushed ${REGISTRY_NAME}/${PACKED_REPOSITORY}:${TAG}, ${PACKED_BYTES} bytes of the root disk as a ${packed.layerBytes}-byte gzip layer`);
  return {
    network: {
      hostRewrites: { [REGISTRY_NAME]: `http://${registry.host}` },
      fetch: timedFetch,
      // TABDOCK_BENCH_SEND_WINDOW=0 measures v86's own one-segment-per-ACK sending (v86-send-window.ts).
      ...(process.env.TABDOCK_BENCH_SEND_WINDOW === undefined ? {} : { sendWindowBytes: Number(process.env.TABDOCK_BENCH_SEND_WINDOW) }),
    },
    async dispose() {
      await registry?.stop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    },
  };
}

export async function measureTransfer({ host, log }: BenchContext): Promise<Record<string, unknown>> {
  if (!registry || !image) throw new Error('pull section was not prepared');
  const { layerDigest } = image;
  const blobPath = `/v2/${REPOSITORY}/blobs/${layerDigest}`;

  // TABDOCK_BENCH_QUICKACK=1: the guest ACKs every segment at once (ip-route(8) `quickack`). v86's TCP sends one
  // segment per ACK, so the guest's delayed ACKs would pace the whole transfer.
  let guestRoutes: string | undefined;
  if (process.env.TABDOCK_BENCH_QUICKACK === '1') {
    const routes = await host.exec(
      // `linkdown` (docker0 without containers) is state ip prints but does not take back.
      "ip route show | sed 's/ linkdown//' | while read -r route; do ip route change $route quickack 1 || exit 1; done && ip route show",
      { timeoutMs: 60_000 },
    );
    if (routes.exitCode !== 0) throw new Error(`could not set quickack on the guest's routes: ${routes.output}`);
    guestRoutes = routes.output.trim();
  }
  // The guest NIC's MTU sets the TCP segment size of every transfer below (TABDOCK_BENCH_MTU changes it).
  const guestNicMtu = (await host.exec('cat /sys/class/net/e*/mtu', { timeoutMs: 60_000 })).output.trim();

  // 1. The host's own speed: Node fetching the blob straight from the registry.
  const hostStarted = performance.now();
  const hostBytes = (await (await fetch(`http://${registry.host}${blobPath}`)).arrayBuffer()).byteLength;
  const hostFetchMs = roundMs(performance.now() - hostStarted);

  // 2. The guest fetching the same blob over the shim without dockerd (bash's /dev/tcp): once into wc, once
  // doing what dockerd does with a layer as it arrives (sha256 and a file on disk), to tell the shim's cost
  // from the guest CPU's.
  const request = `printf 'GET ${blobPath} HTTP/1.1\\r\\nHost: ${REGISTRY_NAME}\\r\\nConnection: close\\r\\n\\r\\n' >&3`;
  const guestFetch = async (sink: string) => {
    const since = performance.now();
    const raw = await host.exec(`exec 3<>/dev/tcp/${REGISTRY_NAME}/80 && ${request} && cat <&3 | ${sink}`, { timeoutMs: PULL_TIMEOUT_MS });
    if (raw.exitCode !== 0) throw new Error(`raw guest fetch failed (${raw.exitCode}): ${raw.output}`);
    return layerTransferMs(layerDigest, since);
  };
  const guestRaw = await guestFetch('wc -c');
  log(`pull: guest raw fetch ${guestRaw.bytes} bytes in ${guestRaw.ms} ms`);
  const scratch = '/var/lib/docker/tmp/tabdock-bench-blob';
  const guestHashed = await guestFetch(`tee ${scratch} | sha256sum && rm -f ${scratch}`);
  log(`pull: guest fetch + sha256 + disk ${guestHashed.bytes} bytes in ${guestHashed.ms} ms`);

  // 3. docker pull, sampling this process's memory (the VM runs in it) while it runs.
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakArrayBuffers = baseline.arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
  }, 50);
  // Where the CPU went during the pull: the guest's (all of it, and dockerd's) and this process's (the
  // emulator versus v86's JavaScript versus the shim and TCP glue), to show what bounds the transfer.
  const guestCpu = guestCpuSnapshotCommand('$(pidof dockerd)');
  const guestBefore = (await host.exec(guestCpu, { timeoutMs: 60_000 })).output;
  const pullSince = performance.now();
  let pullOutput: string;
  let hostCpu: Awaited<ReturnType<typeof profileHostCpu>>['split'];
  try {
    const profiled = await profileHostCpu(() => host.exec(`docker pull ${REGISTRY_NAME}/${REPOSITORY}:${TAG} 2>&1`, { timeoutMs: PULL_TIMEOUT_MS }));
    const pull = profiled.result;
    hostCpu = profiled.split;
    pullOutput = pull.output;
    if (pull.exitCode !== 0) throw new Error(`docker pull failed (${pull.exitCode}): ${pull.output}`);
  } finally {
    clearInterval(sampler);
  }
  const pullMs = roundMs(performance.now() - pullSince);
  const pullTransfer = layerTransferMs(image.layerDigest, pullSince);
  log(`pull: docker pull ${pullMs} ms, layer transfer ${pullTransfer.ms} ms`);
  const guestCpuDuringPull = guestCpuDelta(guestBefore, (await host.exec(guestCpu, { timeoutMs: 60_000 })).output);
  await host.exec(`docker rmi ${REGISTRY_NAME}/${REPOSITORY}:${TAG} >/dev/null`, { timeoutMs: 120_000 });

  // 4. dockerd unpacks gzip layers with unpigz when it finds it in PATH, else with Go's gzip (moby
  // pkg/archive gzDecompress looks it up on every layer). The same compressible layer, pulled both ways.
  const pigz = await pigzFigures(host, log);

  return {
    image: `${REGISTRY_NAME}/${REPOSITORY}:${TAG} (linux/386)`,
    layerBytes: image.layerBytes,
    guestNicMtu,
    sendWindowBytes: process.env.TABDOCK_BENCH_SEND_WINDOW ?? 'default',
    ...(guestRoutes === undefined ? {} : { guestRoutes }),
    hostFetchMs,
    hostFetchBytes: hostBytes,
    guestRawFetchMs: guestRaw.ms,
    guestRawFetchMBps: round2(guestRaw.bytes / 1e6 / (guestRaw.ms / 1000)),
    guestHashedFetchMs: guestHashed.ms,
    pullMs,
    pullTransferMs: pullTransfer.ms,
    /** More than one means dockerd resumed the layer with Range requests. */
    pullLayerRequests: pullTransfer.requests,
    pullTransferMBps: round2(pullTransfer.bytes / 1e6 / (pullTransfer.ms / 1000)),
    /** The goal (issue #4): <= 1.3, i.e. the shim adds little to what the guest's network can do. */
    transferRatioVsGuestRaw: round2(pullTransfer.ms / guestRaw.ms),
    /** dockerd hashes and stores each layer as it downloads; this ratio leaves that guest work out. */
    transferRatioVsGuestHashed: round2(pullTransfer.ms / guestHashed.ms),
    transferRatioVsHostFetch: round2(pullTransfer.ms / Math.max(1, hostFetchMs)),
    /**
     * The guest CPU during the whole pull (seconds, from /proc/stat; dockerd's from /proc/PID/stat). A busy share
     * near 100% means the guest's own work, not the network, sets the pace.
     */
    guestCpuDuringPull,
    /** This process during the pull (V8 sampling profile): the emulator running the guest versus the shim. */
    hostCpuDuringPull: hostCpu,
    /** The VM runs in this process; disk blocks the guest writes (the layer, then its files) stay in memory. */
    memory: {
      baselineRssBytes: baseline.rss,
      peakRssBytes: peakRss,
      peakRssGrowthBytes: peakRss - baseline.rss,
      peakArrayBuffersBytes: peakArrayBuffers,
    },
    pullOutputTail: pullOutput.trim().split('\n').slice(-2),
    pigz,
  };
}

/** Bytes from the middle of the built root disk: Debian's binaries and libraries, compressible as layers are. */
async function rootDiskSlice(bytes: number): Promise<Buffer> {
  const assetDir = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
  const manifest = parseManifest(JSON.parse(await readFile(join(assetDir, 'manifest.json'), 'utf8')), assetDir);
  const file = await open(join(assetDir, manifest.files.rootDisk.file));
  try {
    const slice = Buffer.alloc(bytes);
    await file.read(slice, 0, bytes, 256 * 1024 * 1024);
    return slice;
  } finally {
    await file.close();
  }
}

async function pigzFigures(host: BenchContext['host'], log: (message: string) => void): Promise<Record<string, unknown>> {
  if (!packed) throw new Error('pull section was not prepared');
  const ref = `${REGISTRY_NAME}/${PACKED_REPOSITORY}:${TAG}`;
  const timedPull = async (): Promise<number> => {
    const started = performance.now();
    const result = await host.exec(`docker pull ${ref} >/dev/null 2>&1 && docker rmi ${ref} >/dev/null`, { timeoutMs: PULL_TIMEOUT_MS });
    if (result.exitCode !== 0) throw new Error(`docker pull ${ref} failed (${result.exitCode}): ${result.output}`);
    return roundMs(performance.now() - started);
  };
  const hidden = '/usr/bin/unpigz.tabdock-bench';
  // unpigz, Go's gzip, unpigz again: the first pull of a kind also warms the emulator's JIT for the next.
  const withUnpigzMs = [await timedPull()];
  const moved = await host.exec(`mv /usr/bin/unpigz ${hidden}`, { timeoutMs: 60_000 });
  if (moved.exitCode !== 0) throw new Error(`could not hide unpigz: ${moved.output}`);
  let withGoGzipMs: number;
  try {
    withGoGzipMs = await timedPull();
  } finally {
    await host.exec(`mv ${hidden} /usr/bin/unpigz`, { timeoutMs: 60_000 });
  }
  withUnpigzMs.push(await timedPull());
  log(`pull: ${ref} with unpigz ${withUnpigzMs.join(' and ')} ms, with Go's gzip ${withGoGzipMs} ms`);
  return { image: ref, layerBytes: packed.layerBytes, unpackedBytes: PACKED_BYTES, withUnpigzMs, withGoGzipMs };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
