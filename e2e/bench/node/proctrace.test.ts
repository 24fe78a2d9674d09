import { describe, expect, it } from 'vitest';
import { parseProcTrace, procTraceCommand } from './proctrace.ts';

// Lines in the format of the guest kernel's tracefs (6.1), trimmed from a real `docker run` trace; pid 211 is
// dockerd and pid 153 containerd, both running before the trace started.
const TRACE = `# tracer: nop
#
              pt-641     [000] .....   100.000000: tracing_mark_write: tabdock-proctrace start
              pt-641     [000] .....   100.010000: sched_process_fork: comm=pt pid=641 child_comm=pt child_pid=643
          docker-643     [000] .....   100.020000: sched_process_exec: filename=/usr/bin/docker pid=643 old_pid=643
          docker-643     [000] .....   100.030000: sched_process_fork: comm=docker pid=643 child_comm=docker child_pid=644
          docker-644     [000] d.h1.   100.500000: sched_stat_runtime: comm=docker pid=644 runtime=300000000 [ns] vruntime=1 [ns]
          docker-643     [000] d.h1.   100.600000: sched_stat_runtime: comm=docker pid=643 runtime=200000000 [ns] vruntime=1 [ns]
         dockerd-215     [000] d.h1.   100.700000: sched_stat_runtime: comm=dockerd pid=215 runtime=50000000 [ns] vruntime=1 [ns]
      containerd-153     [000] .....   101.000000: sched_process_fork: comm=containerd pid=153 child_comm=containerd child_pid=649
 containerd-shim-649     [000] .....   101.010000: sched_process_exec: filename=/usr/bin/containerd-shim-runc-v2 pid=649 old_pid=649
 containerd-shim-649     [000] d.h1.   101.100000: sched_stat_runtime: comm=containerd-shim pid=649 runtime=90000000 [ns] vruntime=1 [ns]
            runc-670     [000] .....   101.200000: sched_process_fork: comm=runc pid=670 child_comm=runc child_pid=679
            runc-679     [000] .....   101.210000: sched_process_exec: filename=/proc/self/exe pid=679 old_pid=679
            runc-679     [000] .....   101.220000: sched_process_exec: filename=/dev/fd/6 pid=679 old_pid=679
 runc:[0:PARENT]-679     [000] .....   101.230000: sched_process_fork: comm=runc:[0:PARENT] pid=679 child_comm=runc:[0:PARENT] child_pid=681
 runc:[1:CHILD]-681      [000] .....   101.240000: sched_process_fork: comm=runc:[1:CHILD] pid=681 child_comm=runc:[1:CHILD] child_pid=682
  runc:[2:INIT]-682      [000] d.h1.   101.300000: sched_stat_runtime: comm=runc:[2:INIT] pid=682 runtime=40000000 [ns] vruntime=1 [ns]
 runc:[1:CHILD]-681      [000] d.h1.   101.310000: sched_stat_runtime: comm=runc:[1:CHILD] pid=681 runtime=10000000 [ns] vruntime=1 [ns]
 runc:[0:PARENT]-679     [000] .....   101.320000: sched_process_exit: comm=runc:[0:PARENT] pid=679 prio=120
            true-682     [000] .....   101.400000: sched_process_exec: filename=/bin/true pid=682 old_pid=682
            true-682     [000] d.h1.   101.410000: sched_stat_runtime: comm=true pid=682 runtime=5000000 [ns] vruntime=1 [ns]
            true-682     [000] .....   101.420000: sched_process_exit: comm=true pid=682 prio=120
         dockerd-211     [000] .....   101.500000: sched_process_fork: comm=dockerd pid=211 child_comm=dockerd child_pid=688
             exe-688     [000] .....   101.510000: sched_process_exec: filename=/proc/211/exe pid=688 old_pid=688
             exe-688     [000] d.h1.   101.900000: sched_stat_runtime: comm=exe pid=688 runtime=380000000 [ns] vruntime=1 [ns]
             exe-688     [000] .....   101.910000: sched_process_exit: comm=exe pid=688 prio=120
         dockerd-211     [000] d.h1.   101.950000: sched_stat_runtime: comm=dockerd pid=211 runtime=25000000 [ns] vruntime=1 [ns]
          docker-643     [000] .....   102.000000: sched_process_exit: comm=docker pid=643 prio=120
              pt-641     [000] .....   102.010000: tracing_mark_write: tabdock-proctrace end
          docker-999     [000] .....   102.020000: sched_process_exec: filename=/usr/bin/docker pid=999 old_pid=999
`;

describe('parseProcTrace', () => {
  const trace = parseProcTrace(TRACE);

  it('measures the window between the markers and ignores events after it', () => {
    expect(trace.windowMs).toBe(2010);
    expect(trace.processes.map((p) => p.pid)).not.toContain(999);
  });

  it('lists each program started, in start order, with its wall time and the CPU of its threads', () => {
    expect(trace.processes.map((p) => [p.pid, p.label])).toEqual([
      [643, 'docker'],
      [649, 'containerd-shim-runc-v2'],
      [679, 'runc init'],
      [682, 'true'],
      [688, 'dockerd (re-exec)'],
    ]);
    const docker = trace.processes[0]!;
    expect(docker).toMatchObject({ parentPid: 641, forkedAtMs: 10, execAtMs: 20, exitedAtMs: 2000, wallMs: 1990, cpuMs: 500 });
    // Still running at the end (the shim daemon): no exit, no wall time.
    expect(trace.processes[1]!.wallMs).toBeUndefined();
  });

  it("counts a fork that never exec'd with the process that forked it, and CPU before an exec apart", () => {
    // runc:[1:CHILD] (681) belongs to runc init (679); 682 ran runc's init code before it exec'd /bin/true.
    expect(trace.processes.find((p) => p.pid === 679)).toMatchObject({ cpuMs: 10, exitComm: 'runc:[0:PARENT]', execs: ['/proc/self/exe', '/dev/fd/6'] });
    expect(trace.processes.find((p) => p.pid === 682)).toMatchObject({ cpuMs: 45, cpuBeforeExecMs: 40 });
  });

  it('names a re-exec of another process by what that process runs, and sums the CPU of processes that ran before', () => {
    expect(trace.processes.find((p) => p.pid === 688)).toMatchObject({ cpuMs: 380, wallMs: 410 });
    expect(trace.alreadyRunning).toEqual([{ comm: 'dockerd', cpuMs: 75 }]);
    expect(trace.cpuMs).toBe(1100);
    expect(trace.byProgram[0]).toEqual({ label: 'docker', count: 1, wallMs: 1990, cpuMs: 500 });
  });

  it('refuses text without the start marker', () => {
    expect(() => parseProcTrace('cat: /tmp/proctrace.txt: No such file or directory\n')).toThrow(/no "tabdock-proctrace start" marker/);
  });
});

describe('procTraceCommand', () => {
  it('runs the command under the guest tracer, writing the given file', () => {
    expect(procTraceCommand('docker run --rm busybox true', '/tmp/t.txt')).toBe('tabdock-proctrace -o /tmp/t.txt -- docker run --rm busybox true');
  });
});
