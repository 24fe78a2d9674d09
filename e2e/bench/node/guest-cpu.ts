// The guest CPU benchmark, one shell line per task so the Node bench (through the agent) and the Chromium
// bench (typed into the terminal) run exactly the same thing: a bash loop (interpreter-bound code), sha256sum
// of 16 MiB in tmpfs (a tight hashing loop), gzip -d of the busybox image layer (what a pull's unpacking
// does) and 200 starts of /bin/true (what each of the dozen programs of a docker run pays before its work). Each line prints `<marker>=<microseconds>` measured in the guest with bash's EPOCHREALTIME, so no
// agent or terminal overhead is counted.

export interface GuestCpuTask {
  name: 'bashLoop' | 'sha256' | 'gunzipLayer' | 'exec';
  /** Untimed preparation (a test file in tmpfs); empty when none. */
  prepare: string;
  /** The timed work. */
  work: string;
  /** Removes what prepare made. */
  cleanup: string;
  /** What it measures, for bench.json. */
  description: string;
}

const LAYER_GZ = '/dev/shm/tabdock-bench-layer.gz';
const FILE_16M = '/dev/shm/tabdock-bench-16m';
/** Where the preloaded test-image archive is in the guest (vm-images/lib/rootfs.sh). */
export const GUEST_PRELOAD_TAR = '/var/lib/tabdock/images/preload.tar';

/** The biggest layer in a test-image archive: the busybox image's 2.2 MB layer. */
function biggestLayer(preloadTar: string): string {
  return `$(tar -tvf ${preloadTar} | awk '$6 ~ /^[0-9a-f]+\\.tar$/ {print $3, $6}' | sort -n | tail -n 1 | cut -d' ' -f2)`;
}

/** The tasks; preloadTar is the archive's path where they run (the guest, or the host for the ratio). */
export function guestCpuTasks(preloadTar = GUEST_PRELOAD_TAR): GuestCpuTask[] {
  return [
    {
      name: 'bashLoop',
      prepare: '',
      work: 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done',
      cleanup: '',
      description: 'bash: i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done',
    },
    {
      name: 'sha256',
      prepare: `head -c 16777216 /dev/zero >${FILE_16M}`,
      work: `sha256sum ${FILE_16M} >/dev/null`,
      cleanup: `rm -f ${FILE_16M}`,
      description: 'sha256sum of 16 MiB in tmpfs',
    },
    {
      name: 'gunzipLayer',
      prepare: `tar -xOf ${preloadTar} ${biggestLayer(preloadTar)} | gzip -6 >${LAYER_GZ}`,
      work: `for n in 1 2 3 4; do gzip -dc ${LAYER_GZ} >/dev/null; done`,
      cleanup: `rm -f ${LAYER_GZ}`,
      description: 'gzip -d of the busybox image layer (2.2 MB), 4 times',
    },
    {
      name: 'exec',
      prepare: '',
      work: 'for n in $(seq 200); do /bin/true; done',
      cleanup: '',
      description: '200 starts of /bin/true (fork, exec, dynamic linking, exit)',
    },
  ];
}

/** The one shell line that prepares, times and cleans up a task, printing `<marker>=<microseconds>`. */
export function guestCpuLine(task: GuestCpuTask, marker: string): string {
  const prepare = task.prepare === '' ? '' : `${task.prepare}; `;
  const cleanup = task.cleanup === '' ? '' : `; ${task.cleanup}`;
  return `${prepare}s=$EPOCHREALTIME; ${task.work}; e=$EPOCHREALTIME${cleanup}; echo "${marker}=$(( \${e/./} - \${s/./} ))"`;
}

/** Reads the microseconds a guestCpuLine printed. */
export function parseGuestCpuOutput(output: string, marker: string): number {
  const match = new RegExp(`^${marker}=(\\d+)$`, 'm').exec(output);
  if (!match) throw new Error(`no "${marker}=" line in the guest's output: ${JSON.stringify(output.slice(-300))}`);
  return Number(match[1]);
}
