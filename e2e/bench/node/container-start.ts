// Bench section "containerStart": where a `docker run --rm busybox true` spends its time, in Node. A fresh VM
// from the boot snapshot runs the same sequence as the Chromium bench (e2e/bench/browser/browser.ts): the first run
// after the restore, five warm runs, one warm run traced by process (tabdock-proctrace), ten runs in a row,
// the guest CPU benchmark (also run on the host for the slowdown), then a second fresh VM whose first run is
// traced (the cold case: an empty JIT and page cache). The emulator settings come from the environment
// (node-platform.ts tuningFromEnv), so the same section measures each JIT setting.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR, tuningFromEnv } from '../../../worker/node/node-platform.ts';
import { guestCpuLine, guestCpuTasks, parseGuestCpuOutput } from './guest-cpu.ts';
import { parseProcTrace, procTraceCommand, type ProcessTrace } from './proctrace.ts';
import { median, roundMs, type BenchSection } from './section.ts';

const RUN = 'docker run --rm busybox true';
const TIMEOUT_MS = 600_000;
const WARM_RUNS = 5;
const IN_A_ROW = 10;

async function timed(host: VmHost, command: string): Promise<{ ms: number; output: string }> {
  const startedMs = performance.now();
  const result = await host.exec(command, { timeoutMs: TIMEOUT_MS });
  const ms = roundMs(performance.now() - startedMs);
  if (result.exitCode !== 0) throw new Error(`\`${command}\` failed (${result.exitCode}): ${result.output.slice(-2000)}`);
  return { ms, output: result.output };
}

async function traced(host: VmHost, file: string): Promise<{ ms: number; trace: ProcessTrace }> {
  const { ms } = await timed(host, procTraceCommand(RUN, file));
  const { output } = await timed(host, `cat ${file} && rm -f ${file}`);
  return { ms, trace: parseProcTrace(output) };
}

async function freshVm(log: (message: string) => void): Promise<VmHost> {
  const host = createNodeVmHost();
  const result = await host.boot({ assetBase: process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: 1_500_000, tuning: tuningFromEnv() });
  log(`containerStart: VM from the ${result.startedFrom}, ready after ${result.timeline.ready} ms`);
  return host;
}

/** The guest CPU tasks in the guest, and the same lines on this host with bash for the slowdown ratio. */
export async function guestCpuFigures(runGuest: (line: string) => Promise<string>): Promise<Record<string, unknown>> {
  const hostTar = path.join(process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, 'test-images', 'preload.tar');
  const hostTasks = guestCpuTasks(hostTar);
  const figures: Record<string, unknown> = {};
  for (const [index, task] of guestCpuTasks().entries()) {
    const marker = `cpu-${task.name}`;
    const guestUs = parseGuestCpuOutput(await runGuest(guestCpuLine(task, marker)), marker);
    const hostOutput = execFileSync('bash', ['-c', guestCpuLine(hostTasks[index]!, marker)], { encoding: 'utf8' });
    const hostUs = parseGuestCpuOutput(hostOutput, marker);
    figures[task.name] = {
      what: task.description,
      guestMs: Math.round(guestUs / 1000),
      hostMs: Math.round(hostUs / 100) / 10,
      slowdown: Math.round(guestUs / hostUs),
    };
  }
  return figures;
}

export const containerStartSection: BenchSection = {
  name: 'containerStart',
  ownVm: true,
  async run({ log }) {
    // One VM at a time: the second starts only after the first is shut down.
    const host = await freshVm(log);
    let warm;
    try {
      const first = await timed(host, RUN);
      log(`containerStart: first run after the restore ${first.ms} ms`);
      const warmRunsMs: number[] = [];
      for (let i = 0; i < WARM_RUNS; i++) warmRunsMs.push((await timed(host, RUN)).ms);
      log(`containerStart: warm runs ${warmRunsMs.join(', ')} ms`);
      const tracedWarm = await traced(host, '/tmp/proctrace-warm.txt');
      const inARow = await timed(host, `for i in $(seq ${IN_A_ROW}); do ${RUN} || exit 1; done`);
      log(`containerStart: ${IN_A_ROW} in a row ${inARow.ms} ms`);
      const guestCpu = await guestCpuFigures(async (line) => (await timed(host, line)).output);
      log(`containerStart: guest CPU ${JSON.stringify(guestCpu)}`);
      warm = {
        tuning: host.probe.tuning,
        firstRunMs: first.ms,
        warmRunsMs,
        warmMedianMs: median(warmRunsMs),
        tenInARowMs: inARow.ms,
        guestCpu,
        tracedWarm: { ms: tracedWarm.ms, ...tracedWarm.trace },
        jitAfterWarmSequence: host.probe.jitStats(),
      };
    } finally {
      await host.shutdown();
    }
    const cold = await freshVm(log);
    try {
      const tracedFirst = await traced(cold, '/tmp/proctrace-cold.txt');
      log(`containerStart: traced first run after a restore ${tracedFirst.ms} ms`);
      return { command: RUN, ...warm, tracedFirst: { ms: tracedFirst.ms, ...tracedFirst.trace }, jitAfterTracedFirst: cold.probe.jitStats() };
    } finally {
      await cold.shutdown();
    }
  },
};
