// A bounded soak of the relay (#24, "What must exist"): 8 clients (8 loopback addresses, so 8 keys for the relay's
// per-client books) open 64 streams each and push into targets that never read, through `npm run proxy` running in
// a child process, twice. The relay's resident memory (the child's, from /proc) must stay under a stated bound
// while they push, and within seconds of the second round's sessions closing be back near where it was after the
// first: what a round leaves held (the old relay kept each target socket and its buffers until the 5-minute idle
// timeout) would show as growth from round to round. Measured after a full garbage collection (V8 collects only
// under pressure, so an idle relay may keep dead buffers indefinitely), and against the first round rather than the
// fresh process, because freed memory is kept for reuse, not given back (V8's heap, glibc's arenas).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPacket, RawWispClient } from '../../testing/raw-wisp-client.ts';
import { startServerProcess, type ServerProcess } from '../../testing/server-process.ts';
import { startSinkTarget, type TcpTarget } from '../../testing/tcp-targets.ts';

const MIB = 1024 * 1024;
const CLIENTS = 8;
const STREAMS_PER_CLIENT = 64;
/** Within the relay's 128-packet credit per stream: these clients keep to the protocol. */
const PACKETS_PER_STREAM = 16;
const PACKET_BYTES = 16 * 1024;
/** The stated bounds: growth over the fresh relay while pushing (each round pushes 128 MiB), and growth from round to round. */
const PEAK_GROWTH_BOUND_BYTES = 128 * MIB;
const ROUND_GROWTH_BOUND_BYTES = 16 * MIB;
/** And what a fresh relay may have grown by once both rounds are over: what it keeps for reuse. */
const SETTLED_GROWTH_BOUND_BYTES = 96 * MIB;
const SETTLE_TIMEOUT_MS = 5000;

let sink: TcpTarget;
let sinkPort: number;
let relay: ServerProcess;

beforeAll(async () => {
  sink = await startSinkTarget();
  sinkPort = sink.port;
  relay = await startServerProcess('proxy', { env: { TABDOCK_ALLOW_HOST_PORTS: String(sinkPort) }, gcOnSignal: true });
}, 30_000);

afterAll(async () => {
  await relay.stop();
  await sink.close();
});

function drained(clients: RawWispClient[]): Promise<void> {
  return new Promise((resolve) => {
    const look = () => (clients.every((client) => client.ws.bufferedAmount === 0) ? resolve() : setTimeout(look, 50));
    look();
  });
}

/** One round: every client opens its streams, pushes, and closes; returns the highest RSS seen meanwhile. */
async function round(url: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => RawWispClient.open(url, { localAddress: `127.0.0.${i + 1}` })));
  const answers = await Promise.all(
    clients.flatMap((client) => Array.from({ length: STREAMS_PER_CLIENT }, (_, s) => client.openStream(2 * s + 1, 'host.tabdock.internal', sinkPort))),
  );
  expect(answers.filter((answer) => answer !== 'confirmed')).toEqual([]);
  let peak = relay.rssBytes();
  const sampler = setInterval(() => {
    peak = Math.max(peak, relay.rssBytes());
  }, 50);
  const payload = new Uint8Array(PACKET_BYTES);
  for (let p = 0; p < PACKETS_PER_STREAM; p++) {
    for (const client of clients) for (let s = 0; s < STREAMS_PER_CLIENT; s++) client.send(dataPacket(2 * s + 1, payload));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await drained(clients);
  await new Promise((resolve) => setTimeout(resolve, 300));
  clearInterval(sampler);
  for (const client of clients) client.ws.terminate();
  return Math.max(peak, relay.rssBytes());
}

describe('relay soak', () => {
  it(`holds ${CLIENTS} clients x ${STREAMS_PER_CLIENT} streams pushing into targets that never read within a bound, and lets go after`, async () => {
    const url = relay.relayUrl();
    const started = Date.now();
    await relay.collectGarbage();
    const fresh = relay.rssBytes();
    const firstPeak = await round(url);
    await relay.collectGarbage();
    const afterFirst = relay.rssBytes();
    const secondPeak = await round(url);
    const closedAt = Date.now();
    await relay.collectGarbage();
    let settled = relay.rssBytes();
    while (settled - afterFirst >= ROUND_GROWTH_BOUND_BYTES && Date.now() - closedAt < SETTLE_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await relay.collectGarbage();
      settled = relay.rssBytes();
    }
    const mib = (bytes: number) => +(bytes / MIB).toFixed(1);
    const report = {
      freshMiB: mib(fresh),
      firstPeakMiB: mib(firstPeak),
      afterFirstMiB: mib(afterFirst),
      secondPeakMiB: mib(secondPeak),
      settledMiB: mib(settled),
      settleMs: Date.now() - closedAt,
      totalMs: Date.now() - started,
    };
    console.log(`relay soak: ${JSON.stringify(report)}`);
    expect(relay.exit(), relay.output()).toBeUndefined();
    expect(Math.max(firstPeak, secondPeak) - fresh, JSON.stringify(report)).toBeLessThan(PEAK_GROWTH_BOUND_BYTES);
    expect(settled - afterFirst, JSON.stringify(report)).toBeLessThan(ROUND_GROWTH_BOUND_BYTES);
    expect(settled - fresh, JSON.stringify(report)).toBeLessThan(SETTLED_GROWTH_BOUND_BYTES);
  }, 60_000);
});
