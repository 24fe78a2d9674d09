// Fuzz, both ends of the Wisp link: generated garbage, truncated and mutated packets, and abrupt closes must
// neither crash the relay nor the worker's dialer (vitest fails a run on any uncaught error), nor leak sessions
// or streams, nor leave a dial hanging; afterwards both still carry a normal stream. Seeded, so reproducible.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { packet } from '@mercuryworkshop/wisp-js/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { prng } from '../../testing/prng.ts';
import { startEchoTarget, type TcpTarget } from '../../testing/tcp-targets.ts';
import { WispDialer } from '../../vm/net/wisp-dialer.ts';
import { createWispRelay, type WispRelay } from './wisp-relay.ts';

function bytesOf(p: InstanceType<typeof packet.WispPacket>): Uint8Array {
  return p.serialize().bytes;
}

function connectPacket(streamId: number, host: string, port: number): Uint8Array {
  return bytesOf(
    new packet.WispPacket({
      type: packet.ConnectPayload.type,
      stream_id: streamId,
      payload: new packet.ConnectPayload({ stream_type: packet.stream_types.TCP, port, hostname: host }),
    }),
  );
}

function dataPacket(streamId: number, data: Uint8Array): Uint8Array {
  return bytesOf(new packet.WispPacket({ type: packet.DataPayload.type, stream_id: streamId, payload: new packet.DataPayload({ data: new packet.WispBuffer(data) }) }));
}

function continuePacket(streamId: number, remaining: number): Uint8Array {
  return bytesOf(new packet.WispPacket({ type: packet.ContinuePayload.type, stream_id: streamId, payload: new packet.ContinuePayload({ buffer_remaining: remaining }) }));
}

function closePacket(streamId: number, reason: number): Uint8Array {
  return bytesOf(new packet.WispPacket({ type: packet.ClosePayload.type, stream_id: streamId, payload: new packet.ClosePayload({ reason }) }));
}

/** One generated frame: garbage, a truncated or bit-flipped real packet, or a real one with odd fields. */
function fuzzFrame(random: () => number, echoPort: number): Uint8Array | string {
  const streamId = Math.floor(random() * 6);
  const real = [
    () => connectPacket(streamId, 'host.tabdock.internal', echoPort),
    () => connectPacket(streamId, random() < 0.5 ? '' : 'x'.repeat(Math.floor(random() * 300)), Math.floor(random() * 70000)),
    () => dataPacket(streamId, Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
    () => continuePacket(streamId, Math.floor(random() * 1000)),
    () => closePacket(streamId, Math.floor(random() * 256)),
  ];
  const choice = random();
  if (choice < 0.15) return Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
  if (choice < 0.2) return 'a text frame';
  const bytes = real[Math.floor(random() * real.length)]!().slice();
  if (choice < 0.45) return bytes.subarray(0, Math.floor(random() * bytes.length));
  if (choice < 0.6 && bytes.length > 0) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
  return bytes;
}

let echo: TcpTarget;
let echoPort: number;

beforeAll(async () => {
  echo = await startEchoTarget();
  echoPort = echo.port;
});

afterAll(async () => {
  await echo.close();
});

async function echoOnce(dialer: WispDialer): Promise<string> {
  const stream = await dialer.dial('host.tabdock.internal', echoPort);
  const reply = new Promise<string>((resolve) => stream.onData((bytes) => resolve(Buffer.from(bytes).toString())));
  stream.write(new TextEncoder().encode('still alive'));
  const text = await reply;
  stream.destroy();
  return text;
}

describe('the relay under fuzzed clients', () => {
  let server: Server;
  let relay: WispRelay;
  let url: string;

  beforeAll(async () => {
    relay = createWispRelay({ allowedOrigins: '*', handshakeTimeoutMs: 500, policy: { hostPorts: [echoPort] } });
    server = createServer((req, res) => {
      if (!relay.handleHttp(req, res)) res.writeHead(404).end();
    });
    server.on('upgrade', (req, socket, head) => {
      if (!relay.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/wisp/`;
  });

  afterAll(async () => {
    relay.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('survives garbage, truncated packets and abrupt closes, and frees every session and stream', async () => {
    const random = prng(0x7ab);
    for (let session = 0; session < 40; session++) {
      const version = random() < 0.5 ? 'wisp-v2' : undefined;
      const ws = new WebSocket(url, version);
      ws.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        ws.once('open', () => resolve());
        ws.once('close', () => resolve());
      });
      const frames = Math.floor(random() * 30);
      for (let i = 0; i < frames && ws.readyState === WebSocket.OPEN; i++) {
        ws.send(fuzzFrame(random, echoPort));
        if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      // Half the sessions vanish without a close handshake, the rest close normally.
      if (random() < 0.5) ws.terminate();
      else ws.close();
    }
    // Everything the fuzzed sessions opened is released once they are gone.
    for (let wait = 0; wait < 200 && (relay.sessions() > 0 || relay.ledger.snapshot('127.0.0.1').streams > 0); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(relay.sessions()).toBe(0);
    expect(relay.ledger.snapshot('127.0.0.1')).toMatchObject({ sessions: 0, streams: 0 });
    const dialer = new WispDialer(url);
    expect(await echoOnce(dialer)).toBe('still alive');
    dialer.close();
  }, 30_000);
});

describe("the worker's dialer under a fuzzed relay", () => {
  it('settles every dial and never throws, whatever the relay sends or however it hangs up', async () => {
    const random = prng(0xd1a1);
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/wisp/`;
    wss.on('connection', (ws) => {
      ws.on('error', () => undefined);
      const behaviour = random();
      // Some relays never finish the handshake or talk nonsense from the first frame.
      if (behaviour < 0.15) return;
      if (behaviour < 0.3) {
        ws.send(fuzzFrame(random, 1));
        return;
      }
      ws.send(continuePacket(0, 64));
      ws.on('message', (data: Buffer) => {
        const type = data[0];
        const streamId = data.length >= 5 ? data.readUInt32LE(1) : 0;
        if (type !== packet.ConnectPayload.type) return;
        for (let i = Math.floor(random() * 6); i > 0; i--) {
          const roll = random();
          if (roll < 0.2) ws.send(continuePacket(streamId, 64));
          else if (roll < 0.5) ws.send(dataPacket(streamId, Uint8Array.of(1, 2, 3)));
          else if (roll < 0.8) ws.send(fuzzFrame(random, 1));
          else ws.send(closePacket(streamId, Math.floor(random() * 256)));
        }
        if (random() < 0.3) ws.terminate();
      });
    });
    let settled = 0;
    for (let round = 0; round < 30; round++) {
      const dialer = new WispDialer(url, { openTimeoutMs: 300, firstConfirmTimeoutMs: 100, confirmTimeoutMs: 300 });
      const dials = Array.from({ length: 3 }, () =>
        dialer.dial('example.com', 443).then(
          (stream) => {
            stream.onData(() => undefined);
            stream.write(Uint8Array.of(7));
            stream.destroy();
          },
          (error: unknown) => {
            expect(error).toBeInstanceOf(RelayRefusal);
          },
        ),
      );
      await Promise.all(dials);
      settled += dials.length;
      dialer.close();
    }
    expect(settled).toBe(90);
    wss.close();
  }, 30_000);
});
