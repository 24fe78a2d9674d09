// A Wisp v1 client that does exactly what a test tells it, credits or not: packets built by hand (Wisp protocol,
// "Packet Format"), over `ws`. For tests of how the relay treats clients that break or stretch the protocol.
import { WebSocket } from 'ws';

export const PACKET = { CONNECT: 0x01, DATA: 0x02, CONTINUE: 0x03, CLOSE: 0x04 } as const;

export interface ReceivedPacket {
  type: number;
  streamId: number;
  payload: Buffer;
}

function packetOf(type: number, streamId: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32LE(streamId, 1);
  return Buffer.concat([head, payload]);
}

export function connectPacket(streamId: number, host: string, port: number): Buffer {
  const info = Buffer.alloc(3);
  info.writeUInt8(0x01, 0);
  info.writeUInt16LE(port, 1);
  return packetOf(PACKET.CONNECT, streamId, Buffer.concat([info, Buffer.from(host)]));
}

export function dataPacket(streamId: number, data: Uint8Array): Buffer {
  return packetOf(PACKET.DATA, streamId, data);
}

export function closePacket(streamId: number, reason: number): Buffer {
  return packetOf(PACKET.CLOSE, streamId, Uint8Array.of(reason));
}

export class RawWispClient {
  readonly packets: ReceivedPacket[] = [];
  /** The WebSocket close code, once closed. */
  readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      if (data.length < 5) return;
      this.packets.push({ type: data.readUInt8(0), streamId: data.readUInt32LE(1), payload: data.subarray(5) });
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  /**
   * Opens a session; `localAddress` (e.g. 127.0.0.2) makes it another client as far as the relay can tell, `origin`
   * a browser page's session.
   */
  static async open(url: string, options: { localAddress?: string; origin?: string } = {}): Promise<RawWispClient> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.origin ? { origin: options.origin } : {}),
    });
    // Listening before 'open': the relay's first CONTINUE can come in the same read as the upgrade's answer.
    const client = new RawWispClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await client.waitFor((p) => p.type === PACKET.CONTINUE && p.streamId === 0);
    return client;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /** The first packet (received so far or later) that matches; rejects after timeoutMs. */
  waitFor(match: (p: ReceivedPacket) => boolean, timeoutMs = 5000): Promise<ReceivedPacket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching packet within ${timeoutMs} ms`)), timeoutMs);
      const look = () => {
        const found = this.packets.find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else {
          this.waiters.push(look);
        }
      };
      look();
    });
  }

  /** Opens a TCP stream and waits for the relay's confirmation (CONTINUE) or refusal (CLOSE). */
  async openStream(streamId: number, host: string, port: number): Promise<'confirmed' | number> {
    this.send(connectPacket(streamId, host, port));
    const answer = await this.waitFor((p) => p.streamId === streamId && (p.type === PACKET.CONTINUE || p.type === PACKET.CLOSE));
    return answer.type === PACKET.CONTINUE ? 'confirmed' : (answer.payload[0] ?? 0);
  }

  /** The reason of the relay's CLOSE for a stream, once it comes. */
  async closeReason(streamId: number, timeoutMs = 5000): Promise<number> {
    const close = await this.waitFor((p) => p.streamId === streamId && p.type === PACKET.CLOSE, timeoutMs);
    return close.payload[0] ?? 0;
  }
}
