// Resuming a v86 state: the v86 options a restore needs and the guest fix-ups after it (clock, DHCP). VmHost
// calls these; v86 specifics stay here. Saving sessions is worker/vm/disk/vm-disk.ts's.
import type { V86Options } from 'v86';
import type { StateHeader } from './state-file.ts';

/**
 * v86 options for resuming a state from the options of a cold boot: no kernel, initrd or cmdline (the RAM in
 * the state already holds the running kernel), the state's RAM size (v86 restores into the same layout), and
 * the MAC from the state, or the guest's virtio-net would see its address change under it (v86 randomises
 * it otherwise: src/virtio_net.js set_state). Autostart is off: resume.ts loadState() restores the state
 * itself and then starts the CPU, so a state v86 refuses becomes an error rather than a hang.
 */
export function restoreV86Options(coldBoot: V86Options, header: StateHeader): V86Options {
  const { bzimage: _kernel, initrd: _initrd, cmdline: _cmdline, ...rest } = coldBoot;
  return { ...rest, memory_size: header.memoryBytes, autostart: false, preserve_mac_from_state_image: true };
}

/**
 * Run by the guest agent right after a restore (the clock is set before it, by the agent's `clock` line:
 * VmHost.resume). v86's network stack is new and knows no lease: renew it in the background with the same
 * udhcpc call tabdock-init makes at boot (the fake DHCP server hands out the same address). `printWelcome`: for
 * a boot snapshot whose header has no welcome text (made before it had one), the guest prints it, late.
 */
export function afterRestoreCommand(printWelcome: boolean): string {
  const renewLease = `[ -e /sys/class/net/eth0 ] && (${RENEW_LEASE} &)`;
  const welcome = printWelcome ? `; cat ${WELCOME_FILE} >/dev/hvc0 2>/dev/null` : '';
  return `${renewLease}${welcome}; true`;
}

/** The welcome text tabdock-init writes at boot and prints before the first prompt. */
export const WELCOME_FILE = '/run/motd';

/**
 * The boot snapshot's welcome text as terminal output: the guest's tty turns "\n" into "\r\n" (onlcr) when
 * it prints it; this text goes to the terminal directly.
 */
export function welcomeOutput(header: StateHeader): Uint8Array | undefined {
  if (header.kind !== 'boot-snapshot' || !header.welcome) return undefined;
  return new TextEncoder().encode(header.welcome.replace(/\r?\n/g, '\r\n'));
}

/** tabdock-init's DHCP call (vm-images/config/tabdock-init). */
const RENEW_LEASE = 'udhcpc -i eth0 -q -n -t 4 -s /etc/udhcpc/default.script >/var/log/udhcpc.log 2>&1';

/**
 * Before the build's boot snapshot: write dirty pages out, drop the page cache and compact, so the state
 * holds only pages in use (freed pages are zeroed by init_on_free=1 and v86 skips zero pages).
 */
export const QUIESCE_COMMAND = 'sync; echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory; sync';

/**
 * Run after QUIESCE_COMMAND, as its own agent request: reads back what the first seconds after a restore
 * need, so it is in the state's RAM instead of being read from the lazily loaded disk (in the browser, one
 * 256 KiB HTTP range request per file touched; 27 of them, 7 MB, on a first visit without this). That is
 * the agent's own per-request programs (base64, timeout, bash, head, flock, rm: this request runs them), the
 * clock line's `date -s` (set here to the time it already has) and the after-restore command's udhcpc and its
 * script (in the foreground here so it has ended before the save). The port watcher uses only bash builtins.
 */
export const WARM_AFTER_QUIESCE_COMMAND = [
  'date -u -s "@$(date +%s)" >/dev/null',
  `if [ -e /sys/class/net/eth0 ]; then ${RENEW_LEASE}; fi`,
  'true',
].join('; ');
