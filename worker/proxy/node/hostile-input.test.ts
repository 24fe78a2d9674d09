// One bad request or WebSocket frame must never end a server (#24, items 1-3): each is sent to `npm run proxy`'s
// CLI and to a Vite dev server with tabdock's plugins (what `npm run dev` and `npm start` mount), each running in a
// child process; afterwards the process still runs, answers HTTP and relays a fresh Wisp stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusLine, upgraded } from '../../testing/raw-http.ts';
import { startServerProcess, type ServerKind, type ServerProcess } from '../../testing/server-process.ts';
import { echoThroughRelay, startEchoTarget, type TcpTarget } from '../../testing/tcp-targets.ts';

let echo: TcpTarget;
let echoPort: number;
const TOKEN = 'relay-token-123';
/** Started together (a child takes about a second to start): plain, and with a relay token. */
const servers = new Map<string, ServerProcess>();

beforeAll(async () => {
  echo = await startEchoTarget();
  echoPort = echo.port;
  const env = { TABDOCK_ALLOW_HOST_PORTS: String(echoPort) };
  await Promise.all(
    (['proxy', 'vite'] as const).flatMap((kind) => [
      startServerProcess(kind, { env }).then((server) => servers.set(kind, server)),
      startServerProcess(kind, { env: { ...env, TABDOCK_RELAY_TOKEN: TOKEN } }).then((server) => servers.set(`${kind}+token`, server)),
    ]),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.stop()));
  await echo.close();
});

/** Still there: answers plain HTTP on the relay's path and relays a fresh Wisp stream to the echo server. */
async function expectServing(server: ServerProcess, relayPath = 'wisp/'): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(server.exit(), server.output()).toBeUndefined();
  expect((await fetch(`${server.url}${relayPath}`)).status).toBe(426);
  expect(await echoThroughRelay(`${server.url.replace('http:', 'ws:')}${relayPath}`, echoPort, 'still relaying')).toBe('still relaying');
}

const MASK = [0, 0, 0, 0];
/** Frames `ws` must refuse (RFC 6455 5.2, 5.5.1, 8.1), each alone after a good upgrade. */
const BAD_FRAMES: Record<string, number[]> = {
  'a reserved opcode': [0x83, 0x80, ...MASK],
  'an unmasked frame': [0x82, 0x05, ...Buffer.from('hello')],
  'RSV1 without an extension': [0xc2, 0x80, ...MASK],
  'a close frame with invalid UTF-8 in its reason': [0x88, 0x84, ...MASK, 0x03, 0xe8, 0xff, 0xfe],
  'a header announcing 2 MiB, over the 1 MiB limit': [0x82, 0xff, 0, 0, 0, 0, 0, 0x20, 0, 0, ...MASK],
};

describe.each<[ServerKind, string]>([
  ['proxy', ''],
  ['vite', 'cors-proxy/'],
])('%s server', (kind, proxyPath) => {
  it.each(Object.entries(BAD_FRAMES))('lives through %s on /wisp/', async (_name, frame) => {
    const server = servers.get(kind)!;
    const socket = await upgraded(server.url, '/wisp/');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    socket.write(Uint8Array.from(frame));
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 500))]);
    socket.destroy();
    await expectServing(server);
  });

  // As a client sends it: the server's own host and port.
  const host = () => new URL(servers.get(kind)!.url).host;
  const requests: Record<string, () => string> = {
    TRACE: () => `TRACE /${proxyPath}registry-1.docker.io/v2/ HTTP/1.1\r\nHost: ${host()}\r\n\r\n`,
    'an absolute-form target': () => `GET http://127.0.0.1:22/${proxyPath} HTTP/1.1\r\nHost: ${host()}\r\n\r\n`,
    'OPTIONS *': () => `OPTIONS * HTTP/1.1\r\nHost: ${host()}\r\n\r\n`,
    'Host: x:99999': () => `GET /${proxyPath}registry-1.docker.io/v2/ HTTP/1.1\r\nHost: x:99999\r\n\r\n`,
    'Host: a b': () => `GET /${proxyPath}registry-1.docker.io/v2/ HTTP/1.1\r\nHost: a b\r\n\r\n`,
  };
  it.each(Object.entries(requests))('answers %s with a 4xx and lives', async (_name, request) => {
    const server = servers.get(kind)!;
    expect(await statusLine(server.url, request())).toMatch(/^HTTP\/1\.1 4\d\d /);
    await expectServing(server);
  });
});

describe.each<ServerKind>(['proxy', 'vite'])('%s server with a relay token', (kind) => {
  it('answers 401 to a token that is not valid percent-encoding, over HTTP and as an upgrade, and lives', async () => {
    const server = servers.get(`${kind}+token`)!;
    const plain = await fetch(`${server.url}wisp/%E0%A4%A/`);
    expect(plain.status).toBe(401);
    // Not the Vite error page with a stack trace.
    expect(await plain.text()).toContain('this relay needs its token');
    await expect(upgraded(server.url, '/wisp/%E0%A4%A/')).rejects.toThrow('no upgrade: HTTP/1.1 401 Unauthorized');
    await expectServing(server, `wisp/${TOKEN}/`);
  });
});

describe('the Vite-mounted relay (npm start, npm run dev)', () => {
  it('refuses a DNS-rebinding upgrade, whose Host and Origin are both the attacker\'s name, as Vite refuses its HTTP', async () => {
    const server = servers.get('vite')!;
    const { port } = new URL(server.url);
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    const answer = await upgraded(server.url, '/wisp/', rebound).then(() => 'upgraded', (error: Error) => error.message);
    expect(answer).toBe('no upgrade: HTTP/1.1 403 Forbidden');
    const ownPage = await upgraded(server.url, '/wisp/', { origin: `http://localhost:${port}`, host: `localhost:${port}` });
    ownPage.destroy();
  });
});
