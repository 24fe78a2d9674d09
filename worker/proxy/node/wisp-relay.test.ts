// The Wisp relay against the worker's Wisp dialer, over real sockets on 127.0.0.1: streams flow both ways, and
// every refusal of the policy reaches the dialer as a refusal with its reason, never as a hang.
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import { statusLine, upgraded } from '../../testing/raw-http.ts';
import { RawWispClient } from '../../testing/raw-wisp-client.ts';
import { parseTrustedProxies } from '../client-key.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import type { EgressStream } from '../../shared/egress-dialer.ts';
import { WispDialer } from '../../vm/net/wisp-dialer.ts';
import { startProxyServer } from './node-server.ts';
import type { WispRelayOptions } from './wisp-relay.ts';
import { startTestRelay as startRelay, type TestRelay as Running } from '../../testing/wisp-test-relay.ts';

/** A TCP server on 127.0.0.1 that echoes what it gets, upper-cased so the test sees it went through. */
let echo: net.Server;
let echoPort: number;
let closedPort: number;

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('data', (chunk) => socket.write(chunk.toString('latin1').toUpperCase(), 'latin1'));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
  // A port nothing listens on: open one and close it again.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayAndDialer(options: WispRelayOptions = {}, path = ''): Promise<{ running: Running; dialer: WispDialer }> {
  const running = await startRelay({ allowedOrigins: '*', ...options, policy: { hostPorts: [echoPort], ...options.policy } });
  const dialer = new WispDialer(`${running.url}${path}`, { openTimeoutMs: 3000 });
  cleanups.push(() => running.close(), () => dialer.close());
  return { running, dialer };
}

function readText(stream: EgressStream, untilLength: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.onData((bytes) => {
      text += Buffer.from(bytes).toString('latin1');
      if (text.length >= untilLength) resolve(text);
    });
    stream.onClose((error) => (error ? reject(error) : resolve(text)));
  });
}

async function refusal(promise: Promise<unknown>): Promise<RelayRefusal> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RelayRefusal);
  return error as RelayRefusal;
}

describe('wisp relay', () => {
  it('relays a stream both ways to an allowed host port, confirmed before it is handed out', async () => {
    const { dialer, running } = await relayAndDialer();
    const stream = await dialer.dial('host.tabdock.internal', echoPort);
    const reply = readText(stream, 5);
    stream.write(new TextEncoder().encode('hello'));
    expect(await reply).toBe('HELLO');
    expect(running.relay.ledger.snapshot('127.0.0.1')).toMatchObject({ sessions: 1, streams: 1 });
    stream.destroy();
  });

  it('refuses ports outside the allow-list', async () => {
    const { dialer } = await relayAndDialer();
    expect((await refusal(dialer.dial('example.com', 22))).message).toContain("relay's policy blocks it");
  });

  it('refuses host.tabdock.internal on a port not opened with --allow-host-port', async () => {
    const { dialer } = await relayAndDialer();
    expect((await refusal(dialer.dial('host.tabdock.internal', echoPort + 1))).code).toBe('address-not-allowed');
  });

  it('refuses loopback, private, link-local and metadata addresses, literal or resolved', async () => {
    const resolved: string[] = [];
    const { dialer } = await relayAndDialer({
      resolve: async (host) => {
        resolved.push(host);
        return host === 'rebind.test' ? ['127.0.0.1'] : ['10.1.2.3'];
      },
    });
    for (const host of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '169.254.169.254', '[::1]', 'rebind.test', 'intranet.test']) {
      expect((await refusal(dialer.dial(host, 443))).code, host).toBe('address-not-allowed');
    }
    // Names were resolved once each, by the relay: the checked answer is the one that would be dialled.
    expect(resolved).toEqual(['rebind.test', 'intranet.test']);
  });

  it('says so when the host refuses the connection', async () => {
    const { dialer } = await relayAndDialer({ policy: { hostPorts: [closedPort] } });
    expect((await refusal(dialer.dial('host.tabdock.internal', closedPort))).code).toBe('connect-refused');
  });

  it('limits streams per client', async () => {
    const { dialer } = await relayAndDialer({ policy: { maxStreamsPerClient: 2 } });
    const first = await dialer.dial('host.tabdock.internal', echoPort);
    const second = await dialer.dial('host.tabdock.internal', echoPort);
    expect((await refusal(dialer.dial('host.tabdock.internal', echoPort))).code).toBe('too-many-streams');
    first.destroy();
    second.destroy();
  });

  it('ends a stream when the client used up its byte budget', async () => {
    const { dialer } = await relayAndDialer({ policy: { maxBytesPerClient: 1000 } });
    const stream = await dialer.dial('host.tabdock.internal', echoPort);
    const closed = new Promise<RelayRefusal | undefined>((resolve) => stream.onClose(resolve));
    stream.onData(() => undefined);
    stream.write(new Uint8Array(800));
    stream.write(new Uint8Array(800));
    expect((await closed)?.code).toBe('too-many-streams');
    expect((await refusal(dialer.dial('host.tabdock.internal', echoPort))).code).toBe('too-many-streams');
  });

  it('closes idle streams', async () => {
    const { dialer } = await relayAndDialer({ policy: { idleTimeoutMs: 300 } });
    const stream = await dialer.dial('host.tabdock.internal', echoPort);
    stream.onData(() => undefined);
    const closed = await new Promise<RelayRefusal | undefined>((resolve) => stream.onClose(resolve));
    expect(closed?.code).toBe('idle-timeout');
  });

  it('needs its token when one is set', async () => {
    const { dialer: without } = await relayAndDialer({ token: 's3cret' });
    expect((await refusal(without.dial('host.tabdock.internal', echoPort))).code).toBe('relay-unreachable');
    expect(without.state()).toBe('down');
    const { dialer: withToken } = await relayAndDialer({ token: 's3cret' }, 's3cret/');
    const stream = await withToken.dial('host.tabdock.internal', echoPort);
    stream.destroy();
  });

  it('refuses pages of other origins by default, and says why over plain HTTP', async () => {
    const running = await startRelay({ policy: { hostPorts: [echoPort] } });
    cleanups.push(() => running.close());
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(running.url, 'wisp-v2', { origin: 'https://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(403);
    const answer = await fetch(running.url.replace('ws:', 'http:'));
    expect(answer.status).toBe(426);
    expect(await answer.text()).toContain('tabdock TCP relay');
  });

  it('limits sessions per client', async () => {
    const running = await startRelay({ allowedOrigins: '*', policy: { maxSessionsPerClient: 1, hostPorts: [echoPort] } });
    cleanups.push(() => running.close());
    const first = new WispDialer(running.url);
    const second = new WispDialer(running.url);
    cleanups.push(() => first.close(), () => second.close());
    await first.open();
    expect((await refusal(second.open())).code).toBe('relay-unreachable');
  });

  // The test's own time limit is the "within seconds": a relay that is not there must never hang a dial.
  it('reports a relay that is not there, naming it', { timeout: 10_000 }, async () => {
    const dialer = new WispDialer(`ws://127.0.0.1:${closedPort}/wisp/`, { openTimeoutMs: 3000 });
    expect((await refusal(dialer.dial('example.com', 443))).message).toContain(`ws://127.0.0.1:${closedPort}/wisp/`);
    expect(dialer.state()).toBe('down');
  });

  it('is served by npm run proxy at /wisp/ beside the CORS proxy', async () => {
    const proxy = await startProxyServer({ port: 0, relay: { policy: { hostPorts: [echoPort] } } });
    cleanups.push(() => proxy.close());
    expect(proxy.relayUrl).toBe(`${proxy.url.replace('http:', 'ws:')}wisp/`);
    const dialer = new WispDialer(proxy.relayUrl!);
    cleanups.push(() => dialer.close());
    const stream = await dialer.dial('host.tabdock.internal', echoPort);
    const reply = readText(stream, 4);
    stream.write(new TextEncoder().encode('ping'));
    expect(await reply).toBe('PING');
    stream.destroy();
    // The CORS proxy still answers everything else (a host it does not allow: 403).
    expect((await fetch(`${proxy.url}example.com/v2/`)).status).toBe(403);
  });
});

describe('who may use the relay (#24 item 5)', () => {
  const refusedWith = (promise: Promise<unknown>) => promise.then(() => 'upgraded', (error: Error) => error.message);

  it("npm run proxy refuses other sites' pages and DNS-rebinding pages by default, and takes its own and non-browser clients", async () => {
    const proxy = await startProxyServer({ port: 0, relay: { policy: { hostPorts: [echoPort] } } });
    cleanups.push(() => proxy.close());
    const { port } = new URL(proxy.url);
    expect(await refusedWith(upgraded(proxy.url, '/wisp/', { origin: 'https://evil.example' }))).toBe('no upgrade: HTTP/1.1 403 Forbidden');
    // Rebinding: the attacker's name resolves to 127.0.0.1, so Host and Origin agree, on the attacker's name.
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    expect(await refusedWith(upgraded(proxy.url, '/wisp/', rebound))).toBe('no upgrade: HTTP/1.1 403 Forbidden');
    const ownPage = await upgraded(proxy.url, '/wisp/', { origin: `http://127.0.0.1:${port}` });
    ownPage.destroy();
    const noBrowser = await upgraded(proxy.url, '/wisp/');
    noBrowser.destroy();
  });

  it('lets any page in with a token, or the origins named, but never to host ports from another origin', async () => {
    for (const relay of [{ token: 'tok-12345678' }, { allowedOrigins: ['https://app.example'] }]) {
      const proxy = await startProxyServer({ port: 0, relay: { ...relay, policy: { hostPorts: [echoPort] } } });
      cleanups.push(() => proxy.close());
      const url = `${proxy.relayUrl}${relay.token ? `${relay.token}/` : ''}`;
      const page = await RawWispClient.open(url, { origin: 'https://app.example' });
      cleanups.push(() => page.ws.terminate());
      expect(await page.openStream(1, 'host.tabdock.internal', echoPort), JSON.stringify(relay)).toBe(WISP_CLOSE.HostBlocked);
      // The same relay still serves host ports to a client that is no browser page.
      const tool = await RawWispClient.open(url);
      cleanups.push(() => tool.ws.terminate());
      expect(await tool.openStream(1, 'host.tabdock.internal', echoPort)).toBe('confirmed');
    }
    const listed = await startProxyServer({ port: 0, relay: { allowedOrigins: ['https://app.example'] } });
    cleanups.push(() => listed.close());
    expect(await refusedWith(upgraded(listed.url, '/wisp/', { origin: 'https://other.example' }))).toBe('no upgrade: HTTP/1.1 403 Forbidden');
  });
});

describe('limits that held only per exact address, or not at all (#24 item 10)', () => {
  it("lets the worker's dialer open a new session after an idle one closed, without calling the relay down", async () => {
    const running = await startRelay({ allowedOrigins: '*', policy: { idleTimeoutMs: 200, hostPorts: [echoPort] } });
    cleanups.push(() => running.close());
    const downs: string[] = [];
    const dialer = new WispDialer(running.url, { onDown: (message) => downs.push(message) });
    cleanups.push(() => dialer.close());
    const first = await dialer.dial('host.tabdock.internal', echoPort);
    first.destroy();
    for (let wait = 0; wait < 50 && running.relay.sessions() > 0; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(running.relay.sessions()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(dialer.state()).not.toBe('down');
    expect(downs).toEqual([]);
    const second = await dialer.dial('host.tabdock.internal', echoPort);
    const reply = readText(second, 5);
    second.write(new TextEncoder().encode('again'));
    expect(await reply).toBe('AGAIN');
    second.destroy();
  });

  it('gives back the session slot of an upgrade that ws refuses as malformed', async () => {
    const running = await startRelay({ allowedOrigins: '*', policy: { maxSessionsPerClient: 2 } });
    cleanups.push(() => running.close());
    const { host } = new URL(running.url);
    for (let i = 0; i < 4; i++) {
      const answer = await statusLine(
        running.url,
        `GET /wisp/ HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bad\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      expect(answer).toBe('HTTP/1.1 400 Bad Request');
    }
    const wisp = await RawWispClient.open(running.url);
    cleanups.push(() => wisp.ws.terminate());
    expect(running.relay.ledger.snapshot('127.0.0.1').sessions).toBe(1);
  });

  it('closes a session that has had no stream for the idle timeout', async () => {
    const running = await startRelay({ allowedOrigins: '*', policy: { idleTimeoutMs: 300 } });
    cleanups.push(() => running.close());
    const wisp = await RawWispClient.open(running.url);
    cleanups.push(() => wisp.ws.terminate());
    const code = await Promise.race([wisp.closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 2000))]);
    expect(code).toBe(1000);
    expect(running.relay.sessions()).toBe(0);
  });

  it('counts clients behind a trusted proxy by X-Forwarded-For, and caps sessions of all clients together', async () => {
    const forwarded = (address: string) => ({ 'x-forwarded-for': address });
    const open = (url: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        cleanups.push(() => ws.terminate());
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    const plain = await startRelay({ allowedOrigins: '*', policy: { maxSessionsPerClient: 1 } });
    cleanups.push(() => plain.close());
    // Without a trusted proxy the header is the client's own word: both are 127.0.0.1.
    expect(await open(plain.url, forwarded('203.0.113.1'))).toBe(101);
    expect(await open(plain.url, forwarded('203.0.113.2'))).toBe(429);
    const behindProxy = await startRelay({
      allowedOrigins: '*',
      trustedProxies: parseTrustedProxies('127.0.0.1', 'test'),
      policy: { maxSessionsPerClient: 1, maxSessionsTotal: 2 },
    });
    cleanups.push(() => behindProxy.close());
    expect(await open(behindProxy.url, forwarded('203.0.113.1'))).toBe(101);
    expect(await open(behindProxy.url, forwarded('203.0.113.2'))).toBe(101);
    expect(await open(behindProxy.url, forwarded('203.0.113.1'))).toBe(429);
    expect(await open(behindProxy.url, forwarded('203.0.113.3'))).toBe(503);
  });
});
