// TCP servers on 127.0.0.1 for relay tests to connect to: one that echoes, one that never reads (its kernel
// buffers fill, then the relay's writes wait), and the check that a relay still carries a stream to the echo.
import net, { type AddressInfo } from 'node:net';
import { WispDialer } from '../vm/net/wisp-dialer.ts';

export interface TcpTarget {
  port: number;
  /** The connections it holds now (a never-reading target's are dropped only when the far side closes). */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

async function listen(onConnection: (socket: net.Socket) => void): Promise<TcpTarget> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes back what it gets. */
export function startEchoTarget(): Promise<TcpTarget> {
  return listen((socket) => socket.on('data', (chunk) => socket.write(chunk)));
}

/** Accepts and never reads. */
export function startSinkTarget(): Promise<TcpTarget> {
  return listen((socket) => socket.pause());
}

/** Opens a Wisp stream to the echo target through the relay at `relayUrl` and returns what came back for `text`. */
export async function echoThroughRelay(relayUrl: string, echoPort: number, text: string): Promise<string> {
  const dialer = new WispDialer(relayUrl, { openTimeoutMs: 3000 });
  try {
    const stream = await dialer.dial('host.tabdock.internal', echoPort);
    const reply = new Promise<string>((resolve) => stream.onData((bytes) => resolve(Buffer.from(bytes).toString())));
    stream.write(new TextEncoder().encode(text));
    const answer = await reply;
    stream.destroy();
    return answer;
  } finally {
    dialer.close();
  }
}
