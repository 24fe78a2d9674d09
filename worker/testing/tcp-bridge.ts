// Serves the shim on a real loopback TCP port, each Node socket standing in for a guest connection, so real
// clients (skopeo, curl) can talk to it in tests. Node-only.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { GuestSocket } from '../vm/net/guest-socket.ts';

export function guestSocketFromNode(socket: Socket): GuestSocket {
  let closed = false;
  const closeListeners: Array<() => void> = [];
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  });
  socket.on('error', () => {
    // 'close' follows every 'error'; the listener above reports it.
  });
  return {
    write: (bytes) => {
      if (!closed) socket.write(bytes);
    },
    close: () => {
      if (closed) return;
      closed = true;
      socket.end();
    },
    bufferedBytes: () => socket.writableLength,
    get closed() {
      return closed || socket.destroyed;
    },
    onData: (listener) => socket.on('data', (chunk: Buffer) => listener(new Uint8Array(chunk))),
    onEnd: (listener) => socket.on('end', listener),
    onClose: (listener) => closeListeners.push(listener),
  };
}

export async function listenAsGuest(serve: (socket: GuestSocket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(guestSocketFromNode(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
