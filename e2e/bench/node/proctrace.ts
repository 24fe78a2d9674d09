// Reads what the guest's `tabdock-proctrace` (vm-images/config) recorded: the kernel's sched_process_fork,
// sched_process_exec, sched_process_exit and sched_stat_runtime events (tracefs, one line each), and turns
// them into one row per program started (its wall time and the CPU its threads used) plus the CPU of the
// processes that were already running (dockerd, containerd), so `npm run bench` shows where a command's
// time went, by process. Used by the Node bench and the Chromium bench alike.

export interface TracedProcess {
  pid: number;
  /** The process that forked it, when the fork was traced. */
  parentPid?: number;
  /** What it ran: the last exec's basename, with a readable name for re-execs of /proc/<pid>/exe. */
  label: string;
  /** Every file it exec'd, in order (runc execs itself before it execs the container's program). */
  execs: string[];
  /** The command name it had when it exited (runc's init names itself `runc:[2:INIT]`). */
  exitComm?: string;
  /** Milliseconds from the start marker. A process forked before the trace has no forkedAtMs. */
  forkedAtMs?: number;
  execAtMs: number;
  exitedAtMs?: number;
  /** From its fork (or exec) to its exit; undefined when it outlived the trace (a shim, a container). */
  wallMs?: number;
  /** CPU time of the process and every thread and child it forked without exec, while traced. */
  cpuMs: number;
  /** The part of cpuMs spent before its first exec, as a fork of its parent (runc's init before the container's program). */
  cpuBeforeExecMs: number;
}

export interface ProgramTotal {
  label: string;
  count: number;
  wallMs: number;
  cpuMs: number;
}

export interface ProcessTrace {
  /** From the start marker to the end marker. */
  windowMs: number;
  /** CPU time of every task in the window; windowMs minus this is the guest CPU's idle time (and interrupts). */
  cpuMs: number;
  processes: TracedProcess[];
  /** Processes that started before the trace (no exec seen), by command name: dockerd, containerd, ... */
  alreadyRunning: { comm: string; cpuMs: number }[];
  /** The processes grouped by label, most CPU first. */
  byProgram: ProgramTotal[];
}

// `  comm-pid  [cpu]  flags  seconds: event: fields`; the flags column is absent in some kernels' formats.
const LINE = /^\s*(.*)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+(?:\S+\s+)?(\d+\.\d+):\s+(\w+):\s+(.*)$/;
const MARKER_START = 'tabdock-proctrace start';
const MARKER_END = 'tabdock-proctrace end';

function fields(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const match of text.matchAll(/(\w+)=(\S+)/g)) result.set(match[1]!, match[2]!);
  return result;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

interface Task {
  pid: number;
  parentPid?: number;
  forkedAtMs?: number;
  execs: string[];
  execAtMs?: number;
  exitedAtMs?: number;
  exitComm?: string;
  comm?: string;
  cpuNs: number;
  cpuNsBeforeExec: number;
}

/** A readable name for what a process ran. */
function labelOf(task: Task, tasks: Map<number, Task>): string {
  const last = task.execs.at(-1) ?? '';
  // runc's init runs itself again, from /proc/self/exe and then from a sealed copy (/dev/fd/N, a memfd),
  // and names itself runc:[0:PARENT], runc:[1:CHILD], runc:[2:INIT].
  if (/^\/(?:proc\/self\/exe|dev\/fd\/\d+|proc\/self\/fd\/\d+)$/.test(last)) {
    return task.exitComm?.startsWith('runc:') ? 'runc init' : `${task.exitComm ?? 'exe'} (re-exec)`;
  }
  // A binary run again through another process's /proc/<pid>/exe: dockerd's libnetwork-setkey prestart hook.
  const other = /^\/proc\/(\d+)\/exe$/.exec(last);
  if (other) {
    const owner = tasks.get(Number(other[1]));
    const ownerName = owner?.execs.at(-1)?.split('/').pop() ?? owner?.comm;
    return `${ownerName ?? task.exitComm ?? 'exe'} (re-exec)`;
  }
  return last.split('/').pop() ?? last;
}

/** Parses the file `tabdock-proctrace -o FILE` wrote. Throws when it holds no start marker. */
export function parseProcTrace(text: string): ProcessTrace {
  const tasks = new Map<number, Task>();
  const task = (pid: number): Task => {
    let found = tasks.get(pid);
    if (!found) {
      found = { pid, execs: [], cpuNs: 0, cpuNsBeforeExec: 0 };
      tasks.set(pid, found);
    }
    return found;
  };
  let startS: number | undefined;
  let endS: number | undefined;
  let totalCpuNs = 0;
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, comm, , secondsText, event, rest] = match as unknown as [string, string, string, string, string, string];
    const seconds = Number(secondsText);
    if (event === 'tracing_mark_write' || event === 'print') {
      if (rest.includes(MARKER_START)) startS = seconds;
      else if (rest.includes(MARKER_END)) endS = seconds;
      continue;
    }
    if (startS === undefined || endS !== undefined) continue;
    const atMs = (seconds - startS) * 1000;
    const f = fields(rest);
    switch (event) {
      case 'sched_process_fork': {
        const child = task(Number(f.get('child_pid')));
        child.parentPid = Number(f.get('pid'));
        child.forkedAtMs = atMs;
        child.comm = f.get('child_comm');
        task(child.parentPid).comm ??= f.get('comm');
        break;
      }
      case 'sched_process_exec': {
        const execing = task(Number(f.get('pid')));
        execing.execs.push(f.get('filename') ?? '?');
        execing.execAtMs ??= atMs;
        break;
      }
      case 'sched_process_exit': {
        const exiting = task(Number(f.get('pid')));
        exiting.exitedAtMs = atMs;
        exiting.exitComm = f.get('comm');
        break;
      }
      case 'sched_stat_runtime': {
        const running = task(Number(f.get('pid')));
        running.comm ??= f.get('comm') ?? comm;
        const ns = Number(f.get('runtime'));
        running.cpuNs += ns;
        if (running.execs.length === 0) running.cpuNsBeforeExec += ns;
        totalCpuNs += ns;
        break;
      }
      default:
        break;
    }
  }
  if (startS === undefined) throw new Error('the trace has no "tabdock-proctrace start" marker: was it written by tabdock-proctrace?');

  // Every task's CPU goes to the process it belongs to: itself if it exec'd, else the process that forked it
  // (a thread, or a child that never exec'd), else (running before the trace) its command name.
  const ownerOf = (start: Task): Task => {
    let current = start;
    for (let hops = 0; hops < 64 && current.execs.length === 0 && current.parentPid !== undefined; hops++) {
      const parent = tasks.get(current.parentPid);
      if (!parent) break;
      current = parent;
    }
    return current;
  };
  const cpuNsByOwner = new Map<Task, number>();
  for (const t of tasks.values()) {
    const owner = ownerOf(t);
    cpuNsByOwner.set(owner, (cpuNsByOwner.get(owner) ?? 0) + t.cpuNs);
  }
  const processes: TracedProcess[] = [];
  const alreadyRunning = new Map<string, number>();
  for (const [owner, cpuNs] of cpuNsByOwner) {
    if (owner.execs.length === 0) {
      if (cpuNs === 0) continue;
      const comm = owner.comm ?? owner.exitComm ?? `pid ${owner.pid}`;
      alreadyRunning.set(comm, (alreadyRunning.get(comm) ?? 0) + cpuNs);
      continue;
    }
    const startedAtMs = owner.forkedAtMs ?? owner.execAtMs!;
    const row: TracedProcess = {
      pid: owner.pid,
      label: labelOf(owner, tasks),
      execs: owner.execs,
      execAtMs: round(owner.execAtMs!),
      cpuMs: round(cpuNs / 1e6),
      cpuBeforeExecMs: round(owner.cpuNsBeforeExec / 1e6),
    };
    if (owner.parentPid !== undefined) row.parentPid = owner.parentPid;
    if (owner.exitComm !== undefined) row.exitComm = owner.exitComm;
    if (owner.forkedAtMs !== undefined) row.forkedAtMs = round(owner.forkedAtMs);
    if (owner.exitedAtMs !== undefined) {
      row.exitedAtMs = round(owner.exitedAtMs);
      row.wallMs = round(owner.exitedAtMs - startedAtMs);
    }
    processes.push(row);
  }
  processes.sort((a, b) => (a.forkedAtMs ?? a.execAtMs) - (b.forkedAtMs ?? b.execAtMs));
  const totals = new Map<string, ProgramTotal>();
  for (const row of processes) {
    const total = totals.get(row.label) ?? { label: row.label, count: 0, wallMs: 0, cpuMs: 0 };
    total.count++;
    total.wallMs = round(total.wallMs + (row.wallMs ?? 0));
    total.cpuMs = round(total.cpuMs + row.cpuMs);
    totals.set(row.label, total);
  }
  return {
    windowMs: round(((endS ?? startS) - startS) * 1000),
    cpuMs: round(totalCpuNs / 1e6),
    processes,
    alreadyRunning: [...alreadyRunning].map(([comm, ns]) => ({ comm, cpuMs: round(ns / 1e6) })).sort((a, b) => b.cpuMs - a.cpuMs),
    byProgram: [...totals.values()].sort((a, b) => b.cpuMs - a.cpuMs),
  };
}

/** The guest command that traces one command into FILE. */
export function procTraceCommand(command: string, file = '/tmp/proctrace.txt'): string {
  return `tabdock-proctrace -o ${file} -- ${command}`;
}
