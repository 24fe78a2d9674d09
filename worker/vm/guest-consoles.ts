// The guest's consoles as the VM host uses them: the kernel's serial log (ttyS0), the user's shell on hvc0 (output
// batched, input fed as fast as the guest takes it and held back while a restored guest's clock is set, the
// terminal size) and the guest agent on hvc1 (a GuestAgent over its own input pump, new for every emulator).
// Attached to one emulator at a time; VmHost keeps the attachment and detaches it when it drops that emulator.
import type { V86 } from 'v86';
import { VmFailure, type ExecResult } from '../shared/contract.ts';
import { InputPump, OutputBatcher, type Timers } from './console-pump.ts';
import { AGENT_READY_LINE, GuestAgent } from './guest-agent.ts';
import { consoleReceiveCapacity, internalsOf } from './v86-internals.ts';

const SHELL_PORT = 0;
const AGENT_PORT = 1;
type ConsolePort = typeof SHELL_PORT | typeof AGENT_PORT;

/** What the consoles need of an emulator; consoleWiresOf() gives v86's. Each `on...` returns its unsubscribe. */
export interface ConsoleWires {
  onSerialByte(listener: (byte: number) => void): () => void;
  onOutput(port: ConsolePort, listener: (bytes: Uint8Array) => void): () => void;
  /** Bytes the port's guest side can take now (0: no receive buffer posted). */
  capacity(port: ConsolePort): number;
  send(port: ConsolePort, bytes: Uint8Array): void;
  /** The shell's terminal size; only once the device exists ('emulator-loaded'). */
  resize(cols: number, rows: number): void;
}

export function consoleWiresOf(emulator: V86): ConsoleWires {
  const bus = internalsOf(emulator).bus;
  const on = (name: string, listener: (value: never) => void) => {
    bus.register(name, listener);
    return () => bus.unregister(name, listener);
  };
  return {
    onSerialByte: (listener) => on('serial0-output-byte', listener as (value: never) => void),
    onOutput: (port, listener) => on(`virtio-console${port}-output-bytes`, listener as (value: never) => void),
    capacity: (port) => consoleReceiveCapacity(emulator, port),
    send: (port, bytes) => bus.send(`virtio-console${port}-input-bytes`, bytes),
    // v86 marshals the VIRTIO_CONSOLE_RESIZE control message as rows then cols (src/virtio_console.js,
    // SendWindowSize), the order Linux used until 2025. Linux now reads cols first, as the virtio spec says
    // (drivers/char/virtio_console.c "virtio: console: fix order of fields cols and rows", Cc stable
    // v2.6.35+; our Debian 6.1.176 kernel has it, and `stty size` showed the swap). So hand v86 the pair swapped.
    resize: (cols, rows) => bus.send('virtio-console0-resize', [rows, cols]),
  };
}

export interface GuestConsolesDeps {
  /** A byte of the serial log (boot markers, kernel messages). */
  serialByte(byte: number): void;
  /** Batched shell output for the terminal. */
  shellOutput(data: Uint8Array): void;
  /** Agent lines that are not replies, for the error log. */
  agentNote(text: string): void;
  /** The guest's listening sockets, as the agent pushes them. */
  sockets(sockets: string): void;
  /** The last serial lines, for the detail of an agent that never came up. */
  lastConsoleLines(count: number): string;
  timers?: Timers;
}

/** The consoles' hold on one emulator. */
export interface ConsoleAttachment {
  /** Stops listening; the agent's pending calls fail with `reason` and the next emulator gets a fresh agent. */
  detach(reason: VmFailure): void;
}

export class GuestConsoles {
  private wires: ConsoleWires | undefined;
  private devicesReady = false;
  private size: [cols: number, rows: number] | undefined;
  /** Shell input held back until a restored guest's clock is set; undefined when none is. */
  private held: Uint8Array[] | undefined;
  private readonly shellOutput: OutputBatcher;
  private readonly shellInput: InputPump;
  private agentInput: InputPump;
  private agentChannel: GuestAgent;

  constructor(private readonly deps: GuestConsolesDeps) {
    const timers = deps.timers ? { timers: deps.timers } : {};
    this.shellOutput = new OutputBatcher({ flush: (data) => deps.shellOutput(data), ...timers });
    this.shellInput = this.pumpFor(SHELL_PORT);
    this.agentInput = this.pumpFor(AGENT_PORT);
    this.agentChannel = this.newAgent();
  }

  /** The agent of the attached emulator. */
  get agent(): GuestAgent {
    return this.agentChannel;
  }

  /** Listens to a new emulator's consoles, from before it runs. */
  attach(wires: ConsoleWires): ConsoleAttachment {
    this.wires = wires;
    const agent = this.agentChannel;
    const unsubscribe = [
      wires.onSerialByte((byte) => this.deps.serialByte(byte)),
      wires.onOutput(SHELL_PORT, (bytes) => this.shellOutput.push(bytes)),
      wires.onOutput(AGENT_PORT, (bytes) => agent.receive(bytes)),
    ];
    return {
      detach: (reason) => {
        for (const remove of unsubscribe) remove();
        if (this.wires !== wires) return;
        this.wires = undefined;
        this.devicesReady = false;
        this.held = undefined;
        agent.failAll(reason);
        this.agentInput.dispose();
        this.agentInput = this.pumpFor(AGENT_PORT);
        this.agentChannel = this.newAgent();
      },
    };
  }

  /** v86 made the console devices ('emulator-loaded'): the terminal size set before now applies. */
  devicesLoaded(): void {
    this.devicesReady = true;
    if (this.size) this.wires?.resize(...this.size);
  }

  resize(cols: number, rows: number): void {
    this.size = [cols, rows];
    if (this.devicesReady) this.wires?.resize(cols, rows);
  }

  /** Input for the shell (the user's, or the host's own fresh prompt); held while holdShellInput() is on. */
  typeIntoShell(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (this.held) this.held.push(bytes);
    else this.shellInput.write(bytes);
  }

  /** Text for the terminal that the guest did not print (a boot snapshot's welcome). */
  showInTerminal(bytes: Uint8Array): void {
    this.shellOutput.push(bytes);
  }

  holdShellInput(): void {
    this.held ??= [];
  }

  releaseShellInput(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const bytes of held) this.shellInput.write(bytes);
  }

  /** A restored agent printed its banner before the save; this host never saw it. */
  agentWasReady(): void {
    this.agentChannel.receive(new TextEncoder().encode(`${AGENT_READY_LINE}\n`));
  }

  /** Resolves once the agent is up; rejects with 'exec-timeout' when it is not within timeoutMs. */
  async agentReady(command: string, timeoutMs: number): Promise<void> {
    if (this.agentChannel.readyNow) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new VmFailure({
              code: 'exec-timeout',
              message: `The guest agent did not come up within ${Math.round(timeoutMs / 1000)} s, so \`${command}\` was not run. The VM image may be missing its agent: rebuild it with \`npm run images\`.`,
              detail: this.deps.lastConsoleLines(30),
            }),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.agentChannel.ready, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A command through the agent, once it is up (agentReady). */
  async exec(command: string, timeoutMs: number): Promise<ExecResult> {
    await this.agentReady(command, timeoutMs);
    return this.agentChannel.exec(command, timeoutMs);
  }

  /** The VM stopped: output still waiting goes out, input goes nowhere, agent calls fail with `reason`. */
  dispose(reason: VmFailure): void {
    this.shellOutput.dispose();
    this.shellInput.dispose();
    this.agentInput.dispose();
    this.agentChannel.failAll(reason);
  }

  private pumpFor(port: ConsolePort): InputPump {
    return new InputPump({
      capacity: () => this.wires?.capacity(port) ?? 0,
      send: (chunk) => this.wires?.send(port, chunk),
      ...(this.deps.timers ? { timers: this.deps.timers } : {}),
    });
  }

  private newAgent(): GuestAgent {
    const input = this.agentInput;
    return new GuestAgent({
      write: (bytes) => input.write(bytes),
      onOtherLine: (text) => this.deps.agentNote(text),
      onSockets: (sockets) => this.deps.sockets(sockets),
      ...(this.deps.timers ? { timers: this.deps.timers } : {}),
    });
  }
}
