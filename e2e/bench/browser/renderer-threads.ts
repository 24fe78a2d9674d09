// Where the tab's CPU goes, by thread, from Linux's /proc: the renderer process of a browser profile and the
// CPU time of its threads (the VM worker, V8's background compilers in the thread pool, the page's main
// thread). Chromium names its threads (DedicatedWorker thread, ThreadPoolForegroundWorker, ...), and
// /proc/<pid>/task/<tid>/comm shows the first 15 characters.
import { readdir, readFile } from 'node:fs/promises';

/** CPU seconds per thread of one process, keyed by tid, with each thread's name. */
export type ThreadCpu = Map<number, { name: string; cpuS: number }>;

const TICKS_PER_S = 100;

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** The renderer processes of the Chromium started with this --user-data-dir. */
export async function rendererPids(profileDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readText(`/proc/${entry}/cmdline`);
    if (cmdline?.includes('--type=renderer') && cmdline.includes(`--user-data-dir=${profileDir}`)) pids.push(Number(entry));
  }
  return pids;
}

export async function threadCpu(pid: number): Promise<ThreadCpu> {
  const threads: ThreadCpu = new Map();
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const stat = await readText(`/proc/${pid}/task/${tid}/stat`);
    const name = (await readText(`/proc/${pid}/task/${tid}/comm`))?.trim();
    if (!stat || name === undefined) continue;
    // Fields after the parenthesised comm: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(tid), { name, cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S });
  }
  return threads;
}

/** Every renderer thread of the profile, for a before/after difference. */
export async function profileThreadCpu(profileDir: string): Promise<ThreadCpu> {
  const all: ThreadCpu = new Map();
  for (const pid of await rendererPids(profileDir)) for (const [tid, value] of await threadCpu(pid)) all.set(tid, value);
  return all;
}

/**
 * CPU seconds between two readings, grouped: the busiest worker thread (the VM), the V8 thread pool (wasm
 * tier-up compiles, GC), the renderer main threads, and the rest.
 */
export function threadCpuDelta(before: ThreadCpu, after: ThreadCpu): { vmWorkerS: number; threadPoolS: number; mainS: number; otherS: number } {
  const deltas = [...after].map(([tid, { name, cpuS }]) => ({ name, s: cpuS - (before.get(tid)?.cpuS ?? 0) }));
  const workers = deltas.filter((d) => d.name.startsWith('DedicatedWorker')).sort((a, b) => b.s - a.s);
  const vmWorkerS = workers[0]?.s ?? 0;
  const sum = (list: typeof deltas) => Math.round(list.reduce((total, d) => total + d.s, 0) * 10) / 10;
  const threadPool = deltas.filter((d) => d.name.startsWith('ThreadPool'));
  const main = deltas.filter((d) => d.name === 'chromium' || d.name.startsWith('CrRendererMain'));
  const other = deltas.filter((d) => !threadPool.includes(d) && !main.includes(d) && d !== workers[0]);
  return { vmWorkerS: Math.round(vmWorkerS * 10) / 10, threadPoolS: sum(threadPool), mainS: sum(main), otherS: sum(other) };
}
