// The Engine API side of the VM host against a fake dockerd behind v86's connect(): requests on the wire,
// typed answers, errors as sentences, the /events watch and its reconnect, logs on a port.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineLogMessage, EngineUpdate } from '../../shared/engine-contract.ts';
import type { GuestDialer } from '../net/guest-http-client.ts';
import type { V86TcpConnection } from '../net/guest-socket.ts';
import { EngineBridge, type LogPort } from './engine-bridge.ts';

const enc = (text: string) => new TextEncoder().encode(text);

type Handler = (request: string, conn: FakeConn) => void;

class FakeConn implements V86TcpConnection {
  sport = 49152;
  state = 'syn-sent';
  closed = false;
  private buffered = '';
  private readonly handlers = new Map<string, (arg?: Uint8Array) => void>();
  constructor(private readonly handler: Handler) {}
  on(event: 'data', handler: (bytes: Uint8Array) => void): void;
  on(event: 'shutdown' | 'close' | 'connect', handler: () => void): void;
  on(event: string, handler: ((bytes: Uint8Array) => void) | (() => void)): void {
    this.handlers.set(event, handler as (arg?: Uint8Array) => void);
  }
  accept(): void {}
  write(bytes: Uint8Array): void {
    this.buffered += new TextDecoder().decode(bytes);
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const request = this.buffered;
    this.buffered = '';
    setTimeout(() => this.handler(request, this), 0);
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.state = 'established';
    this.handlers.get('connect')?.();
  }
  refuse(): void {
    this.state = 'closed';
    this.handlers.get('close')?.();
  }
  send(bytes: string | Uint8Array): void {
    this.handlers.get('data')?.(typeof bytes === 'string' ? enc(bytes) : bytes);
  }
  answer(status: number, body: string): void {
    this.send(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${enc(body).length}\r\n\r\n${body}`);
  }
  fin(): void {
    this.handlers.get('shutdown')?.();
    this.handlers.get('close')?.();
  }
}

function fakeDaemon(handler: Handler, refuse = () => false): GuestDialer & { ports: number[]; requests: string[] } {
  const dialer = {
    ports: [] as number[],
    requests: [] as string[],
    connect(port: number) {
      dialer.ports.push(port);
      const conn = new FakeConn((request, c) => {
        dialer.requests.push(request.split('\r\n')[0] ?? '');
        handler(request, c);
      });
      queueMicrotask(() => (refuse() ? conn.refuse() : conn.open()));
      return conn;
    },
  };
  return dialer;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EngineBridge queries and actions', () => {
  it('lists containers through port 2375 with a versioned path', async () => {
    const daemon = fakeDaemon((_request, conn) => conn.answer(200, JSON.stringify([{ Id: 'c1', Names: ['/web'], Image: 'nginx', State: 'running', Status: 'Up 1 second' }])));
    const bridge = new EngineBridge({ dialer: () => daemon, emit: () => {} });
    const containers = await bridge.query({ kind: 'containers' });
    expect(daemon.ports).toEqual([2375]);
    expect(daemon.requests).toEqual(['GET /v1.41/containers/json?all=1 HTTP/1.1']);
    expect(containers[0]).toMatchObject({ id: 'c1', name: 'web', state: 'running' });
  });

  it('runs queries side by side on separate connections', async () => {
    const daemon = fakeDaemon((request, conn) => conn.answer(200, request.includes('/volumes') ? '{"Volumes":[]}' : '[]'));
    const bridge = new EngineBridge({ dialer: () => daemon, emit: () => {} });
    const results = await Promise.all([bridge.query({ kind: 'images' }), bridge.query({ kind: 'networks' }), bridge.query({ kind: 'volumes' })]);
    expect(results).toEqual([[], [], []]);
    expect(daemon.ports).toHaveLength(3);
  });

  it('maps a 409 to conflict with the daemon message, and refuses a malformed id without a request', async () => {
    const daemon = fakeDaemon((_request, conn) => conn.answer(409, '{"message":"conflict: unable to remove repository reference \\"busybox\\" (must force)"}'));
    const bridge = new EngineBridge({ dialer: () => daemon, emit: () => {} });
    await expect(bridge.act({ kind: 'image-remove', id: 'busybox' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('must force') });
    expect(daemon.requests).toEqual(['DELETE /v1.41/images/busybox HTTP/1.1']);
    await expect(bridge.act({ kind: 'container-stop', id: '../../x' })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(bridge.act({ kind: 'container-stop', id: 'a b' })).rejects.toMatchObject({ code: 'bad-request' });
    expect(daemon.requests).toHaveLength(1);
  });

  it('says the daemon is unavailable when nothing listens or the VM is not running', async () => {
    const refused = new EngineBridge({ dialer: () => fakeDaemon(() => {}, () => true), emit: () => {} });
    await expect(refused.query({ kind: 'version' })).rejects.toMatchObject({ code: 'daemon-unavailable' });
    const stopped = new EngineBridge({ dialer: () => undefined, emit: () => {} });
    await expect(stopped.query({ kind: 'version' })).rejects.toMatchObject({ code: 'daemon-unavailable' });
  });
});

describe('EngineBridge watch', () => {
  it('streams events in batches, shows a non-event line raw, and reconnects after the daemon closes the stream', async () => {
    const updates: EngineUpdate[] = [];
    let streams = 0;
    const daemon = fakeDaemon((_request, conn) => {
      streams++;
      conn.send('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
      const body = '{"Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"name":"web"}},"time":1,"timeNano":1000000000}\nnot an event\n';
      conn.send(`${enc(body).length.toString(16)}\r\n${body}\r\n`);
      if (streams === 1) setTimeout(() => conn.send('0\r\n\r\n'), 5);
    });
    const bridge = new EngineBridge({ dialer: () => daemon, emit: (update) => updates.push(update) });
    bridge.watch(true);
    await vi.waitFor(() => expect(streams).toBe(2), { timeout: 3000 });
    await vi.waitFor(() => expect(updates.filter((u) => u.kind === 'events')).toHaveLength(2));
    expect(updates[0]).toEqual({ kind: 'connection', state: 'connecting' });
    expect(updates).toContainEqual({ kind: 'events', events: [{ type: 'container', action: 'start', actorId: 'c1', attributes: { name: 'web' }, timeNano: 1e9 }] });
    expect(updates).toContainEqual({ kind: 'raw', text: 'not an event' });
    expect(updates).toContainEqual(expect.objectContaining({ kind: 'connection', state: 'waiting', message: expect.stringContaining('Waiting for the Docker daemon') }));
    bridge.watch(false);
  });

  it('waits while the daemon refuses, and stops retrying when unwatched', async () => {
    vi.useFakeTimers();
    const updates: EngineUpdate[] = [];
    const daemon = fakeDaemon(() => {}, () => true);
    const bridge = new EngineBridge({ dialer: () => daemon, emit: (update) => updates.push(update) });
    bridge.watch(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(updates.at(-1)).toMatchObject({ kind: 'connection', state: 'waiting' });
    await vi.advanceTimersByTimeAsync(600);
    expect(daemon.ports).toHaveLength(2);
    bridge.watch(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(daemon.ports).toHaveLength(2);
  });

  it('passes layer progress on only while watched', () => {
    const updates: EngineUpdate[] = [];
    const bridge = new EngineBridge({ dialer: () => undefined, emit: (update) => updates.push(update) });
    const layer = { registry: 'r', repository: 'library/x', digest: 'sha256:1', loadedBytes: 1, totalBytes: 2, state: 'downloading' as const };
    bridge.layerProgress(layer);
    expect(updates).toEqual([]);
    bridge.watch(true);
    bridge.layerProgress(layer);
    expect(updates).toContainEqual({ kind: 'layers', layers: [layer] });
    bridge.watch(false);
  });
});

describe('EngineBridge logs', () => {
  it('demultiplexes a non-TTY container log stream onto the port and ends it', async () => {
    const frame = (stream: number, text: string) => {
      const payload = enc(text);
      const out = new Uint8Array(8 + payload.length);
      out[0] = stream;
      new DataView(out.buffer).setUint32(4, payload.length);
      out.set(payload, 8);
      return out;
    };
    const daemon = fakeDaemon((request, conn) => {
      if (request.startsWith('GET /v1.41/containers/web/json')) return conn.answer(200, '{"Config":{"Tty":false}}');
      const body = new Uint8Array([...frame(1, 'hello\n'), ...frame(2, 'oops\n')]);
      conn.send(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      conn.send(body);
    });
    const bridge = new EngineBridge({ dialer: () => daemon, emit: () => {} });
    const messages: EngineLogMessage[] = [];
    let closed = false;
    const port: LogPort = { postMessage: (m) => messages.push(m), close: () => (closed = true), onmessage: null };
    await bridge.followLogs('web', port);
    expect(daemon.requests[1]).toBe('GET /v1.41/containers/web/logs?follow=1&stdout=1&stderr=1&tail=500 HTTP/1.1');
    expect(messages).toEqual([
      { type: 'data', stream: 'stdout', text: 'hello\n' },
      { type: 'data', stream: 'stderr', text: 'oops\n' },
      { type: 'end' },
    ]);
    expect(closed).toBe(true);
  });

  it('reports a missing container as an error message', async () => {
    const daemon = fakeDaemon((_request, conn) => conn.answer(404, '{"message":"No such container: nope"}'));
    const bridge = new EngineBridge({ dialer: () => daemon, emit: () => {} });
    const messages: EngineLogMessage[] = [];
    await bridge.followLogs('nope', { postMessage: (m) => messages.push(m), close: () => {}, onmessage: null });
    expect(messages).toEqual([{ type: 'error', code: 'not-found', message: 'No such container: nope' }]);
  });
});
