// Closing a Wisp dialer against the real relay on 127.0.0.1: the relay keeps no session for it, whether its
// WebSocket was open or still opening, nothing reopens it, and closing is not reported as the relay going down.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWispRelay, type WispRelay } from '../../proxy/node/wisp-relay.ts';
import { WispDialer } from './wisp-dialer.ts';

let relay: WispRelay;
let server: Server;
let url = '';

beforeAll(async () => {
  relay = createWispRelay();
  server = createServer((req, res) => {
    if (!relay.handleHttp(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${relay.basePath}`;
});

afterAll(async () => {
  relay.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('WispDialer.close', () => {
  it('ends an open session at the relay', async () => {
    const downs: string[] = [];
    const dialer = new WispDialer(url, { onDown: (message) => downs.push(message) });
    await dialer.open();
    await expect.poll(() => relay.sessions()).toBe(1);
    dialer.close();
    await expect.poll(() => relay.sessions()).toBe(0);
    expect(dialer.state()).toBe('down');
    await expect(dialer.dial('example.com', 443)).rejects.toMatchObject({ code: 'relay-unreachable' });
    await settle();
    expect(relay.sessions()).toBe(0);
    expect(downs).toEqual([]);
  });

  it('abandons a WebSocket that is still opening, so no session appears later', async () => {
    const downs: string[] = [];
    const dialer = new WispDialer(url, { onDown: (message) => downs.push(message) });
    const opening = dialer.open();
    dialer.close();
    await expect(opening).rejects.toMatchObject({ code: 'relay-unreachable', message: expect.stringContaining('closed before it opened') });
    await settle();
    expect(relay.sessions()).toBe(0);
    expect(downs).toEqual([]);
  });
});
