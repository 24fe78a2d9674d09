// Build step (`npm run images` calls it last; also `npx tsx worker/node/make-snapshot.ts`): cold-boots the
// guest headless until dockerd is ready, quiesces it, saves the v86 state, compresses it with the zstd CLI,
// writes it to public/vm/ under a content-hashed name and records it in manifest.json as "snapshot".
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseManifest, type SnapshotAsset } from '../vm/assets.ts';
import { VmFailure } from '../shared/contract.ts';
import { QUIESCE_COMMAND, WARM_AFTER_QUIESCE_COMMAND, WELCOME_FILE } from '../vm/snapshot/restore.ts';
import { encodeStateFile, readStateHeader } from '../vm/snapshot/state-file.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';

/**
 * What a first visitor most likely runs first, and the bench's first command: its disk reads after a restore
 * become the prefetch list.
 */
const PREFETCH_COMMAND = 'docker run --rm busybox true';

const HELP = `Usage: npx tsx worker/node/make-snapshot.ts [--assets DIR] [--memory MiB] [--zstd-level N] [--force]

Boots the guest in DIR (default ${DEFAULT_ASSET_DIR}) until dockerd is ready, saves its state as the boot
snapshot (snapshot.<sha8>.state, zstd inside a tabdock state file) and records it in DIR/manifest.json.
Then restores it once more and records which root disk chunks a first \`${PREFETCH_COMMAND}\` reads (the
list the VM prefetches after a restore: manifest snapshot.prefetch).
Skipped when the manifest already names a snapshot of the same build with that list, unless --force.
--recompress takes the state from the current snapshot instead of booting (to change the zstd level).`;

/**
 * Measured on a 194 MB state (1 GiB guest) on a loaded 2-core machine: -10 42.6 MB, -15 42.5 MB in 43 s,
 * -17 39.1 MB in 83 s, -19 36.6 MB in about 10 min. The first visit's budget is 40 MB, so -19: it runs once
 * per image build, and `--recompress` re-levels an existing snapshot without booting.
 */
const DEFAULT_ZSTD_LEVEL = 19;
const SNAPSHOT_FILE = /^snapshot\.[0-9a-f]{8}\.state$/;

function log(message: string): void {
  process.stderr.write(`make-snapshot: ${message}\n`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function zstdCompress(raw: Uint8Array, level: number): Uint8Array {
  const result = spawnSync('zstd', ['-q', `-${level}`, '-T0', '-c'], { input: raw, maxBuffer: 4 * 1024 ** 3 });
  if (result.error || result.status !== 0) {
    throw new Error(`zstd failed (${result.error?.message ?? `exit ${result.status}`}): install it with \`apt-get install zstd\`. ${result.stderr?.toString() ?? ''}`);
  }
  return new Uint8Array(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength);
}

interface SavedBoot {
  raw: Uint8Array;
  /** The text the guest printed before its first prompt (state-file.ts StateHeader.welcome). */
  welcome: string | undefined;
  readyMs: number;
  saveMs: number;
}

/** Cold-boots until dockerd is ready, quiesces the guest and returns its v86 state. */
async function bootAndSave(assetDir: string, memoryBytes: number): Promise<SavedBoot> {
  const host = createNodeVmHost();
  host.subscribe((event) => {
    if (event.type === 'stage') log(`${(event.atMs / 1000).toFixed(1)} s ${event.stage}`);
  });
  const bootStartedMs = performance.now();
  await host.boot({ assetBase: assetDir, memoryBytes, resume: { kind: 'kernel' }, bootTimeoutMs: 1_500_000 });
  const readyMs = performance.now() - bootStartedMs;
  // The first exec also waits for the agent, which the restored guest must have running.
  const welcome = await host.exec(`cat ${WELCOME_FILE}`, { timeoutMs: 120_000 });
  if (welcome.exitCode !== 0) throw new Error(`reading the welcome text failed (exit ${welcome.exitCode}): ${welcome.output}`);
  const quiesce = await host.exec(QUIESCE_COMMAND, { timeoutMs: 120_000 });
  if (quiesce.exitCode !== 0) throw new Error(`quiescing the guest failed (exit ${quiesce.exitCode}): ${quiesce.output}`);
  const warm = await host.exec(WARM_AFTER_QUIESCE_COMMAND, { timeoutMs: 120_000 });
  if (warm.exitCode !== 0) throw new Error(`reading back the after-restore programs failed (exit ${warm.exitCode}): ${warm.output}`);
  const emulator = host.probe.emulator;
  if (!emulator) throw new Error('the VM stopped before its state could be saved');
  const saveStartedMs = performance.now();
  const raw = new Uint8Array(await emulator.save_state());
  const saveMs = performance.now() - saveStartedMs;
  await host.shutdown();
  return { raw, welcome: welcome.output, readyMs, saveMs };
}

/** --recompress: the raw state inside the current snapshot (which must belong to this build). */
async function stateOfCurrentSnapshot(assetDir: string, current: SnapshotAsset | undefined, buildId: string): Promise<SavedBoot> {
  if (!current || current.buildId !== buildId) throw new Error('--recompress needs a snapshot of the current build in manifest.json; run without it');
  const file = new Uint8Array(await readFile(path.join(assetDir, current.file)));
  const read = readStateHeader(file);
  if (!read.ok) throw new Error(`${current.file}: ${read.problem.message}`);
  const decoded = spawnSync('zstd', ['-d', '-q', '-c'], { input: file.subarray(read.payloadOffset), maxBuffer: 4 * 1024 ** 3 });
  if (decoded.status !== 0) throw new Error(`zstd -d failed: ${decoded.stderr.toString()}`);
  return { raw: new Uint8Array(decoded.stdout), welcome: read.header.welcome, readyMs: 0, saveMs: 0 };
}

/** Restores the snapshot the manifest names and records the root disk chunks PREFETCH_COMMAND reads. */
async function recordPrefetch(assetDir: string): Promise<NonNullable<SnapshotAsset['prefetch']>> {
  const host = createNodeVmHost();
  try {
    const booted = await host.boot({ assetBase: assetDir, bootTimeoutMs: 1_500_000, tuning: { diskPrefetch: false } });
    if (booted.startedFrom !== 'boot-snapshot') throw new Error(`expected to restore the new boot snapshot, but the VM started from ${booted.startedFrom}`);
    const image = host.probe.disk?.image;
    if (!image) throw new Error('the VM has no root disk image cache to record');
    const stop = image.recordLoads();
    const result = await host.exec(PREFETCH_COMMAND, { timeoutMs: 600_000 });
    const chunks = stop();
    if (result.exitCode !== 0) throw new Error(`\`${PREFETCH_COMMAND}\` failed (exit ${result.exitCode}): ${result.output}`);
    return { chunkBytes: image.options.chunkBytes, chunks, recordedCommand: PREFETCH_COMMAND };
  } finally {
    await host.shutdown();
  }
}

/** Writes manifest.json with this snapshot entry, unless another build replaced the manifest meanwhile. */
async function writeSnapshotEntry(manifestPath: string, buildId: string, entry: SnapshotAsset): Promise<void> {
  // Re-read: the manifest may have been rewritten by a concurrent build while we booted.
  const latest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  if (latest['buildId'] !== buildId) throw new Error(`manifest.json changed to build ${String(latest['buildId'])} while the snapshot was made; run again`);
  await writeFile(`${manifestPath}.tmp`, `${JSON.stringify({ ...latest, snapshot: entry }, null, 2)}\n`);
  await rename(`${manifestPath}.tmp`, manifestPath);
}

async function withPrefetch(assetDir: string, manifestPath: string, buildId: string, entry: SnapshotAsset): Promise<SnapshotAsset> {
  const startedMs = performance.now();
  const prefetch = await recordPrefetch(assetDir);
  const withList = { ...entry, prefetch };
  await writeSnapshotEntry(manifestPath, buildId, withList);
  log(`prefetch list: ${prefetch.chunks.length} chunks of ${prefetch.chunkBytes} bytes read by \`${prefetch.recordedCommand}\` (${Math.round(performance.now() - startedMs)} ms)`);
  return withList;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      assets: { type: 'string' },
      memory: { type: 'string' },
      'zstd-level': { type: 'string' },
      force: { type: 'boolean' },
      recompress: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const assetDir = path.resolve(values.assets ?? DEFAULT_ASSET_DIR);
  const manifestPath = path.join(assetDir, 'manifest.json');
  const manifestJson = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  const manifest = parseManifest(manifestJson, manifestPath);
  const memoryBytes = values.memory ? Number(values.memory) * 1024 * 1024 : manifest.recommendedMemoryBytes;
  const zstdLevel = values['zstd-level'] ? Number(values['zstd-level']) : DEFAULT_ZSTD_LEVEL;
  const current = manifest.snapshot;
  if (
    !values.force &&
    !values.recompress &&
    current &&
    current.buildId === manifest.buildId &&
    current.memoryBytes === memoryBytes &&
    (await exists(path.join(assetDir, current.file)))
  ) {
    if (!current.prefetch) await withPrefetch(assetDir, manifestPath, manifest.buildId, current);
    log(`up to date: ${current.file} (build ${manifest.buildId})`);
    return;
  }

  const stateMemoryBytes = values.recompress && current ? current.memoryBytes : memoryBytes;
  const { raw, welcome, readyMs, saveMs } = values.recompress ? await stateOfCurrentSnapshot(assetDir, current, manifest.buildId) : await bootAndSave(assetDir, memoryBytes);

  const compressStartedMs = performance.now();
  const payload = zstdCompress(raw, zstdLevel);
  const compressMs = performance.now() - compressStartedMs;
  const file = await encodeStateFile(
    {
      kind: 'boot-snapshot',
      buildId: manifest.buildId,
      rootDiskSha256: manifest.files.rootDisk.sha256,
      memoryBytes: stateMemoryBytes,
      createdAt: new Date().toISOString(),
      compression: 'zstd',
      rawBytes: raw.byteLength,
      ...(welcome ? { welcome } : {}),
    },
    payload,
  );
  const sha256 = createHash('sha256').update(file).digest('hex');
  const fileName = `snapshot.${sha256.slice(0, 8)}.state`;
  await writeFile(path.join(assetDir, fileName), file);
  const entry: SnapshotAsset = {
    file: fileName,
    bytes: file.byteLength,
    sha256,
    buildId: manifest.buildId,
    memoryBytes: stateMemoryBytes,
    rawBytes: raw.byteLength,
  };
  await writeSnapshotEntry(manifestPath, manifest.buildId, entry);
  for (const name of await readdir(assetDir)) {
    if (SNAPSHOT_FILE.test(name) && name !== fileName) await rm(path.join(assetDir, name));
  }
  const { prefetch } = await withPrefetch(assetDir, manifestPath, manifest.buildId, entry);
  const figures = {
    file: fileName,
    memoryBytes: stateMemoryBytes,
    coldBootReadyMs: Math.round(readyMs),
    saveStateMs: Math.round(saveMs),
    rawBytes: raw.byteLength,
    zstdLevel,
    zstdMs: Math.round(compressMs),
    compressedBytes: file.byteLength,
    prefetchChunks: prefetch?.chunks.length,
  };
  log(`wrote ${fileName}: ${JSON.stringify(figures)}`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const detail = error instanceof VmFailure ? `${error.message}\n${error.detail ?? ''}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`make-snapshot: failed: ${detail}\n`);
    process.exit(1);
  },
);
