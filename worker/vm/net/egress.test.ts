// egress.ts against a stand-in for v86's fetch adapter and TCP connections (the shapes of fake_network.js):
// DNS answers, which connections are claimed, parking until the far side answers, resets, and the bridge.
import type { V86 } from 'v86';
import { describe, expect, it } from 'vitest';
import { DNS_CLASS_IN, DNS_TYPE_A } from './dns-message.ts';
import { attachEgress, isClaimedByEgress } from './egress.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import type { EgressDialer, EgressState, EgressStream } from '../../shared/egress-dialer.ts';
import { parseUdpFrame, TCP_ACK, TCP_RST, udpFrame } from './ethernet-frames.ts';
import { FakeGuestSocket } from '../../testing/fake-socket.ts';

const GUEST_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const ROUTER_MAC = Uint8Array.of(0x52, 0x54, 0, 1, 2, 3);
const GUEST_IP = Uint8Array.of(192, 168, 86, 100);

class FakeConn {
  state = 'syn-received';
  seq = 1338;
  ack = 0;
  winsize = 64240;
  send_buffer = { length: 0 };
  written: Uint8Array[] = [];
  handlers: Record<string, (...args: unknown[]) => void> = {};
  accepted = 0;
  closed = 0;
  released = 0;
  hsrc = ROUTER_MAC;
  hdest = GUEST_MAC;
  pdest = GUEST_IP;
  dport = 40000;
  last = { tcp: { seq: 5000, winsize: 64240 } };
  constructor(
    readonly net: FakeAdapter,
    readonly psrc: Uint8Array,
    readonly sport: number,
  ) {}
  get tuple(): string {
    return `${[...GUEST_IP].join('.')}:${this.dport}:${[...this.psrc].join('.')}:${this.sport}`;
  }
  on(event: string, handler: (...args: unknown[]) => void) {
    this.handlers[event] = handler;
  }
  write(bytes: Uint8Array) {
    this.written.push(bytes);
  }
  close() {
    this.closed++;
  }
  release() {
    this.released++;
    this.state = 'closed';
    delete this.net.tcp_conn[this.tuple];
  }
  pump() {}
}
FakeConn.prototype.accept = function (this: FakeConn) {
  this.accepted++;
  this.state = 'established';
  this.ack = this.last.tcp.seq + 1;
};
interface FakeConn {
  accept(): void;
}

class FakeAdapter {
  router_mac = ROUTER_MAC;
  router_ip = Uint8Array.of(192, 168, 86, 1);
  tcp_conn: Record<string, unknown> = {};
  received: Uint8Array[] = [];
  forwarded: Uint8Array[] = [];
  fetch = async () => new Response();
  send(frame: Uint8Array) {
    this.forwarded.push(frame);
  }
  receive(frame: Uint8Array) {
    this.received.push(frame);
  }
}

function fakeEmulator() {
  const listeners: Record<string, Array<{ fn: (value: never) => void; this_value: unknown }>> = {};
  const adapter = new FakeAdapter();
  const bus = {
    listeners,
    register(name: string, fn: (value: never) => void) {
      (listeners[name] ??= []).push({ fn, this_value: undefined });
    },
    unregister(name: string, fn: (value: never) => void) {
      listeners[name] = (listeners[name] ?? []).filter((entry) => entry.fn !== fn);
    },
    send() {},
  };
  // v86's fetch adapter accepts port 80 in its own listener, registered first.
  bus.register('tcp-connection', ((conn: FakeConn) => {
    if (conn.sport === 80) conn.accept();
  }) as (value: never) => void);
  const emulator = { bus, network_adapter: adapter } as unknown as V86;
  /** What v86's handle_fake_tcp does for a SYN: emit, then reset unless someone put the tuple in tcp_conn. */
  const syn = (conn: FakeConn): 'reset' | 'kept' => {
    for (const { fn } of [...(listeners['tcp-connection'] ?? [])]) fn(conn as never);
    return adapter.tcp_conn[conn.tuple] ? 'kept' : 'reset';
  };
  return { emulator, adapter, syn };
}

class ScriptedStream implements EgressStream {
  written: Uint8Array[] = [];
  destroyed = false;
  buffered = 0;
  paused = false;
  drainListener: (() => void) | undefined;
  dataListener: ((bytes: Uint8Array) => void) | undefined;
  closeListener: ((error?: RelayRefusal) => void) | undefined;
  write(bytes: Uint8Array) {
    this.written.push(bytes);
  }
  end() {}
  destroy() {
    this.destroyed = true;
  }
  bufferedBytes() {
    return this.buffered;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  onData(listener: (bytes: Uint8Array) => void) {
    this.dataListener = listener;
  }
  onDrain(listener: () => void) {
    this.drainListener = listener;
  }
  onClose(listener: (error?: RelayRefusal) => void) {
    this.closeListener = listener;
  }
}

function scriptedDialer(state: EgressState = 'open') {
  const calls: Array<{ host: string; port: number; resolve: (stream: EgressStream) => void; reject: (error: Error) => void }> = [];
  const dialer: EgressDialer & { current: EgressState } = {
    description: 'test',
    current: state,
    state() {
      return this.current;
    },
    dial: (host, port) => new Promise((resolve, reject) => calls.push({ host, port, resolve, reject })),
    close() {},
  };
  return { dialer, calls };
}

function dnsQueryFrame(name: string, srcPort = 33333): Uint8Array {
  const bytes = [0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split('.')) bytes.push(label.length, ...[...label].map((c) => c.charCodeAt(0)));
  bytes.push(0, 0, DNS_TYPE_A, 0, DNS_CLASS_IN);
  return udpFrame(
    { srcMac: GUEST_MAC, dstMac: ROUTER_MAC, srcIp: GUEST_IP, dstIp: Uint8Array.of(192, 168, 86, 1), srcPort, dstPort: 53 },
    Uint8Array.from(bytes),
  );
}

function answeredAddress(frame: Uint8Array | undefined): string {
  const datagram = parseUdpFrame(frame!)!;
  expect(datagram.srcPort).toBe(53);
  expect(datagram.dstPort).toBe(33333);
  return [...datagram.payload.subarray(-4)].join('.');
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('egress', () => {
  it("answers the guest's DNS: its own address per name, 192.168.87.1 for shim names and while the relay is down", () => {
    const { emulator, adapter } = fakeEmulator();
    const { dialer } = scriptedDialer();
    const handle = attachEgress(emulator, { dialer, shimNames: ['mirror.tabdock.internal', 'registry.test:5000'] })!;
    adapter.send(dnsQueryFrame('example.com'));
    const first = answeredAddress(adapter.received.at(-1));
    expect(first).toMatch(/^198\.18\./);
    expect(handle.nameOf(first)).toBe('example.com');
    adapter.send(dnsQueryFrame('registry.test'));
    expect(answeredAddress(adapter.received.at(-1))).toBe('192.168.87.1');
    dialer.current = 'down';
    adapter.send(dnsQueryFrame('other.example'));
    expect(answeredAddress(adapter.received.at(-1))).toBe('192.168.87.1');
    // Frames that are not DNS queries go on to v86.
    adapter.send(Uint8Array.of(1, 2, 3));
    expect(adapter.forwarded).toHaveLength(1);
    expect(handle.stats().dnsAnswers).toBe(3);
  });

  it('parks a connection to a mapped name until the far side connects, then accepts and bridges it', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer, sendWindowBytes: 0 });
    adapter.send(dnsQueryFrame('example.com'));
    const address = Uint8Array.from(answeredAddress(adapter.received.at(-1)).split('.').map(Number));
    const conn = new FakeConn(adapter, address, 443);
    expect(syn(conn)).toBe('kept');
    expect(isClaimedByEgress(conn)).toBe(true);
    expect(conn.accepted).toBe(0);
    expect(calls[0]).toMatchObject({ host: 'example.com', port: 443 });
    const stream = new ScriptedStream();
    calls[0]!.resolve(stream);
    await tick();
    expect(conn.accepted).toBe(1);
    conn.handlers['data']!(Uint8Array.of(1, 2, 3));
    expect(stream.written).toEqual([Uint8Array.of(1, 2, 3)]);
    stream.dataListener!(Uint8Array.of(9));
    expect(conn.written).toEqual([Uint8Array.of(9)]);
    stream.closeListener!();
    expect(conn.closed).toBe(1);
  });

  it('takes port 80 of a mapped name away from v86 and the shim', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer });
    adapter.send(dnsQueryFrame('plain.example'));
    const address = Uint8Array.from(answeredAddress(adapter.received.at(-1)).split('.').map(Number));
    const conn = new FakeConn(adapter, address, 80);
    syn(conn);
    // v86's own port-80 listener ran after egress and its accept was a no-op.
    expect(conn.accepted).toBe(0);
    expect(calls[0]).toMatchObject({ host: 'plain.example', port: 80 });
  });

  it('leaves the shim 192.168.87.1, and plain HTTP to literal addresses while the relay is down', () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer, shimPorts: [80, 5000] });
    const shimPort = new FakeConn(adapter, Uint8Array.of(192, 168, 87, 1), 5000);
    syn(shimPort);
    expect(isClaimedByEgress(shimPort)).toBe(false);
    // Not the shim's port either: v86 resets it, as before egress.
    expect(syn(new FakeConn(adapter, Uint8Array.of(192, 168, 87, 1), 443))).toBe('reset');
    expect(calls).toHaveLength(0);
    // Literal addresses are relayed, port 80 included (the far side checks the address)...
    expect(syn(new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443))).toBe('kept');
    const literal80 = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 35), 80);
    syn(literal80);
    expect(literal80.accepted).toBe(0);
    expect(calls.map((call) => `${call.host}:${call.port}`)).toEqual(['93.184.216.34:443', '93.184.216.35:80']);
    // ...but while the relay is down, plain HTTP goes to the shim as before egress.
    dialer.current = 'down';
    const whileDown = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 36), 80);
    syn(whileDown);
    expect(isClaimedByEgress(whileDown)).toBe(false);
    expect(whileDown.accepted).toBe(1);
  });

  it('answers a refusal with a reset for the SYN and reports it', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    const notices: unknown[] = [];
    attachEgress(emulator, { dialer, onNotice: (notice) => notices.push(notice) });
    const conn = new FakeConn(adapter, Uint8Array.of(10, 0, 0, 1), 443);
    syn(conn);
    const before = adapter.received.length;
    calls[0]!.reject(new RelayRefusal('address-not-allowed', '10.0.0.1 is a private address'));
    await tick();
    const reset = adapter.received[before]!;
    const tcp = 14 + 20;
    expect(reset[tcp + 13]).toBe(TCP_RST | TCP_ACK);
    expect(new DataView(reset.buffer).getUint32(tcp + 8)).toBe(5001); // the SYN's sequence + 1
    expect(adapter.tcp_conn[conn.tuple]).toBeUndefined();
    expect(notices).toEqual([{ code: 'relay-refused', target: '10.0.0.1:443', message: '10.0.0.1 is a private address' }]);
  });

  it('resets at once a connection to a mapped address it does not know (e.g. from before a restore)', () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer });
    expect(syn(new FakeConn(adapter, Uint8Array.of(198, 18, 7, 7), 443))).toBe('reset');
    expect(calls).toHaveLength(0);
  });

  it('keeps one dial when the guest sends its SYN again, and accepts the newest connection object', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer });
    const first = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(first);
    const again = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(again);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve(new ScriptedStream());
    await tick();
    expect(again.accepted).toBe(1);
    expect(first.accepted).toBe(0);
  });

  it('gives up on a far side that does not answer, with a reset', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer } = scriptedDialer();
    const notices: Array<{ code: string }> = [];
    attachEgress(emulator, { dialer, dialTimeoutMs: 20, onNotice: (notice) => notices.push(notice) });
    const conn = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(conn);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(adapter.tcp_conn[conn.tuple]).toBeUndefined();
    expect(notices[0]?.code).toBe('relay-refused');
  });

  it('resets an open connection the relay closes with an error, when nothing is unacknowledged', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer, sendWindowBytes: 0 });
    const conn = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(conn);
    const stream = new ScriptedStream();
    calls[0]!.resolve(stream);
    await tick();
    const before = adapter.received.length;
    stream.closeListener!(new RelayRefusal('relay-unreachable', 'the relay dropped the connection'));
    expect(adapter.received[before]![14 + 20 + 13]).toBe(TCP_RST | TCP_ACK);
    expect(conn.released).toBe(1);
  });

  it('holds the guest back with a zero window while the relay is behind, and reopens it with a window update', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer, sendWindowBytes: 0, sendHighWaterBytes: 100 });
    const conn = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(conn);
    const stream = new ScriptedStream();
    calls[0]!.resolve(stream);
    await tick();
    stream.buffered = 500;
    conn.handlers['data']!(new Uint8Array(500));
    expect(conn.winsize).toBe(0);
    stream.buffered = 0;
    const before = adapter.received.length;
    stream.drainListener!();
    expect(conn.winsize).toBe(64240);
    const update = adapter.received[before]!;
    expect(update[14 + 20 + 13]).toBe(TCP_ACK);
    expect(new DataView(update.buffer).getUint16(14 + 20 + 14)).toBe(64240);
  });

  it('pauses the far side while the guest has not taken what it was sent, and resumes as it ACKs', async () => {
    const { emulator, adapter, syn } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    attachEgress(emulator, { dialer, sendWindowBytes: 0, receiveHighWaterBytes: 1000 });
    const conn = new FakeConn(adapter, Uint8Array.of(93, 184, 216, 34), 443);
    syn(conn);
    const stream = new ScriptedStream();
    calls[0]!.resolve(stream);
    await tick();
    conn.send_buffer.length = 1500;
    stream.dataListener!(new Uint8Array(1500));
    expect(stream.paused).toBe(true);
    conn.send_buffer.length = 100;
    conn.pump();
    expect(stream.paused).toBe(false);
  });

  it("resolves the worker's own services under tabdock.internal to the shim, host.tabdock.internal to the relay", () => {
    const { emulator, adapter } = fakeEmulator();
    const { dialer } = scriptedDialer();
    attachEgress(emulator, { dialer });
    adapter.send(dnsQueryFrame('proxy.tabdock.internal'));
    expect(answeredAddress(adapter.received.at(-1))).toBe('192.168.87.1');
    adapter.send(dnsQueryFrame('host.tabdock.internal'));
    expect(answeredAddress(adapter.received.at(-1))).toMatch(/^198\.18\./);
  });

  it('relays a stream accepted elsewhere (an HTTP CONNECT tunnel), answering before tunnel bytes flow, noticing only a relay that is down', async () => {
    const { emulator } = fakeEmulator();
    const { dialer, calls } = scriptedDialer();
    const notices: Array<{ code: string; target: string }> = [];
    const handle = attachEgress(emulator, { dialer, onNotice: (notice) => notices.push(notice) })!;
    const socket = new FakeGuestSocket();
    const events: string[] = [];
    handle.relayTcp(socket, 'registry.example', 443, { connected: () => events.push('200'), refused: (error) => events.push(error.code) });
    expect(calls[0]).toMatchObject({ host: 'registry.example', port: 443 });
    const stream = new ScriptedStream();
    calls[0]!.resolve(stream);
    await tick();
    expect(events).toEqual(['200']);
    socket.send('client hello');
    expect(new TextDecoder().decode(stream.written[0])).toBe('client hello');
    stream.dataListener!(new TextEncoder().encode('server hello'));
    expect(socket.outputText()).toBe('server hello');
    stream.closeListener!();
    expect(socket.closed).toBe(true);

    const refusedSocket = new FakeGuestSocket();
    handle.relayTcp(refusedSocket, '10.0.0.1', 443, { connected: () => events.push('200'), refused: (error) => events.push(error.code) });
    calls[1]!.reject(new RelayRefusal('address-not-allowed', 'private'));
    await tick();
    expect(events).toEqual(['200', 'address-not-allowed']);
    // The tunnel's requester prints the refusal; only a relay that cannot be reached at all is a notice.
    expect(notices).toEqual([]);
    const downSocket = new FakeGuestSocket();
    handle.relayTcp(downSocket, 'registry.example', 443, { connected: () => events.push('200'), refused: (error) => events.push(error.code) });
    calls[2]!.reject(new RelayRefusal('relay-unreachable', 'the relay is down'));
    await tick();
    expect(notices.map((notice) => [notice.code, notice.target])).toEqual([['relay-unreachable', 'registry.example:443']]);
    downSocket.dispose();
    socket.dispose();
    refusedSocket.dispose();
  });
});
