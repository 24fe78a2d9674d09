// Egress: every guest TCP connection the registry shim does not serve is carried out by an EgressDialer (a Wisp
// relay in the browser, node:net in Node). The worker answers the guest's DNS itself: names the shim serves get
// 192.168.87.1 as before, every other name an address of its own (fake-ip-names.ts), mapped back to the name
// when the guest connects, so the far side resolves and checks it. While the relay is down every name gets
// 192.168.87.1 again, and the guest behaves as it did without egress (pulls through the shim).
//
// A guest connection is answered only once the far side connected: v86 would reset a SYN nobody accepts
// synchronously, so the connection is parked in v86's table (no SYN-ACK yet) and accepted or reset later.
import type { V86 } from 'v86';
import { internalsOf, prependBusListener, type V86FetchNetworkAdapter } from '../v86-internals.ts';
import { buildDnsResponse, parseDnsQuery, RCODE_SERVFAIL } from './dns-message.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import type { EgressDialer, EgressStream } from '../../shared/egress-dialer.ts';
import { relayGuestSocket, type RelayReply } from './egress-guest-socket.ts';
import type { GuestSocket } from './guest-socket.ts';
import { bridgeConnection, endpointsOf, type BridgeCounters, type V86EgressConnection } from './egress-bridge.ts';
import { ipv4ToString, parseUdpFrame, tcpFrame, TCP_ACK, TCP_RST, udpFrame, type Endpoints } from './ethernet-frames.ts';
import { FakeIpNames, ipv4ToNumber, isFakeIp, numberToIpv4 } from './fake-ip-names.ts';

export type { V86EgressConnection } from './egress-bridge.ts';

/** The address every shim name resolves to (v86's own fake DNS answer; daemon.json's insecure range). */
export const SHIM_ADDRESS = Uint8Array.of(192, 168, 87, 1);
/** The worker's own services live under this domain (mirror., proxy.); host. is the relay host's loopback. */
const WORKER_DOMAIN = '.tabdock.internal';
const HOST_ALIAS = 'host.tabdock.internal';
const SHIM_ADDRESS_NUMBER = ipv4ToNumber(SHIM_ADDRESS);
const DNS_PORT = 53;

export type EgressNoticeCode = 'relay-unreachable' | 'relay-refused';

export interface EgressNotice {
  code: EgressNoticeCode;
  /** host:port the guest asked for. */
  target: string;
  message: string;
}

export interface EgressConfig {
  dialer: EgressDialer;
  /** Names the shim serves (mirror names, hostRewrites): they resolve to 192.168.87.1. */
  shimNames?: readonly string[];
  /** Ports the shim serves on 192.168.87.1, and on literal addresses while the relay is down (80, extraPorts). */
  shimPorts?: readonly number[];
  onNotice?: (notice: EgressNotice) => void;
  /** Bytes in flight towards the guest (v86-send-window.ts); 0 keeps v86's one segment per ACK. */
  sendWindowBytes?: number;
  /** Relay data waiting for the guest beyond which the stream is paused. */
  receiveHighWaterBytes?: number;
  /** Guest data waiting for the relay beyond which the guest is told to stop sending (zero window). */
  sendHighWaterBytes?: number;
  /** How long a connection waits for the far side before the guest gets a reset. */
  dialTimeoutMs?: number;
}

export interface EgressStats extends BridgeCounters {
  dnsAnswers: number;
  relayed: number;
  refused: number;
}

export interface EgressHandle {
  detach(): void;
  stats(): EgressStats;
  /**
   * Relays a guest stream something else accepted (the HTTP CONNECT tunnel of the guest's proxy port) to
   * host:port, through the same dialer, policy and notices as a direct connection. With `reply`, it learns
   * whether to answer 200 or an error before any tunnel bytes flow, and its refusals raise no notice (the
   * requester reports them) unless the relay itself is unreachable; without, a refusal closes the socket.
   */
  relayTcp(socket: GuestSocket, host: string, port: number, reply?: RelayReply): void;
  /** The name a guest address stands for (tests). */
  nameOf(address: string): string | undefined;
}

const claimed = new WeakSet<object>();

/** True for connections egress took: the shim (index.ts) must leave them alone even on its ports. */
export function isClaimedByEgress(conn: object): boolean {
  return claimed.has(conn);
}

export function attachEgress(emulator: V86, config: EgressConfig): EgressHandle | undefined {
  const adapter = internalsOf(emulator).network_adapter;
  if (!adapter || typeof adapter.send !== 'function' || typeof adapter.receive !== 'function') return undefined;
  const dialer = config.dialer;
  const names = new FakeIpNames();
  const shimNames = new Set((config.shimNames ?? []).map((name) => name.toLowerCase().replace(/:\d+$/, '')));
  const shimPorts = new Set(config.shimPorts ?? [80]);
  const receiveHighWater = config.receiveHighWaterBytes ?? 1024 * 1024;
  const sendHighWater = config.sendHighWaterBytes ?? 1024 * 1024;
  const dialTimeoutMs = config.dialTimeoutMs ?? 30_000;
  const stats: EgressStats = { dnsAnswers: 0, relayed: 0, refused: 0, open: 0, bytesToGuest: 0, bytesFromGuest: 0 };
  /** Connections waiting for the far side, by v86 tuple; a retransmitted SYN brings a new object for the tuple. */
  const parked = new Map<string, { conn: V86EgressConnection }>();

  const originalSend = adapter.send;
  const hadOwnSend = Object.prototype.hasOwnProperty.call(adapter, 'send');
  adapter.send = function egressSend(this: unknown, frame: Uint8Array): void {
    if (answerDns(frame)) return;
    originalSend.call(adapter, frame);
  };

  function answerDns(frame: Uint8Array): boolean {
    const datagram = parseUdpFrame(frame);
    if (!datagram || datagram.dstPort !== DNS_PORT) return false;
    const query = parseDnsQuery(datagram.payload);
    // Not a query we understand: v86's own handler answers as before.
    if (!query) return false;
    const relayDown = dialer.state() === 'down';
    const response = buildDnsResponse(
      query,
      (question) => {
        if (question.name === '' || relayDown || shimNames.has(question.name)) return SHIM_ADDRESS;
        if (question.name.endsWith(WORKER_DOMAIN) && question.name !== HOST_ALIAS) return SHIM_ADDRESS;
        return numberToIpv4(names.addressOf(question.name));
      },
      query.questions.length === 1 ? {} : { rcode: RCODE_SERVFAIL },
    );
    const ends: Endpoints = {
      srcMac: adapter!.router_mac,
      dstMac: datagram.srcMac,
      srcIp: datagram.dstIp,
      dstIp: datagram.srcIp,
      srcPort: DNS_PORT,
      dstPort: datagram.srcPort,
    };
    stats.dnsAnswers++;
    adapter!.receive(udpFrame(ends, response));
    return true;
  }

  const onConnection = (raw: unknown) => {
    const conn = raw as V86EgressConnection;
    if (!conn.psrc || typeof conn.tuple !== 'string') return;
    const destination = ipv4ToNumber(conn.psrc);
    const port = conn.sport;
    const earlier = parked.get(conn.tuple);
    if (earlier) {
      // The guest sent its SYN again while the far side is still connecting: park the new object instead.
      park(conn);
      earlier.conn = conn;
      return;
    }
    let host: string | undefined;
    if (isFakeIp(destination)) {
      host = names.nameOf(destination);
      if (host === undefined) {
        // An address from before a restore, or one the table gave away since: nothing to connect to.
        park(conn);
        resetParked(conn);
        return;
      }
    } else if (destination === SHIM_ADDRESS_NUMBER || (shimPorts.has(port) && dialer.state() === 'down')) {
      // The shim's address, or (relay down) plain HTTP to a literal address, which the shim forwards by Host.
      return;
    } else {
      host = ipv4ToString(conn.psrc);
    }
    park(conn);
    const entry = { conn };
    parked.set(conn.tuple, entry);
    void connect(entry, host, port);
  };

  function park(conn: V86EgressConnection): void {
    claimed.add(conn);
    // v86's port-80 fetch handler runs after this one and would accept at once; its accept becomes a no-op
    // until the far side answers (an own property shadows the prototype's).
    conn.accept = () => undefined;
    adapter!.tcp_conn[conn.tuple] = conn;
  }

  function resetParked(conn: V86EgressConnection): void {
    const synSeq = conn.last?.tcp?.seq ?? 0;
    // RFC 9293 3.10.7.3: a reset for a SYN carries ACK = the SYN's sequence + 1 and sequence 0.
    adapter!.receive(tcpFrame(endpointsOf(conn), { seq: 0, ack: (synSeq + 1) >>> 0, flags: TCP_RST | TCP_ACK, window: 0 }));
    delete adapter!.tcp_conn[conn.tuple];
    stats.refused++;
  }

  async function connect(entry: { conn: V86EgressConnection }, host: string, port: number): Promise<void> {
    const target = `${host}:${port}`;
    let guestGaveUp = false;
    entry.conn.on('close', () => {
      guestGaveUp = true;
    });
    let stream: EgressStream;
    try {
      stream = await withDeadline(
        dialer.dial(host, port),
        dialTimeoutMs,
        () => new RelayRefusal('connect-timeout', `${target} did not answer within ${Math.round(dialTimeoutMs / 1000)} s`),
        // A stream that arrives after the guest got its reset is closed at once.
        (late) => late.destroy(),
      );
    } catch (error) {
      parked.delete(entry.conn.tuple);
      if (!guestGaveUp) resetParked(entry.conn);
      notify(target, error);
      return;
    }
    parked.delete(entry.conn.tuple);
    const conn = entry.conn;
    if (guestGaveUp || adapter!.tcp_conn[conn.tuple] !== conn) {
      stream.destroy();
      return;
    }
    delete (conn as Partial<V86EgressConnection>).accept;
    conn.accept();
    stats.relayed++;
    bridgeConnection(conn, stream, {
      receiveHighWaterBytes: receiveHighWater,
      sendHighWaterBytes: sendHighWater,
      ...(config.sendWindowBytes === undefined ? {} : { sendWindowBytes: config.sendWindowBytes }),
      counters: stats,
      onError: (error) => notify(target, error),
    });
  }

  function notify(target: string, error: unknown): void {
    if (!config.onNotice) return;
    const refusal = error instanceof RelayRefusal ? error : new RelayRefusal('connect-failed', error instanceof Error ? error.message : String(error));
    config.onNotice({
      code: refusal.code === 'relay-unreachable' ? 'relay-unreachable' : 'relay-refused',
      target,
      message: refusal.message,
    });
  }

  const removeListener = prependBusListener(emulator, 'tcp-connection', onConnection as never);
  return {
    detach() {
      removeListener();
      if (hadOwnSend) adapter.send = originalSend;
      else delete (adapter as Partial<V86FetchNetworkAdapter>).send;
    },
    stats: () => ({ ...stats }),
    relayTcp(socket, host, port, reply) {
      stats.relayed++;
      // With a reply the requester (dockerd's CONNECT) prints the refusal itself: a page notice would repeat it
      // and blame "a container". That the relay is down at all is still said once.
      const onRefused = (target: string, error: RelayRefusal) => {
        if (!reply || error.code === 'relay-unreachable') notify(target, error);
      };
      relayGuestSocket(dialer, socket, host, port, reply, { onRefused });
    },
    nameOf: (address) => names.nameOf(ipv4ToNumber(address.split('.').map(Number))),
  };
}
