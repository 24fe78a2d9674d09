// Bench section "snapshot": time to a usable prompt from the boot snapshot versus a cold boot, bytes loaded
// before it, the snapshot's size raw and compressed, and decode times (v86's own wasm zstd inside a restore,
// the zstd CLI, and gzip through the native DecompressionStream as the library-free alternative).
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseManifest, type Manifest } from '../../../worker/vm/assets.ts';
import type { BootOptions } from '../../../worker/shared/contract.ts';
import { readStateHeader } from '../../../worker/vm/snapshot/state-file.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from '../../../worker/node/node-platform.ts';
import { roundMs, type BenchContext, type BenchSection } from './section.ts';

async function timeToPrompt(assetBase: string, options: Pick<BootOptions, 'resume'>, log: (m: string) => void) {
  const host = createNodeVmHost();
  const startedMs = performance.now();
  const result = await host.boot({ assetBase, bootTimeoutMs: 1_500_000, ...options });
  const readyMs = performance.now() - startedMs;
  // "Prompt" = the guest answers a command; the first docker run shows the cold-JIT cost after a restore.
  await host.exec('true', { timeoutMs: 120_000 });
  const firstExecMs = performance.now() - startedMs;
  const runStartedMs = performance.now();
  const run = await host.exec('docker run --rm busybox echo ok', { timeoutMs: 600_000 });
  const firstDockerRunMs = performance.now() - runStartedMs;
  await host.shutdown();
  log(`${result.startedFrom}: ready ${(readyMs / 1000).toFixed(1)} s, first exec ${(firstExecMs / 1000).toFixed(1)} s`);
  return {
    startedFrom: result.startedFrom,
    readyMs: roundMs(readyMs),
    /** Where the restore's time went (ms since boot() was called; worker/shared/contract.ts StartStep). */
    steps: result.steps,
    firstExecMs: roundMs(firstExecMs),
    firstDockerRunMs: roundMs(firstDockerRunMs),
    firstDockerRunExit: run.exitCode,
  };
}

function decodeFigures(file: Uint8Array) {
  const read = readStateHeader(file);
  if (!read.ok) throw new Error(`snapshot unreadable: ${read.problem.message}`);
  const payload = file.subarray(read.payloadOffset);
  const cliStartedMs = performance.now();
  const decoded = spawnSync('zstd', ['-d', '-c', '-q'], { input: payload, maxBuffer: 4 * 1024 ** 3 });
  const zstdCliDecodeMs = performance.now() - cliStartedMs;
  if (decoded.status !== 0) throw new Error(`zstd -d failed: ${decoded.stderr.toString()}`);
  return { header: read.header, raw: new Uint8Array(decoded.stdout), zstdCliDecodeMs };
}

async function gzipFigures(raw: Uint8Array) {
  const gzipped = gzipSync(raw, { level: 6 });
  const startedMs = performance.now();
  const stream = new Blob([gzipped]).stream().pipeThrough(new DecompressionStream('gzip'));
  const decodedBytes = (await new Response(stream).arrayBuffer()).byteLength;
  return { gzip6Bytes: gzipped.byteLength, decompressionStreamMs: roundMs(performance.now() - startedMs), decodedBytes };
}

function bootFileBytes(manifest: Manifest, names: readonly (keyof Manifest['files'])[]): number {
  return names.reduce((sum, name) => sum + manifest.files[name].bytes, 0);
}

export const snapshotSection: BenchSection = {
  name: 'snapshot',
  ownVm: true,
  async run({ log }: BenchContext) {
    const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
    const manifestPath = path.join(assetBase, 'manifest.json');
    const manifest = parseManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
    const entry = manifest.snapshot;
    if (!entry) throw new Error('the image has no boot snapshot; run `npx tsx worker/node/make-snapshot.ts`');
    const { header, raw, zstdCliDecodeMs } = decodeFigures(new Uint8Array(await readFile(path.join(assetBase, entry.file))));
    const restore = await timeToPrompt(assetBase, {}, log);
    const cold = process.env.TABDOCK_BENCH_SKIP_COLD ? undefined : await timeToPrompt(assetBase, { resume: { kind: 'kernel' } }, log);
    return {
      memoryBytes: header.memoryBytes,
      rawBytes: header.rawBytes,
      zstdBytes: header.payloadBytes,
      fileBytes: entry.bytes,
      zstdCliDecodeMs: roundMs(zstdCliDecodeMs),
      ...(await gzipFigures(raw)),
      restore,
      cold: cold ?? 'skipped (TABDOCK_BENCH_SKIP_COLD)',
      // Whole files loaded before the prompt; the root disk is read lazily on both paths and not counted here.
      bytesBeforePrompt: {
        restore: bootFileBytes(manifest, ['bios', 'vgaBios']) + entry.bytes,
        cold: bootFileBytes(manifest, ['bios', 'vgaBios', 'kernel', 'initrd']),
      },
    };
  },
};
