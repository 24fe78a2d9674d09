// How much the relay holds for a stream (#24 item 4): upload bytes are counted when their DATA packet arrives,
// against the stream's credit (a client that sends past it loses its session) and the client's byte budget and
// queue share; a closed session frees at once what it held; a client that stops reading holds its targets back.
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import { dataPacket, RawWispClient } from '../../testing/raw-wisp-client.ts';
import { startSinkTarget, type TcpTarget } from '../../testing/tcp-targets.ts';
import { createWispRelay, type WispRelay, type WispRelayOptions } from './wisp-relay.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

/** A TCP server that accepts and never reads: its kernel buffers fill, then the relay's writes wait. */
let sink: TcpTarget;
let sinkPort: number;
/** A TCP server that writes up to 64 MiB to each connection as fast as it is taken, counting what was taken. */
let source: net.Server;
let sourcePort: number;
let sourceTaken = 0;

beforeAll(async () => {
  sink = await startSinkTarget();
  sinkPort = sink.port;
  source = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * KIB, 0x61);
    const pump = () => {
      while (sourceTaken < 64 * MIB && !socket.destroyed) {
        sourceTaken += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  sourcePort = (source.address() as AddressInfo).port;
});

afterAll(async () => {
  await sink.close();
  await new Promise<void>((resolve) => source.close(() => resolve()));
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startRelay(options: WispRelayOptions = {}): Promise<{ url: string; relay: WispRelay }> {
  const relay = createWispRelay({ allowedOrigins: '*', ...options, policy: { hostPorts: [sinkPort, sourcePort], ...options.policy } });
  const server: Server = createServer((req, res) => {
    if (!relay.handleHttp(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        relay.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/wisp/`, relay };
}

async function client(url: string): Promise<RawWispClient> {
  const opened = await RawWispClient.open(url);
  cleanups.push(() => opened.ws.terminate());
  return opened;
}

/** `count` DATA packets of `size` bytes on one stream, sent without waiting for credit. */
function push(wisp: RawWispClient, streamId: number, count: number, size = 64 * KIB): void {
  const payload = new Uint8Array(size);
  for (let i = 0; i < count; i++) wisp.send(dataPacket(streamId, payload));
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('relay flow control', () => {
  it('ends the session of a client that sends past its stream credit', async () => {
    // A queue share large enough that the credit, not the share, is what the client runs into.
    const { url } = await startRelay({ policy: { maxQueuedBytesPerClient: 64 * MIB } });
    const wisp = await client(url);
    expect(await wisp.openStream(1, 'host.tabdock.internal', sinkPort)).toBe('confirmed');
    // The credit is 128 packets (twice that is tolerated for packets already in flight); 400 of 64 KiB is 25 MiB.
    push(wisp, 1, 400);
    const code = await Promise.race([wisp.closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000))]);
    expect(code).toBe(1008);
  });

  it('counts upload bytes against the byte budget when they arrive, not when the target takes them', async () => {
    const { url, relay } = await startRelay({ policy: { maxBytesPerClient: 6 * MIB } });
    const wisp = await client(url);
    expect(await wisp.openStream(1, 'host.tabdock.internal', sinkPort)).toBe('confirmed');
    // 8 MiB within the credit, to a target that reads none of it (its kernel takes a few MiB).
    push(wisp, 1, 128);
    expect(await wisp.closeReason(1)).toBe(WISP_CLOSE.ConnThrottled);
    expect(relay.ledger.snapshot('127.0.0.1').bytes).toBeGreaterThan(6 * MIB);
  });

  it("closes a stream once the client's data waiting for slow targets passes its share", async () => {
    const { url, relay } = await startRelay({ policy: { maxQueuedBytesPerClient: 1 * MIB } });
    const wisp = await client(url);
    expect(await wisp.openStream(1, 'host.tabdock.internal', sinkPort)).toBe('confirmed');
    push(wisp, 1, 128);
    expect(await wisp.closeReason(1)).toBe(WISP_CLOSE.ConnThrottled);
    // The session goes on: only the stream that filled the share was closed, and what it held is released.
    expect(await wisp.openStream(3, 'host.tabdock.internal', sinkPort)).toBe('confirmed');
    await eventually(() => relay.ledger.queuedBytes() === 0);
    expect(relay.ledger.queuedBytes()).toBe(0);
  });

  it('lets go of a closed session at once: its target connections close and nothing stays queued', async () => {
    const { url, relay } = await startRelay();
    const wisp = await client(url);
    expect(await wisp.openStream(1, 'host.tabdock.internal', sinkPort)).toBe('confirmed');
    push(wisp, 1, 128);
    await eventually(() => relay.ledger.queuedBytes() > 0);
    wisp.ws.terminate();
    // Not after the 5-minute idle timeout: the target connection, which will never take what it was sent, is
    // dropped with the session (its stream slot is released when its socket has closed).
    await eventually(() => relay.ledger.snapshot('127.0.0.1').streams === 0);
    expect(relay.sessions()).toBe(0);
    expect(relay.ledger.snapshot('127.0.0.1')).toMatchObject({ sessions: 0, streams: 0, queued: 0 });
    expect(relay.ledger.queuedBytes()).toBe(0);
  });

  it('holds a target back while the client does not read its WebSocket', async () => {
    const { url } = await startRelay();
    const wisp = await client(url);
    sourceTaken = 0;
    expect(await wisp.openStream(1, 'host.tabdock.internal', sourcePort)).toBe('confirmed');
    wisp.ws.pause();
    // Unheld, the whole 64 MiB is taken in well under this.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Kernel buffers on both hops take some MiB; the relay itself must not soak up the rest of the 64 MiB.
    expect(sourceTaken).toBeLessThan(24 * MIB);
  });
});
