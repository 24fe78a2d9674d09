// Frame- and request-level fuzz of the Node servers (#24, "What must exist"): seeded random and mutated HTTP
// requests and WebSocket frames, bounded in count and time, sent only to servers on 127.0.0.1 that the test starts:
// `npm run proxy`'s CLI and a Vite dev server with tabdock's plugins, each in a child process. Afterwards each still
// runs, its memory grew by less than a stated bound, and it answers a normal proxy request and relays a stream.
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { below, pick, prng, randomBytes } from '../../testing/prng.ts';
import { connectPacket, closePacket, dataPacket } from '../../testing/raw-wisp-client.ts';
import { statusLine } from '../../testing/raw-http.ts';
import { startServerProcess, type ServerKind, type ServerProcess } from '../../testing/server-process.ts';
import { echoThroughRelay, startEchoTarget, type TcpTarget } from '../../testing/tcp-targets.ts';

const HTTP_REQUESTS = 240;
const WS_SESSIONS = 40;
/** How much a server's resident memory may grow over the whole fuzz run (it starts at 80-250 MiB). */
const RSS_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;

let upstream: Server;
let upstreamPort: number;
let echo: TcpTarget;
let echoPort: number;
const servers = new Map<ServerKind, ServerProcess>();

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url?.endsWith('/redirect')) res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    else res.writeHead(200, { 'content-type': 'text/plain', 'docker-content-digest': 'sha256:0' }).end('upstream says hi');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  echo = await startEchoTarget();
  echoPort = echo.port;
  const env = { TABDOCK_ALLOW_HOST_PORTS: String(echoPort), TABDOCK_PROXY_ALLOW: `http://127.0.0.1:${upstreamPort}` };
  await Promise.all((['proxy', 'vite'] as const).map(async (kind) => servers.set(kind, await startServerProcess(kind, { env }))));
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.stop()));
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await echo.close();
});

/** Requests a client could send, aimed only at the test's own upstream and the relay. */
function corpus(host: string, proxyPath: string): string[] {
  const target = `/${proxyPath}127.0.0.1:${upstreamPort}`;
  return [
    `GET ${target}/v2/ HTTP/1.1\r\nHost: ${host}\r\nAccept: */*\r\n\r\n`,
    `HEAD ${target}/v2/x/manifests/latest HTTP/1.1\r\nHost: ${host}\r\nRange: bytes=0-10\r\n\r\n`,
    `OPTIONS ${target}/v2/ HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nAccess-Control-Request-Headers: authorization\r\n\r\n`,
    `GET ${target}/redirect HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer t\r\n\r\n`,
    `POST ${target}/v2/ HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhello`,
    `GET /wisp/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `GET /wisp/ HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ];
}

const ODD_TARGETS = ['*', 'http://127.0.0.1:22/', '//', '/%', '/%E0%A4%A/', '/wisp/%00/', `/${'a'.repeat(9000)}`, '/cors-proxy/%2e%2e/%2e%2e/etc/passwd', '/cors-proxy/127.0.0.1:1/v2/'];
const ODD_HOSTS = ['x:99999', 'a b', '', '[::1', 'evil.example', 'h'.repeat(300), '127.0.0.1:0'];

function mutate(random: () => number, request: string): Uint8Array {
  let text = request;
  for (let round = 1 + below(random, 3); round > 0; round--) {
    switch (below(random, 8)) {
      case 0:
        text = text.replace(/^\S+/, pick(random, ['TRACE', 'CONNECT', 'PUT', 'G@T', 'get', 'X'.repeat(40), '']));
        break;
      case 1:
        text = text.replace(/^(\S+) \S+/, (_all, method: string) => `${method} ${pick(random, ODD_TARGETS)}`);
        break;
      case 2:
        text = text.replace(/Host: [^\r]*/, `Host: ${pick(random, ODD_HOSTS)}`);
        break;
      case 3:
        text = text.replace('\r\n\r\n', `\r\n${pick(random, ['Transfer-Encoding: chunked\r\n\r\nzz\r\n', 'Content-Length: -1', 'Content-Length: 99999999', 'Host: second', `X-Big: ${'b'.repeat(20000)}`, 'Upgrade: websocket'])}\r\n\r\n`);
        break;
      case 4:
        text = text.slice(0, below(random, text.length));
        break;
      default: {
        // Raw byte damage: flips and inserts.
        const bytes = Buffer.from(text, 'latin1');
        const at = below(random, Math.max(1, bytes.length));
        if (random() < 0.5) bytes[at] = below(random, 256);
        text = Buffer.concat([bytes.subarray(0, at), Buffer.from(randomBytes(random, below(random, 12))), bytes.subarray(at)]).toString('latin1');
      }
    }
  }
  return Buffer.from(text, 'latin1');
}

/** One WebSocket frame as the wire carries it, sometimes wrong on purpose (RFC 6455 section 5.2). */
function frame(random: () => number, payload: Uint8Array): Uint8Array {
  const opcode = random() < 0.7 ? 0x2 : pick(random, [0x0, 0x1, 0x3, 0x7, 0x8, 0x9, 0xa, 0xb, 0xf]);
  const first = (random() < 0.9 ? 0x80 : 0) | (random() < 0.05 ? 0x70 : 0) | opcode;
  const masked = random() < 0.95;
  const length = random() < 0.9 ? payload.length : below(random, 70000);
  const head: number[] = [first];
  if (length < 126) head.push((masked ? 0x80 : 0) | length);
  else if (length < 65536) head.push((masked ? 0x80 : 0) | 126, length >> 8, length & 0xff);
  else head.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
  const mask = masked ? Array.from(randomBytes(random, 4)) : [];
  const body = payload.map((byte, i) => (masked ? byte ^ mask[i % 4]! : byte));
  return Uint8Array.from([...head, ...mask, ...body]);
}

function wispPayload(random: () => number): Uint8Array {
  const streamId = below(random, 4);
  switch (below(random, 6)) {
    case 0:
      return connectPacket(streamId, 'host.tabdock.internal', echoPort);
    case 1:
      return connectPacket(streamId, pick(random, ['127.0.0.1', 'example.invalid', '', '\u0000']), below(random, 65536));
    case 2:
      return dataPacket(streamId, randomBytes(random, below(random, 2000)));
    case 3:
      return closePacket(streamId, below(random, 256));
    default:
      return randomBytes(random, below(random, 40));
  }
}

async function fuzzFrames(port: number, random: () => number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // A server that is gone refuses the connection: the checks after the fuzz say so.
  const connected = await Promise.race([new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))), closed.then(() => false)]);
  if (!connected) return;
  socket.write(
    `GET /wisp/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${random() < 0.5 ? 'Sec-WebSocket-Protocol: wisp-v2\r\n' : ''}\r\n`,
  );
  for (let i = 1 + below(random, 20); i > 0 && !socket.destroyed; i--) {
    socket.write(frame(random, wispPayload(random)));
    if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (random() < 0.5) socket.destroy();
  else socket.end(frame(random, Uint8Array.of(0x03, 0xe8)));
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 100))]);
  socket.destroy();
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe.each<[ServerKind, string]>([
  ['proxy', ''],
  ['vite', 'cors-proxy/'],
])('%s server under fuzz', (kind, proxyPath) => {
  it('lives through mutated HTTP requests and WebSocket frames, stays bounded, and still serves', async () => {
    const server = servers.get(kind)!;
    const port = Number(new URL(server.url).port);
    const random = prng(kind === 'proxy' ? 0x24a : 0x24b);
    const rssBefore = server.rssBytes();
    const requests = Array.from({ length: HTTP_REQUESTS }, () => mutate(random, pick(random, corpus(`127.0.0.1:${port}`, proxyPath))));
    const answers: string[] = [];
    await inBatches(requests, 24, async (request) => answers.push(await statusLine(server.url, request, 250)));
    // The server answered what it could read with a status, never a 5xx of its own making.
    expect(answers.filter((line) => /^HTTP\/1\.1 5\d\d/.test(line) && !/^HTTP\/1\.1 50[24]/.test(line)), server.output()).toEqual([]);
    const sessions = Array.from({ length: WS_SESSIONS }, (_, i) => prng((kind === 'proxy' ? 0x5000 : 0x6000) + i));
    await inBatches(sessions, 8, (sessionRandom) => fuzzFrames(port, sessionRandom));

    expect(server.exit(), server.output()).toBeUndefined();
    expect(server.rssBytes() - rssBefore).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
    const normal = await fetch(`${server.url}${proxyPath}127.0.0.1:${upstreamPort}/v2/`);
    expect(normal.status).toBe(200);
    expect(await normal.text()).toBe('upstream says hi');
    expect(await echoThroughRelay(`${server.url.replace('http:', 'ws:')}wisp/`, echoPort, 'after the fuzz')).toBe('after the fuzz');
  }, 60_000);
});
