// Unit tests for the guest agent protocol: framing, split replies, timeouts, and failing pending calls.
import { describe, expect, it } from 'vitest';
import { VmFailure } from '../shared/contract.ts';
import { AGENT_OUTPUT_CAP_BYTES, GuestAgent, decodeBase64, encodeBase64, encodeRequest, parseAgentLine } from './guest-agent.ts';

const enc = new TextEncoder();
const b64 = (text: string) => encodeBase64(enc.encode(text));

function fakeClock() {
  let nowMs = 0;
  const timers = new Map<number, { atMs: number; callback: () => void }>();
  let nextId = 1;
  return {
    now: () => nowMs,
    timers: {
      setTimeout: (callback: () => void, delayMs: number) => {
        timers.set(nextId, { atMs: nowMs + delayMs, callback });
        return nextId++;
      },
      clearTimeout: (handle: unknown) => void timers.delete(handle as number),
    },
    advance(ms: number) {
      nowMs += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.atMs <= nowMs) {
          timers.delete(id);
          timer.callback();
        }
      }
    },
  };
}

describe('agent wire format', () => {
  it('encodes a request as id, timeout in seconds and base64 UTF-8', () => {
    const line = encodeRequest(7, 30, 'echo héllo');
    expect(line).toBe(`7 30 ${b64('echo héllo')}\n`);
    expect(new TextDecoder().decode(decodeBase64(line.trim().split(' ')[2]!))).toBe('echo héllo');
  });

  it('parses pushed sockets lines, empty or not, and reports undecodable ones as other', () => {
    expect(parseAgentLine(`tabdock-sockets ${b64('00000000:1F90\n')}`)).toEqual({ kind: 'sockets', sockets: '00000000:1F90\n' });
    expect(parseAgentLine('tabdock-sockets ')).toEqual({ kind: 'sockets', sockets: '' });
    expect(parseAgentLine('tabdock-sockets A')).toMatchObject({ kind: 'other' });
  });

  it('parses replies, the banner, CRLF endings and empty output', () => {
    expect(parseAgentLine(`3 0 ${b64('ok\n')}`)).toEqual({ kind: 'reply', id: 3, exitCode: 0, output: 'ok\n' });
    expect(parseAgentLine(`4 3 ${b64('x')}\r`)).toEqual({ kind: 'reply', id: 4, exitCode: 3, output: 'x' });
    expect(parseAgentLine('5 1 ')).toEqual({ kind: 'reply', id: 5, exitCode: 1, output: '' });
    expect(parseAgentLine('5 1')).toEqual({ kind: 'reply', id: 5, exitCode: 1, output: '' });
    expect(parseAgentLine('tabdock-agent ready\r')).toEqual({ kind: 'ready' });
    expect(parseAgentLine('agent: something odd')).toEqual({ kind: 'other', text: 'agent: something odd' });
  });

  it('cuts output the agent sent past its cap, and says so', () => {
    const overCap = new Uint8Array(AGENT_OUTPUT_CAP_BYTES + 1).fill(0x61);
    const cut = parseAgentLine(`7 141 ${encodeBase64(overCap)}`);
    expect(cut).toMatchObject({ kind: 'reply', id: 7, exitCode: 141 });
    const output = cut.kind === 'reply' ? cut.output : '';
    expect(output.startsWith('a'.repeat(1000))).toBe(true);
    expect(output).toBe(`${'a'.repeat(AGENT_OUTPUT_CAP_BYTES)}\n[tabdock-agent: output truncated at ${AGENT_OUTPUT_CAP_BYTES} bytes]\n`);
    const atCap = parseAgentLine(`8 0 ${encodeBase64(overCap.subarray(1))}`);
    expect(atCap.kind === 'reply' ? atCap.output.length : -1).toBe(AGENT_OUTPUT_CAP_BYTES);
  });

  it('round-trips large binary-ish output through base64', () => {
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
    const back = decodeBase64(encodeBase64(bytes));
    expect(back.length).toBe(bytes.length);
    expect(back.findIndex((byte, i) => byte !== bytes[i])).toBe(-1);
  });
});

describe('GuestAgent', () => {
  it('becomes ready on the banner and matches replies split across chunks to their requests', async () => {
    const clock = fakeClock();
    const written: string[] = [];
    const agent = new GuestAgent({ write: (b) => written.push(new TextDecoder().decode(b)), timers: clock.timers, now: clock.now });
    agent.receive(enc.encode('tabdock-agent re'));
    expect(agent.readyNow).toBe(false);
    agent.receive(enc.encode('ady\n'));
    await agent.ready;
    const first = agent.exec('docker version', 60_000);
    const second = agent.exec('exit 3', 60_000);
    expect(written).toEqual([`1 60 ${b64('docker version')}\n`, `2 60 ${b64('exit 3')}\n`]);
    const reply = `2 3 ${b64('')}\n1 0 ${b64('Client: 20.10\n')}\n`;
    for (const char of reply) agent.receive(enc.encode(char));
    await expect(first).resolves.toEqual({ exitCode: 0, output: 'Client: 20.10\n' });
    await expect(second).resolves.toEqual({ exitCode: 3, output: '' });
  });

  it('rejects with exec-timeout when no reply comes, naming the command and the limit', async () => {
    const clock = fakeClock();
    const agent = new GuestAgent({ write: () => undefined, timers: clock.timers, now: clock.now, graceMs: 1000 });
    const pending = agent.exec('sleep 999', 5_000);
    clock.advance(6_000);
    await expect(pending).rejects.toMatchObject({ code: 'exec-timeout', message: expect.stringMatching(/sleep 999.*5 s/) });
  });

  it('treats exit 124 at the limit as the guest-side timeout, but not a quick 124', async () => {
    const clock = fakeClock();
    const agent = new GuestAgent({ write: () => undefined, timers: clock.timers, now: clock.now });
    const slow = agent.exec('sleep 10', 2_000);
    clock.advance(2_000);
    agent.receive(enc.encode(`1 124 ${b64('partial')}\n`));
    await expect(slow).rejects.toMatchObject({ code: 'exec-timeout', detail: 'partial' });
    const quick = agent.exec('exit 124', 2_000);
    agent.receive(enc.encode(`2 124 ${b64('')}\n`));
    await expect(quick).resolves.toEqual({ exitCode: 124, output: '' });
  });

  it('ignores a tty echo of its own request', async () => {
    const agent = new GuestAgent({ write: (bytes) => agent.receive(bytes) });
    const pending = agent.exec('echo hi', 60_000);
    agent.receive(enc.encode(`1 0 ${b64('hi\n')}\r\n`));
    await expect(pending).resolves.toEqual({ exitCode: 0, output: 'hi\n' });
  });

  it('fails every pending call at once', async () => {
    const agent = new GuestAgent({ write: () => undefined });
    const pending = agent.exec('true', 60_000);
    agent.failAll(new VmFailure({ code: 'not-running', message: 'stopped' }));
    await expect(pending).rejects.toMatchObject({ code: 'not-running' });
  });

  it('reports lines it does not understand', () => {
    const other: string[] = [];
    const agent = new GuestAgent({ write: () => undefined, onOtherLine: (t) => other.push(t) });
    agent.receive(enc.encode('agent: bad request\n9 0 \n'));
    expect(other).toEqual(['agent: bad request', 'reply for unknown request 9']);
  });

  it('passes on the sockets the agent pushes, split across chunks, between replies', async () => {
    const sockets: string[] = [];
    const other: string[] = [];
    const written: string[] = [];
    const agent = new GuestAgent({ write: (bytes) => written.push(new TextDecoder().decode(bytes)), onSockets: (s) => sockets.push(s), onOtherLine: (t) => other.push(t) });
    agent.receive(enc.encode('tabdock-agent ready\n'));
    const pending = agent.exec('true', 5_000);
    const line = `tabdock-sockets ${b64('00000000:1F90\n0100007F:0035\n')}\n`;
    agent.receive(enc.encode(line.slice(0, 10)));
    agent.receive(enc.encode(`${line.slice(10)}1 0 \ntabdock-sockets \r\n`));
    await expect(pending).resolves.toEqual({ output: '', exitCode: 0 });
    expect(sockets).toEqual(['00000000:1F90\n0100007F:0035\n', '']);
    expect(other).toEqual([]);

    agent.requestSockets();
    expect(written.at(-1)).toBe('sockets\n');
  });
});

describe('setting the guest clock', () => {
  it('sends the host time to the millisecond and resolves with the exit code of the answer', async () => {
    const clock = fakeClock();
    clock.advance(1_700_000_000_123);
    const written: string[] = [];
    const agent = new GuestAgent({ write: (bytes) => written.push(new TextDecoder().decode(bytes)), timers: clock.timers, now: clock.now });
    const first = agent.setClock(5000);
    const second = agent.setClock(5000);
    expect(written).toEqual(['clock 1700000000.123\n', 'clock 1700000000.123\n']);
    expect(parseAgentLine('tabdock-clock 0')).toEqual({ kind: 'clock', exitCode: 0 });
    agent.receive(enc.encode('tabdock-clock 0\ntabdock-clock 1\n'));
    await expect(first).resolves.toBe(0);
    await expect(second).resolves.toBe(1);
  });

  it('gives up when the agent does not answer in time, and a late answer goes nowhere', async () => {
    const clock = fakeClock();
    const agent = new GuestAgent({ write: () => undefined, timers: clock.timers, now: clock.now });
    const setting = agent.setClock(5000);
    clock.advance(5000);
    await expect(setting).rejects.toMatchObject({ code: 'exec-timeout' });
    expect(() => agent.receive(enc.encode('tabdock-clock 0\n'))).not.toThrow();
  });
});
