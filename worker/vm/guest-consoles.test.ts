// The guest consoles against fake console wires: serial and shell output reach their callbacks, input waits for
// the guest's buffers and for a restored guest's clock, the terminal size waits for the device, and detaching
// an emulator fails its agent calls and gives the next emulator a fresh agent.
import { describe, expect, it } from 'vitest';
import { VmFailure } from '../shared/contract.ts';
import type { Timers } from './console-pump.ts';
import { GuestConsoles, type ConsoleWires } from './guest-consoles.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

/** Timers that only run when the test says so. */
function heldTimers(): Timers & { runAll(): void } {
  const due = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (callback) => {
      due.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => void due.delete(handle as number),
    runAll() {
      for (const [id, callback] of [...due]) {
        due.delete(id);
        callback();
      }
    },
  };
}

class FakeWires implements ConsoleWires {
  readonly listeners = { serial: new Set<(byte: number) => void>(), 0: new Set<(b: Uint8Array) => void>(), 1: new Set<(b: Uint8Array) => void>() };
  readonly sent: Record<0 | 1, string> = { 0: '', 1: '' };
  readonly capacities: Record<0 | 1, number> = { 0: 4096, 1: 4096 };
  readonly sizes: Array<[number, number]> = [];
  onSerialByte(listener: (byte: number) => void): () => void {
    this.listeners.serial.add(listener);
    return () => this.listeners.serial.delete(listener);
  }
  onOutput(port: 0 | 1, listener: (bytes: Uint8Array) => void): () => void {
    this.listeners[port].add(listener);
    return () => this.listeners[port].delete(listener);
  }
  capacity(port: 0 | 1): number {
    return this.capacities[port];
  }
  /** A posted buffer is used up by what is sent into it. */
  send(port: 0 | 1, chunk: Uint8Array): void {
    this.capacities[port] -= chunk.length;
    this.sent[port] += text(chunk);
  }
  resize(cols: number, rows: number): void {
    this.sizes.push([cols, rows]);
  }
  output(port: 0 | 1, value: string): void {
    for (const listener of this.listeners[port]) listener(bytes(value));
  }
}

function consoles(): { consoles: GuestConsoles; timers: ReturnType<typeof heldTimers>; shell: string[]; serial: number[]; notes: string[]; sockets: string[] } {
  const timers = heldTimers();
  const shell: string[] = [];
  const serial: number[] = [];
  const notes: string[] = [];
  const sockets: string[] = [];
  const made = new GuestConsoles({
    serialByte: (byte) => serial.push(byte),
    shellOutput: (data) => shell.push(text(data)),
    agentNote: (note) => notes.push(note),
    sockets: (list) => sockets.push(list),
    lastConsoleLines: (count) => `last ${count} lines`,
    timers,
  });
  return { consoles: made, timers, shell, serial, notes, sockets };
}

const stopped = new VmFailure({ code: 'not-running', message: 'stopped' });

describe('GuestConsoles', () => {
  it('passes serial bytes on and batches shell output', () => {
    const { consoles: c, timers, shell, serial } = consoles();
    const wires = new FakeWires();
    c.attach(wires);
    for (const listener of wires.listeners.serial) listener(0x41);
    wires.output(0, 'hel');
    wires.output(0, 'lo');
    expect(shell).toEqual([]);
    timers.runAll();
    expect(shell).toEqual(['hello']);
    expect(serial).toEqual([0x41]);
  });

  it('feeds shell input only as fast as the guest posts buffers', () => {
    const { consoles: c, timers } = consoles();
    const wires = new FakeWires();
    c.attach(wires);
    wires.capacities[0] = 0;
    c.typeIntoShell('ls\n');
    expect(wires.sent[0]).toBe('');
    wires.capacities[0] = 2;
    timers.runAll();
    expect(wires.sent[0]).toBe('ls');
    wires.capacities[0] = 64;
    timers.runAll();
    expect(wires.sent[0]).toBe('ls\n');
  });

  it('holds shell input while a restored clock is set, then sends it in order', () => {
    const { consoles: c } = consoles();
    const wires = new FakeWires();
    c.attach(wires);
    c.holdShellInput();
    c.typeIntoShell('\n');
    c.typeIntoShell('date\n');
    expect(wires.sent[0]).toBe('');
    c.releaseShellInput();
    expect(wires.sent[0]).toBe('\ndate\n');
  });

  it('applies the terminal size once the console device exists, cols first for the host', () => {
    const { consoles: c } = consoles();
    const wires = new FakeWires();
    c.attach(wires);
    c.resize(120, 40);
    expect(wires.sizes).toEqual([]);
    c.devicesLoaded();
    c.resize(100, 30);
    expect(wires.sizes).toEqual([
      [120, 40],
      [100, 30],
    ]);
  });

  it('runs agent requests over hvc1 and reports its other lines and sockets', async () => {
    const { consoles: c, notes, sockets } = consoles();
    const wires = new FakeWires();
    c.attach(wires);
    wires.output(1, 'tabdock-agent ready\nstarting up\n');
    await c.agentReady('true', 1_000);
    const result = c.agent.exec('echo hi', 5_000);
    expect(wires.sent[1]).toBe(`1 5 ${btoa('echo hi')}\n`);
    wires.output(1, `1 0 ${btoa('hi\n')}\ntabdock-sockets ${btoa('0100007F:1F90')}\n`);
    expect(await result).toEqual({ output: 'hi\n', exitCode: 0 });
    expect(notes).toEqual(['starting up']);
    expect(sockets).toEqual(['0100007F:1F90']);
  });

  it('takes a restored agent as ready without a banner', async () => {
    const { consoles: c } = consoles();
    c.attach(new FakeWires());
    expect(c.agent.readyNow).toBe(false);
    c.agentWasReady();
    await c.agentReady('true', 1_000);
    expect(c.agent.readyNow).toBe(true);
  });

  it('gives up on an agent that never comes up with the last console lines', async () => {
    const { consoles: c } = consoles();
    c.attach(new FakeWires());
    await expect(c.agentReady('docker ps', 10)).rejects.toMatchObject({ code: 'exec-timeout', message: expect.stringContaining('`docker ps` was not run'), detail: 'last 30 lines' });
  });

  it('detaching fails the old agent, stops listening, and the next emulator gets its own agent and held input goes', async () => {
    const { consoles: c, shell, timers } = consoles();
    const first = new FakeWires();
    const attached = c.attach(first);
    first.output(1, 'tabdock-agent ready\n');
    const pending = c.agent.exec('sleep 100', 100_000);
    c.holdShellInput();
    c.typeIntoShell('typed before the failure\n');
    attached.detach(stopped);
    await expect(pending).rejects.toBe(stopped);
    first.output(0, 'late output');
    timers.runAll();
    expect(shell).toEqual([]);

    const second = new FakeWires();
    c.attach(second);
    expect(c.agent.readyNow).toBe(false);
    c.typeIntoShell('x');
    expect(second.sent[0]).toBe('x');
    second.output(1, 'tabdock-agent ready\n');
    await c.agentReady('true', 1_000);
    void c.agent.exec('true', 5_000);
    expect(first.sent[1]).toBe(`1 100 ${btoa('sleep 100')}\n`);
    expect(second.sent[1]).toBe(`1 5 ${btoa('true')}\n`);
  });
});
