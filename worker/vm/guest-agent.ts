// Client of the guest agent on virtio console port 1: a line protocol that runs one shell command per request.
// Request `<id> <timeoutSeconds> <base64 cmd>\n`, reply `<id> <exitCode> <base64 output>\n`, banner
// `tabdock-agent ready` (vm-images/README.md). Replies may arrive split across chunks, so bytes are buffered.
// The agent also sends `tabdock-sockets <base64>` on its own: the guest's listening TCP sockets, whenever they
// change and after a `sockets` line asks for them. A `clock <seconds>` line sets the guest clock, answered by
// `tabdock-clock <exitCode>`.
import { VmFailure, type ExecResult } from '../shared/contract.ts';
import { decodeBase64, encodeBase64 } from '../shared/base64.ts';
import { realTimers, type Timers } from './console-pump.ts';

export { decodeBase64, encodeBase64 } from '../shared/base64.ts';

export const AGENT_READY_LINE = 'tabdock-agent ready';

/** Asks the agent to send its listening sockets now (it sends them on its own only when they change). */
export const SOCKETS_REQUEST_LINE = 'sockets';

/** The agent sends at most this many output bytes plus one (vm-images/config/tabdock-agent OUTPUT_CAP_BYTES). */
export const AGENT_OUTPUT_CAP_BYTES = 4 * 1024 * 1024;

/** Exit status of coreutils/busybox `timeout` when it killed the command. */
export const TIMEOUT_EXIT_CODE = 124;

export type AgentLine =
  | { kind: 'ready' }
  | { kind: 'reply'; id: number; exitCode: number; output: string }
  /** Listening TCP sockets, `ADDRESS:PORT` in /proc/net/tcp's hex, one per line, in the kernel's order. */
  | { kind: 'sockets'; sockets: string }
  /** The answer to a `clock` line: date's exit code. */
  | { kind: 'clock'; exitCode: number }
  | { kind: 'other'; text: string };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeRequest(id: number, timeoutSeconds: number, command: string): string {
  return `${id} ${timeoutSeconds} ${encodeBase64(textEncoder.encode(command))}\n`;
}

const REPLY_PATTERN = /^(\d+) (-?\d+) ?([A-Za-z0-9+/=]*)$/;
const SOCKETS_PATTERN = /^tabdock-sockets ?([A-Za-z0-9+/=]*)$/;
const CLOCK_PATTERN = /^tabdock-clock (\d+)$/;

/** The line that sets the guest clock to a host time (ms since 1970), to the millisecond. */
export function encodeClockLine(nowMs: number): string {
  return `clock ${(nowMs / 1000).toFixed(3)}\n`;
}

/** Parses one line (without its newline; a trailing CR from a tty is tolerated). */
export function parseAgentLine(rawLine: string): AgentLine {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line.trim() === AGENT_READY_LINE) return { kind: 'ready' };
  const sockets = SOCKETS_PATTERN.exec(line);
  if (sockets) {
    try {
      return { kind: 'sockets', sockets: textDecoder.decode(decodeBase64(sockets[1]!)) };
    } catch (error) {
      return { kind: 'other', text: `${line} (undecodable: ${String(error)})` };
    }
  }
  const clock = CLOCK_PATTERN.exec(line);
  if (clock) return { kind: 'clock', exitCode: Number(clock[1]) };
  const match = REPLY_PATTERN.exec(line);
  if (!match) return { kind: 'other', text: line };
  let output: string;
  try {
    const bytes = decodeBase64(match[3]!);
    // One byte past the cap means the agent cut the output (it keeps cap + 1 so that this can be told).
    output =
      bytes.length > AGENT_OUTPUT_CAP_BYTES
        ? `${textDecoder.decode(bytes.subarray(0, AGENT_OUTPUT_CAP_BYTES))}\n[tabdock-agent: output truncated at ${AGENT_OUTPUT_CAP_BYTES} bytes]\n`
        : textDecoder.decode(bytes);
  } catch (error) {
    // Not valid base64 after all: report the line as-is rather than inventing output.
    return { kind: 'other', text: `${line} (undecodable: ${String(error)})` };
  }
  return { kind: 'reply', id: Number(match[1]), exitCode: Number(match[2]), output };
}

/** Splits a byte stream into lines; keeps the unterminated tail for the next chunk. */
export class LineSplitter {
  private tail = '';
  private readonly decoder = new TextDecoder();

  push(bytes: Uint8Array): string[] {
    const text = this.tail + this.decoder.decode(bytes, { stream: true });
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines;
  }
}

interface PendingExec {
  command: string;
  /** The request line as sent (no newline), to recognise a tty echo of it. */
  requestLine: string;
  timeoutMs: number;
  startedAtMs: number;
  resolve: (result: ExecResult) => void;
  reject: (error: VmFailure) => void;
  timer: unknown;
}

export interface GuestAgentOptions {
  /** Writes request bytes to the agent's port (through the flow-controlled input pump). */
  write: (bytes: Uint8Array) => void;
  /** Lines that are neither replies nor the banner (agent diagnostics), for the error log. */
  onOtherLine?: (text: string) => void;
  /** The guest's listening TCP sockets, pushed by the agent (see AgentLine 'sockets'). */
  onSockets?: (sockets: string) => void;
  /** Host-side slack after the guest's own timeout before the host gives up on a reply. */
  graceMs?: number;
  timers?: Timers;
  now?: () => number;
}

export class GuestAgent {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private isReady = false;
  private nextId = 1;
  private readonly pending = new Map<number, PendingExec>();
  private readonly splitter = new LineSplitter();
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly clockWaiters: Array<(exitCode: number) => void> = [];

  constructor(private readonly options: GuestAgentOptions) {
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? (() => Date.now());
    this.graceMs = options.graceMs ?? 10_000;
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  get readyNow(): boolean {
    return this.isReady;
  }

  /** Feed bytes the agent port produced. */
  receive(bytes: Uint8Array): void {
    for (const line of this.splitter.push(bytes)) this.handleLine(line);
  }

  exec(command: string, timeoutMs: number): Promise<ExecResult> {
    const id = this.nextId++;
    const timeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(timeoutFailure(command, timeoutMs, 'the guest agent sent no reply'));
      }, timeoutMs + this.graceMs);
      const request = encodeRequest(id, timeoutSeconds, command);
      this.pending.set(id, { command, requestLine: request.trimEnd(), timeoutMs, startedAtMs: this.now(), resolve, reject, timer });
      this.options.write(textEncoder.encode(request));
    });
  }

  /**
   * Sets the guest clock to the host's now (taken as the line is sent) and resolves with date's exit code when
   * the agent answers; rejects when it does not answer within timeoutMs.
   */
  setClock(timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter = (exitCode: number) => {
        this.timers.clearTimeout(timer);
        resolve(exitCode);
      };
      const timer = this.timers.setTimeout(() => {
        const index = this.clockWaiters.indexOf(waiter);
        if (index >= 0) this.clockWaiters.splice(index, 1);
        reject(new VmFailure({ code: 'exec-timeout', message: `The guest agent did not set the clock within ${Math.round(timeoutMs / 1000)} s.` }));
      }, timeoutMs);
      this.clockWaiters.push(waiter);
      this.options.write(textEncoder.encode(encodeClockLine(this.now())));
    });
  }

  /** Asks the agent for its listening sockets; they arrive through onSockets. */
  requestSockets(): void {
    this.options.write(textEncoder.encode(`${SOCKETS_REQUEST_LINE}\n`));
  }

  /** Rejects every pending call, e.g. when the VM stops. */
  failAll(error: VmFailure): void {
    for (const [id, entry] of this.pending) {
      this.timers.clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(error);
    }
  }

  private handleLine(line: string): void {
    const parsed = parseAgentLine(line);
    switch (parsed.kind) {
      case 'ready':
        this.isReady = true;
        this.markReady();
        return;
      case 'reply': {
        const entry = this.pending.get(parsed.id);
        // If the agent's port is a tty with echo on (hvc resets termios on last close: TTY_DRIVER_RESET_TERMIOS
        // in drivers/tty/hvc/hvc_console.c), our own request comes back first, in the reply's shape. Skip it.
        if (entry && line.replace(/\r$/, '') === entry.requestLine) return;
        if (!entry) {
          this.options.onOtherLine?.(`reply for unknown request ${parsed.id}`);
          return;
        }
        this.pending.delete(parsed.id);
        this.timers.clearTimeout(entry.timer);
        const elapsedMs = this.now() - entry.startedAtMs;
        // The guest wraps the command in `timeout`; 124 at (or past) the limit means it was killed there.
        if (parsed.exitCode === TIMEOUT_EXIT_CODE && elapsedMs >= entry.timeoutMs * 0.95) {
          entry.reject(timeoutFailure(entry.command, entry.timeoutMs, parsed.output));
          return;
        }
        entry.resolve({ output: parsed.output, exitCode: parsed.exitCode });
        return;
      }
      case 'sockets':
        this.options.onSockets?.(parsed.sockets);
        return;
      case 'clock':
        // Answers come in the order the lines were sent: the agent handles clock lines in its read loop.
        this.clockWaiters.shift()?.(parsed.exitCode);
        return;
      case 'other':
        if (parsed.text.trim() !== '') this.options.onOtherLine?.(parsed.text);
        return;
      default: {
        const unreachable: never = parsed;
        throw new Error(`unhandled agent line ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

function timeoutFailure(command: string, timeoutMs: number, detail: string): VmFailure {
  return new VmFailure({
    code: 'exec-timeout',
    message: `The command \`${command}\` did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped; give it a longer timeout if it is expected to be slow.`,
    detail,
  });
}
