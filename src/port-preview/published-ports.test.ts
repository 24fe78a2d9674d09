import { spawnSync } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listeningPorts } from './port-watch.ts';
import { LISTENING_SOCKETS_COMMAND, listeningSockets, parseDockerPs, samePorts } from './published-ports.ts';

describe('parseDockerPs', () => {
  it('reads published TCP ports with their container, merging IPv4 and IPv6', () => {
    const output = 'web\t0.0.0.0:8080->80/tcp, :::8080->80/tcp\ndb\t5432/tcp\napi\t127.0.0.1:3000->3000/tcp, 0.0.0.0:5353->53/udp\n';
    expect(parseDockerPs(output)).toEqual([
      { hostPort: 3000, containerPort: 3000, container: 'api' },
      { hostPort: 8080, containerPort: 80, container: 'web' },
    ]);
  });

  it('expands ranges, but not without limit', () => {
    expect(parseDockerPs('r\t0.0.0.0:8000-8001->80-81/tcp').map((p) => [p.hostPort, p.containerPort])).toEqual([
      [8000, 80],
      [8001, 81],
    ]);
    expect(parseDockerPs('big\t0.0.0.0:1000-2000->1000-2000/tcp')).toHaveLength(16);
  });

  it('gives nothing for no containers, headers or junk', () => {
    expect(parseDockerPs('')).toEqual([]);
    expect(parseDockerPs('Cannot connect to the Docker daemon\n')).toEqual([]);
  });

  it('compares port lists by content', () => {
    const a = parseDockerPs('web\t0.0.0.0:8080->80/tcp');
    expect(samePorts(a, parseDockerPs('web\t:::8080->80/tcp'))).toBe(true);
    expect(samePorts(a, parseDockerPs('web2\t0.0.0.0:8080->80/tcp'))).toBe(false);
    expect(samePorts(a, [])).toBe(false);
  });
});

describe('LISTENING_SOCKETS_COMMAND', () => {
  /** The command as the guest agent runs it (`bash script`), here against this machine's own /proc/net/tcp. */
  function pollHere(): { ports: Set<number>; sockets: string } {
    const result = spawnSync('bash', ['-c', LISTENING_SOCKETS_COMMAND], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const sockets = listeningSockets(result.stdout);
    return { ports: listeningPorts(sockets), sockets };
  }

  it('lists a listening port and not the ports of established connections, in bash alone', async () => {
    const server: Server = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client: Socket = createConnection({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => client.on('connect', resolve));
    try {
      const { ports } = pollHere();
      expect(ports.has(port)).toBe(true);
      expect(ports.has(client.localPort!)).toBe(false);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(pollHere().ports.has(port)).toBe(false);
  });

  it('sorts and dedupes lines so two polls of the same sockets compare equal', () => {
    expect(listeningSockets('0100007F:0050\n00000000:1F90\n0100007F:0050\n\n')).toBe('00000000:1F90\n0100007F:0050');
    expect(listeningSockets('local_address\n00000000:1F90\r\n')).toBe('00000000:1F90');
  });
});
