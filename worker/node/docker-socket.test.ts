// The --docker-socket relay without a VM: a fake guest connection plays dockerd; the real VM test is in
// worker/node/docker.vm.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GuestSocket } from '../vm/net/guest-socket.ts';
import { serveDockerSocket } from './docker-socket.ts';

/** A guest connection that answers every request with a fixed HTTP response and records what it got. */
function fakeGuest(received: string[]): GuestSocket {
  const data: Array<(bytes: Uint8Array) => void> = [];
  const closes: Array<() => void> = [];
  let closed = false;
  return {
    write(bytes) {
      received.push(new TextDecoder().decode(bytes));
      const body = '{"Version":"20.10.24"}';
      setTimeout(() => data.forEach((l) => l(new TextEncoder().encode(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`))), 0);
    },
    close() {
      closed = true;
      closes.forEach((l) => l());
    },
    bufferedBytes: () => 0,
    get closed() {
      return closed;
    },
    onData: (l) => data.push(l),
    onEnd: () => {},
    onClose: (l) => closes.push(l),
  };
}

function request(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = net.connect(socketPath, () => client.write(text));
    let answer = '';
    client.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('20.10.24')) client.end();
    });
    client.on('close', () => resolve(answer));
    client.on('error', reject);
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tabdock-docker-sock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serveDockerSocket', () => {
  it('relays a request to a fresh guest connection per client and the answer back', async () => {
    const received: string[] = [];
    let dials = 0;
    const socketPath = path.join(dir, 'docker.sock');
    const server = await serveDockerSocket(socketPath, async () => (dials++, fakeGuest(received)), () => {});
    try {
      expect((await stat(socketPath)).mode & 0o077).toBe(0);
      const answers = await Promise.all([request(socketPath, 'GET /version HTTP/1.1\r\nhost: docker\r\n\r\n'), request(socketPath, 'GET /_ping HTTP/1.1\r\n\r\n')]);
      expect(answers.every((a) => a.startsWith('HTTP/1.1 200 OK') && a.endsWith('{"Version":"20.10.24"}'))).toBe(true);
      expect(dials).toBe(2);
      expect(received.sort()).toEqual(['GET /_ping HTTP/1.1\r\n\r\n', 'GET /version HTTP/1.1\r\nhost: docker\r\n\r\n']);
    } finally {
      await server.close();
    }
    await expect(stat(socketPath)).rejects.toThrow();
  });

  it('answers 502 with a sentence when the daemon cannot be reached', async () => {
    const socketPath = path.join(dir, 'down.sock');
    const errors: string[] = [];
    const server = await serveDockerSocket(socketPath, () => Promise.reject(new Error('refused')), (m) => errors.push(m));
    try {
      const answer = await request(socketPath, 'GET /version HTTP/1.1\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1.1 502 Bad Gateway/);
      expect(answer).toContain('not answering');
      expect(errors[0]).toContain('refused');
    } finally {
      await server.close();
    }
  });

  it('replaces a stale socket file but refuses a live one and a regular file', async () => {
    const socketPath = path.join(dir, 'again.sock');
    const first = await serveDockerSocket(socketPath, () => Promise.reject(new Error('x')), () => {});
    await expect(serveDockerSocket(socketPath, () => Promise.reject(new Error('x')), () => {})).rejects.toThrow(/in use by another process/);
    await first.close();
    // A crashed run leaves its socket file behind: a process killed while listening.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect((await stat(socketPath)).isSocket()).toBe(true);
    const second = await serveDockerSocket(socketPath, () => Promise.reject(new Error('x')), () => {});
    await second.close();
    const regular = path.join(dir, 'file');
    await writeFile(regular, 'x');
    await expect(serveDockerSocket(regular, () => Promise.reject(new Error('x')), () => {})).rejects.toThrow(/not a socket/);
  });
});
