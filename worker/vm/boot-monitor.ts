// Reads the guest's serial log (kernel + init on ttyS0) and turns it into boot stages and failures, keeping the
// last lines for error reports. Markers are the guest's contract (vm-images/README.md):
// `tabdock-stage: init|containerd|dockerd|ready <uptime-s>` and `tabdock-error: <what>-failed <reason>`.
import { VmFailure, type BootStage, type VmErrorCode } from '../shared/contract.ts';

export type SerialSignal =
  | { kind: 'stage'; stage: BootStage; guestUptimeS?: number }
  | { kind: 'failure'; code: VmErrorCode; what: string; reason: string }
  /** `tabdock-note: <what> <uptime>`: informational timing points (modules-loaded, docker-api, ...). */
  | { kind: 'note'; what: string; guestUptimeS: number }
  | { kind: 'none' };

const STAGE_MARKERS: Record<string, BootStage> = {
  init: 'starting-init',
  containerd: 'starting-containerd',
  dockerd: 'starting-docker',
  ready: 'ready',
};

const STAGE_PATTERN = /tabdock-stage: (\w+)(?: +([\d.]+))?/;
const ERROR_PATTERN = /tabdock-error: ([\w-]+)(?: +(.*))?/;
const NOTE_PATTERN = /tabdock-note: (\S+) +([\d.]+)/;

/** Classifies one serial line (without newline). */
export function classifySerialLine(line: string): SerialSignal {
  const stage = STAGE_PATTERN.exec(line);
  if (stage) {
    const mapped = STAGE_MARKERS[stage[1]!];
    if (!mapped) return { kind: 'none' };
    const uptime = stage[2] === undefined ? undefined : Number(stage[2]);
    return uptime === undefined || Number.isNaN(uptime)
      ? { kind: 'stage', stage: mapped }
      : { kind: 'stage', stage: mapped, guestUptimeS: uptime };
  }
  const error = ERROR_PATTERN.exec(line);
  if (error) {
    const what = error[1]!;
    const reason = (error[2] ?? '').trim();
    // containerd failing means dockerd cannot run either; the contract has one code for both.
    const code: VmErrorCode = what === 'dockerd-failed' || what === 'containerd-failed' ? 'dockerd-failed' : 'internal';
    return { kind: 'failure', code, what, reason };
  }
  const note = NOTE_PATTERN.exec(line);
  if (note) return { kind: 'note', what: note[1]!, guestUptimeS: Number(note[2]) };
  if (line.includes('Kernel panic')) return { kind: 'failure', code: 'kernel-panic', what: 'kernel-panic', reason: line.trim() };
  if (line.includes('Linux version')) return { kind: 'stage', stage: 'booting-kernel' };
  return { kind: 'none' };
}

/** Splits serial bytes into lines, remembers the last ones, reports signals. */
export class BootMonitor {
  private readonly recent: string[] = [];
  private current = '';
  private sawOutput = false;

  constructor(
    private readonly onSignal: (signal: Exclude<SerialSignal, { kind: 'none' }>) => void,
    private readonly keepLines = 100,
  ) {}

  pushByte(byte: number): void {
    if (!this.sawOutput) {
      this.sawOutput = true;
      this.onSignal({ kind: 'stage', stage: 'booting-kernel' });
    }
    if (byte === 0x0a) {
      this.endLine();
    } else if (byte !== 0x0d && this.current.length < 4096) {
      // Serial output is ASCII in practice; anything else is shown as a replacement, never misparsed.
      this.current += byte < 0x80 ? String.fromCharCode(byte) : '\ufffd';
    }
  }

  /** Adds a host-side line to the log (e.g. agent diagnostics) without classifying it. */
  note(line: string): void {
    this.recent.push(line);
    if (this.recent.length > this.keepLines) this.recent.shift();
  }

  /** The last lines seen, the unterminated one included, for error details. */
  lastLines(count = this.keepLines): string {
    const lines = this.current === '' ? this.recent : [...this.recent, this.current];
    return lines.slice(-count).join('\n');
  }

  private endLine(): void {
    const line = this.current;
    this.current = '';
    this.recent.push(line);
    if (this.recent.length > this.keepLines) this.recent.shift();
    const signal = classifySerialLine(line);
    if (signal.kind !== 'none') this.onSignal(signal);
  }
}

/** The user-facing failure for a failure marker, with the last console lines as detail. */
export function failureFromSignal(signal: Extract<SerialSignal, { kind: 'failure' }>, lastLines: string): VmFailure {
  const what = signal.what.replace(/-failed$/, '');
  const reason = signal.reason ? ` (${signal.reason})` : '';
  const message =
    signal.code === 'kernel-panic'
      ? 'The guest kernel panicked. The VM image may be damaged: rebuild it with `npm run images`; the last console lines are below.'
      : what === 'initramfs'
        ? `The guest could not mount its root disk${reason}. Rebuild the image with \`npm run images\`; the last console lines are below.`
        : `${what} failed to start in the guest${reason}. The last console lines below say why; rebuilding the image with \`npm run images\` may help.`;
  return new VmFailure({ code: signal.code, message, detail: lastLines });
}

/** Any other error of a boot as a VmFailure; a VmFailure stays as it is. */
export function unexpectedFailure(error: unknown): VmFailure {
  if (error instanceof VmFailure) return error;
  return new VmFailure({
    code: 'internal',
    message: 'The VM host hit an unexpected error while booting; reload to try again, and report it if it repeats.',
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}
