// `npm run vm -- --docker-socket PATH`: the guest dockerd's Engine API as a Unix socket on this machine, so the
// docker CLI, curl --unix-socket or an SDK can drive the VM (`DOCKER_HOST=unix://PATH docker ps`). Each client
// connection gets its own TCP connection into the guest's API port; bytes are relayed unchanged both ways, so
// keep-alive, chunked streams and hijacked connections (attach, exec) behave as on a real socket.
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { GuestSocket } from '../vm/net/guest-socket.ts';

/** Pause reading from the client while this many bytes wait for the guest's ACKs (v86's TCP is slow). */
const HIGH_WATER_BYTES = 512 * 1024;
const DRAIN_POLL_MS = 20;

export interface DockerSocketServer {
  readonly path: string;
  /** Stops listening, ends open connections and removes the socket file. */
  close(): Promise<void>;
}

export class DockerSocketError extends Error {}

/** Listens on `path` (a stale socket file left by a crashed run is replaced; any other file is refused). */
export async function serveDockerSocket(path: string, dial: () => Promise<GuestSocket>, onError: (message: string) => void): Promise<DockerSocketServer> {
  await removeStaleSocket(path);
  const clients = new Set<net.Socket>();
  const server = net.createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.pause();
    dial().then(
      (guest) => relay(client, guest),
      (error: unknown) => {
        onError(`a client connection to ${path} could not reach the Docker daemon: ${error instanceof Error ? error.message : String(error)}`);
        // An HTTP client then sees a real error instead of a hang.
        const body = JSON.stringify({ message: 'tabdock: the Docker daemon in the VM is not answering (it may be starting or restarting)' });
        client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new DockerSocketError(`cannot listen on ${path}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`)),
    );
    server.listen({ path }, resolve);
  });
  // Only this user may connect: the socket is root on the guest (connecting needs write permission).
  await chmod(path, 0o600);
  return {
    path,
    close: async () => {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => undefined);
    },
  };
}

function relay(client: net.Socket, guest: GuestSocket): void {
  let draining: ReturnType<typeof setInterval> | undefined;
  const stopDraining = () => {
    clearInterval(draining);
    draining = undefined;
  };
  guest.onData((bytes) => {
    if (!client.destroyed) client.write(bytes);
  });
  guest.onEnd(() => client.end());
  guest.onClose(() => {
    stopDraining();
    client.end();
  });
  client.on('data', (chunk: Buffer) => {
    guest.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (guest.bufferedBytes() > HIGH_WATER_BYTES && !draining) {
      client.pause();
      draining = setInterval(() => {
        if (guest.closed || guest.bufferedBytes() < HIGH_WATER_BYTES / 2) {
          stopDraining();
          client.resume();
        }
      }, DRAIN_POLL_MS);
    }
  });
  // The client is done sending (or gone): close our side too; the guest's answer already sent stays delivered.
  client.on('end', () => guest.close());
  client.on('close', () => {
    stopDraining();
    guest.close();
  });
  client.on('error', () => guest.close());
  client.resume();
}

/** Checks (before booting) that `path` can become the socket: free, or a stale socket left by a crashed run. */
export async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new DockerSocketError(`cannot use ${path}: ${error.message}`);
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new DockerSocketError(`${path} exists and is not a socket; choose another path or remove it`);
  // A live socket answers a connect: refuse to steal it from another running process.
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new DockerSocketError(`${path} is in use by another process (another \`npm run vm\`?); choose another path`);
  await unlink(path);
}
