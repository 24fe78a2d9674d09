// `npm run bench`: boots the guest once in Node, records the boot timeline, runs every section in
// bench/sections.ts, and writes the figures with machine info to stdout and bench-results/bench.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VmFailure } from '../../worker/shared/contract.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR, tuningFromEnv } from '../../worker/node/node-platform.ts';
import { BENCH_SECTIONS } from './sections.ts';
import type { BenchContext, PreparedSection } from './node/section.ts';
import type { NetworkConfig } from '../../worker/vm/net/index.ts';

const OUTPUT_FILE = path.join('bench-results', 'bench.json');

function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
  };
}

/** One shim configuration from every section's needs (host rewrites and ports add up; the last fetch wins). */
function mergeNetwork(configs: readonly NetworkConfig[]): NetworkConfig {
  const merged: NetworkConfig = {};
  for (const config of configs) {
    Object.assign(merged, config, {
      hostRewrites: { ...merged.hostRewrites, ...config.hostRewrites },
      extraPorts: [...(merged.extraPorts ?? []), ...(config.extraPorts ?? [])],
    });
  }
  return merged;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  const selected = BENCH_SECTIONS.filter((section) => only.length === 0 || only.includes(section.name) || (section.group !== undefined && only.includes(section.group)));
  const prepared: PreparedSection[] = [];
  for (const section of selected) if (section.prepare) prepared.push(await section.prepare(log));
  const results: Record<string, unknown> = { createdAt: new Date().toISOString(), machine: machineInfo() };
  const runSection = async (section: (typeof selected)[number], context: BenchContext) => {
    log(`section ${section.name}`);
    const started = performance.now();
    try {
      results[section.name] = { ...(await section.run(context)), sectionMs: Math.round(performance.now() - started) };
    } catch (error) {
      // One failing section must not lose the others' figures; the failure is recorded in its place.
      results[section.name] = { error: error instanceof Error ? error.message : String(error) };
      log(`section ${section.name} failed: ${String(error)}`);
    }
  };
  // Sections that boot their own VMs run first, while no other VM runs: two VMs halve each other's speed.
  const noSharedVm: BenchContext = {
    get host(): never {
      throw new Error('this section declared ownVm and must boot its own VM');
    },
    get diskDirectory(): never {
      throw new Error('this section declared ownVm and has no shared VM disk');
    },
    processUptimeMs: () => performance.now(),
    log,
  };
  for (const section of selected.filter((s) => s.ownVm)) await runSection(section, noSharedVm);
  let diskDirectory: string | undefined;
  const shared = selected.filter((s) => !s.ownVm);
  if (shared.length > 0) {
    const mtu = process.env.TABDOCK_BENCH_MTU === undefined ? undefined : Number(process.env.TABDOCK_BENCH_MTU);
    const egressDialer = prepared.find((section) => section.egressDialer)?.egressDialer;
    // The VM owns a saved session there (disk: 'session'), so the disk section can save and resume it.
    diskDirectory = await mkdtemp(path.join(os.tmpdir(), 'tabdock-bench-store-'));
    const host = createNodeVmHost({
      diskDirectory,
      network: mergeNetwork(prepared.map((section) => section.network ?? {})),
      ...(egressDialer ? { egress: { dialer: egressDialer } } : {}),
      // The boot snapshot's guest NIC has the MTU it was made with, so another MTU needs a cold boot.
      ...(mtu === undefined ? {} : { v86Options: { net_device: { type: 'virtio', relay_url: 'fetch', mtu } } }),
    });
    host.subscribe((event) => {
      if (event.type === 'stage') log(`${(event.atMs / 1000).toFixed(1)} s ${event.stage}`);
    });
    const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
    const bootStartedAtProcessMs = performance.now();
    const boot = await host.boot({ assetBase, bootTimeoutMs: 840_000, tuning: tuningFromEnv(), disk: { store: 'session' }, ...(mtu === undefined ? {} : { resume: { kind: 'kernel' as const } }) });
    results['boot'] = {
      bootCalledAtProcessMs: Math.round(bootStartedAtProcessMs),
      stages: host.probe.timeline.map((timing) => ({ ...timing, atProcessMs: Math.round(timing.atMs + bootStartedAtProcessMs) })),
      readyMs: boot.timeline.ready,
      tuning: host.probe.tuning,
      guestNotes: host.probe.notes,
      ...(mtu === undefined ? {} : { netDeviceMtu: mtu }),
    };
    const context: BenchContext = { host, diskDirectory, processUptimeMs: () => performance.now(), log };
    for (const section of shared) await runSection(section, context);
    results['jit'] = host.probe.jitStats();
    await host.shutdown();
  }
  for (const section of prepared) await section.dispose();
  if (diskDirectory) await rm(diskDirectory, { recursive: true, force: true });
  const json = JSON.stringify(results, null, 2);
  await mkdir(path.dirname(OUTPUT_FILE), { recursive: true });
  await writeFile(OUTPUT_FILE, `${json}\n`);
  process.stdout.write(`${json}\n`);
  log(`wrote ${OUTPUT_FILE}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const detail = error instanceof VmFailure ? `${error.message}\n${error.detail ?? ''}` : String(error);
    process.stderr.write(`bench: failed: ${detail}\n`);
    process.exit(1);
  },
);
