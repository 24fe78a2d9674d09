// Where the CPU goes while the guest works, on both sides of the emulator: the host process's time split
// between the emulator (v86's wasm and the code its JIT made), v86's JavaScript, tabdock's own code (the shim,
// the TCP glue) and idle, from a V8 sampling profile; and the guest's, from /proc/stat and one process's
// /proc/PID/stat read before and after. The pull bench uses both to show what bounds a pull's transfer.
import { Session } from 'node:inspector/promises';

export type HostCpuClass = 'emulator' | 'v86Js' | 'tabdock' | 'idle' | 'other';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: readonly ProfileNode[];
  samples?: readonly number[];
  timeDeltas?: readonly number[];
}

/** The class of one profile frame, by the script it runs in. */
export function classifyFrame(frame: { functionName: string; url: string }): HostCpuClass {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  // v86.wasm itself, and the modules v86's JIT compiles from guest code (wasm://wasm/<hash> without a name).
  if (url.startsWith('wasm://') || url.includes('v86.wasm')) return 'emulator';
  if (url.includes('/v86/build/') || url.includes('libv86')) return 'v86Js';
  // The benches (e2e/bench/) run in the same process as the VM host: their code is ours too.
  if (!url.includes('/node_modules/') && ['/worker/', '/src/', '/e2e/'].some((part) => url.includes(part))) return 'tabdock';
  return 'other';
}

/** Self time per class in milliseconds, and each class's share of the total in percent. */
export function splitProfile(profile: CpuProfile): { ms: Record<HostCpuClass, number>; percent: Record<HostCpuClass, number> } {
  const classOf = new Map(profile.nodes.map((node) => [node.id, classifyFrame(node.callFrame)]));
  const micros: Record<HostCpuClass, number> = { emulator: 0, v86Js: 0, tabdock: 0, idle: 0, other: 0 };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const cls = classOf.get(samples[i]!) ?? 'other';
    micros[cls] += Math.max(0, deltas[i] ?? 0);
  }
  const total = Object.values(micros).reduce((sum, value) => sum + value, 0);
  const ms = { ...micros };
  const percent = { ...micros };
  for (const key of Object.keys(micros) as HostCpuClass[]) {
    ms[key] = Math.round(micros[key] / 1000);
    percent[key] = total === 0 ? 0 : Math.round((micros[key] / total) * 1000) / 10;
  }
  return { ms, percent };
}

/** Runs `work` under V8's sampling profiler (this thread, where the VM runs) and splits the samples. */
export async function profileHostCpu<T>(work: () => Promise<T>, samplingIntervalUs = 2000): Promise<{ result: T; split: ReturnType<typeof splitProfile> }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await session.post('Profiler.start');
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await work() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const { profile } = await session.post('Profiler.stop');
    if (!outcome.ok) throw outcome.error;
    return { result: outcome.value, split: splitProfile(profile as CpuProfile) };
  } finally {
    session.disconnect();
  }
}

/** The guest command that prints what guestCpuDelta reads: /proc/stat's cpu line, then PID's utime and stime. */
export function guestCpuSnapshotCommand(pidExpression: string): string {
  return `head -n 1 /proc/stat; cut -d' ' -f14,15 /proc/${pidExpression}/stat`;
}

export interface GuestCpuDelta {
  /** Seconds of guest CPU time per /proc/stat column between the two readings. */
  userS: number;
  systemS: number;
  softirqS: number;
  idleS: number;
  /** Share of the time the guest CPU was not idle or waiting for I/O. */
  busyPercent: number;
  processUserS: number;
  processSystemS: number;
}

const USER_HZ = 100;

function parseSnapshot(text: string): { cpu: number[]; process: number[] } {
  const lines = text.trim().split('\n');
  const cpuLine = lines.find((line) => line.startsWith('cpu '));
  const processLine = lines.at(-1);
  if (!cpuLine || !processLine || processLine === cpuLine) throw new Error(`unexpected guest CPU reading: ${JSON.stringify(text)}`);
  const cpu = cpuLine.trim().split(/\s+/).slice(1).map(Number);
  const process = processLine.trim().split(/\s+/).map(Number);
  if (cpu.length < 7 || cpu.some(Number.isNaN) || process.length !== 2 || process.some(Number.isNaN)) {
    throw new Error(`unexpected guest CPU reading: ${JSON.stringify(text)}`);
  }
  return { cpu, process };
}

/** The difference between two outputs of guestCpuSnapshotCommand. */
export function guestCpuDelta(before: string, after: string): GuestCpuDelta {
  const a = parseSnapshot(before);
  const b = parseSnapshot(after);
  const d = b.cpu.map((value, i) => value - (a.cpu[i] ?? 0));
  // user nice system idle iowait irq softirq steal ...
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = d;
  const total = d.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const seconds = (ticks: number) => Math.round((ticks / USER_HZ) * 100) / 100;
  return {
    userS: seconds(user + nice),
    systemS: seconds(system + irq),
    softirqS: seconds(softirq),
    idleS: seconds(idle + iowait),
    busyPercent: total === 0 ? 0 : Math.round(((total - idle - iowait) / total) * 1000) / 10,
    processUserS: seconds(b.process[0]! - a.process[0]!),
    processSystemS: seconds(b.process[1]! - a.process[1]!),
  };
}
