// Part of bench section `pull` (issue #22 item 2): each guest setting tried for dockerd's pull speed, as
// `docker pull nginx` with the setting against the guest as built, in the same VM. A setting is applied by guest
// commands and taken back after its pull; dockerd is restarted with the command line and environment it has
// (read from /proc), so the bench needs no image of its own. TABDOCK_BENCH_PULL_LEVERS=0 skips this part.
import type { BenchRegistry } from './pull-images.ts';
import { NGINX } from './pull-images.ts';
import { roundMs, type BenchContext } from './section.ts';

export interface PullLever {
  name: string;
  what: string;
  /** Guest commands that set it, and that take it back. */
  apply: string;
  revert: string;
}

const COMMAND_TIMEOUT_MS = 900_000;

/**
 * Restarts dockerd as it runs now (its /proc cmdline and environment), with `extraEnv` added and, when given,
 * another /etc/docker/daemon.json; waits until it answers again.
 */
export function restartDockerd(extraEnv = '', daemonJsonEdit = ''): string {
  return [
    'pid=$(pidof dockerd)',
    "tr '\\0' '\\n' </proc/$pid/environ >/run/tabdock-bench-dockerd.env",
    'cp /proc/$pid/cmdline /run/tabdock-bench-dockerd.cmdline',
    'kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.2; done',
    ...(daemonJsonEdit ? [daemonJsonEdit] : []),
    `(setsid env -i $(cat /run/tabdock-bench-dockerd.env) ${extraEnv} $(tr '\\0' ' ' </run/tabdock-bench-dockerd.cmdline) </dev/null >>/var/log/dockerd.log 2>&1 &)`,
    'for i in $(seq 1 1200); do docker version >/dev/null 2>&1 && break; sleep 0.2; done',
    'docker version >/dev/null',
  ].join(' && ');
}

// Not a lever here: the containerd image store ("features": {"containerd-snapshotter": true}). Its resolver
// asks every registry over HTTPS first, through dockerd's proxy (the shim's CONNECT port), and the shim's refusal
// is not the TLS error after which it retries plain HTTP: no pull through the shim works with it
// (vm-images/README.md, "Pulls").

export const PULL_LEVERS: readonly PullLever[] = [
  {
    name: 'ext4CommitAndNoBarrier',
    what: 'root ext4 remounted with commit=60,barrier=0 (the guest disk lives in memory; its durability is the session save)',
    apply: 'mount -o remount,commit=60,barrier=0 /',
    revert: 'mount -o remount,commit=5,barrier=1 /',
  },
  {
    name: 'dockerdGcOff',
    what: 'dockerd with GOGC=off GOMEMLIMIT=300MiB instead of GOGC=200',
    apply: restartDockerd('GOGC=off GOMEMLIMIT=300MiB'),
    revert: restartDockerd('GOGC=200'),
  },
];

async function must(context: BenchContext, command: string): Promise<string> {
  const result = await context.host.exec(command, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`\`${command.slice(0, 160)}\` failed (${result.exitCode}): ${result.output.slice(-1000)}`);
  return result.output;
}

async function timedPull(context: BenchContext, reference: string): Promise<number> {
  const started = performance.now();
  await must(context, `docker pull -q ${reference} >/dev/null`);
  const ms = roundMs(performance.now() - started);
  await must(context, `docker rmi ${reference} >/dev/null`);
  return ms;
}

/** The guest as built, then each lever, then the guest as built again (the emulator's JIT warms up meanwhile). */
export async function measureLevers(context: BenchContext, _bench: BenchRegistry): Promise<Record<string, unknown>> {
  if (process.env.TABDOCK_BENCH_PULL_LEVERS === '0') return { skipped: 'TABDOCK_BENCH_PULL_LEVERS=0' };
  const reference = NGINX.reference;
  const baselineBeforeMs = await timedPull(context, reference);
  const levers: Record<string, unknown> = {};
  for (const lever of PULL_LEVERS) {
    try {
      await must(context, lever.apply);
      try {
        levers[lever.name] = { what: lever.what, pullMs: await timedPull(context, reference) };
      } finally {
        await must(context, lever.revert);
      }
    } catch (error) {
      levers[lever.name] = { what: lever.what, error: error instanceof Error ? error.message : String(error) };
    }
    context.log(`pull: lever ${lever.name}: ${JSON.stringify(levers[lever.name])}`);
  }
  const baselineAfterMs = await timedPull(context, reference);
  context.log(`pull: levers against ${reference} as built: ${baselineBeforeMs} ms before, ${baselineAfterMs} ms after`);
  return { image: reference, baselineBeforeMs, baselineAfterMs, levers };
}
