// The TCP relay the page's worker reaches over one WebSocket: a Wisp server (wisp-js, the protocol's maintained
// JavaScript implementation, does the framing, the v2 handshake and per-stream flow control), whose streams go
// out through dialChecked() with tabdock's relay policy instead of wisp-js's own filter. Mounted at /wisp/ by
// `npm start` / `npm run dev` (wisp-vite-plugin.ts) and by `npm run proxy` (node-server.ts).
//
// wisp-js sends nothing when a stream connects; this relay confirms each one with a CONTINUE packet (a frame
// the protocol allows at any time), so the worker can accept the guest's connection only once it is real and
// answer a refusal with a reset the guest's tools report as "connection refused".
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { logging, packet, server as wisp } from '@mercuryworkshop/wisp-js/server';
import { WebSocketServer, type WebSocket } from 'ws';
import { withDeadline } from '../../shared/deadline.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { closeReasonFor, WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import { ClientLedger, DEFAULT_RELAY_POLICY, type RelayPolicyConfig } from '../relay-policy.ts';
import { dialChecked, type DialedSocket, type Resolver } from './tcp-dialer.ts';

export const DEFAULT_RELAY_PATH = '/wisp/';

export interface WispRelayOptions {
  /** URL path the relay answers on, ending in '/'. */
  basePath?: string;
  policy?: Partial<RelayPolicyConfig>;
  /** When set, clients must use `<basePath><token>/`. */
  token?: string;
  /**
   * Which pages may open the relay (the WebSocket's Origin): 'same-origin' (the page's own host, the default for
   * the Vite mount), '*' (any; protect it with a token), or a list of origins.
   */
  allowedOrigins?: 'same-origin' | '*' | readonly string[];
  /** Time for the Wisp v2 handshake. */
  handshakeTimeoutMs?: number;
  resolve?: Resolver;
  /** Called for each refused or failed stream (logging, tests). */
  onRefusal?: (client: string, target: string, refusal: RelayRefusal) => void;
}

export interface WispRelay {
  readonly basePath: string;
  /** Takes a WebSocket upgrade for this relay's path; false when the path is not the relay's (leave it alone). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Answers a plain HTTP request for the relay's path (what a browser or the settings check sees); false if not ours. */
  handleHttp(request: IncomingMessage, response: ServerResponse): boolean;
  readonly ledger: ClientLedger;
  /** Open Wisp sessions (tests). */
  sessions(): number;
  close(): void;
}

// wisp-js logs every connection at INFO and every malformed client packet at WARN on the console; the relay
// reports refusals itself (onRefusal), and a client's malformed packet is dropped, packet by packet.
logging.set_level(logging.ERROR);

/** The socket wisp-js's ServerStream drives: connects through dialChecked, queues received data. */
class PolicySocket implements wisp.WispSocketLike {
  private dialed: DialedSocket | undefined;
  private readonly queue: Uint8Array[] = [];
  private waiting: ((value: Uint8Array | null) => void) | undefined;
  private ended = false;
  private closed = false;
  private paused = false;
  /** Set by the session: closes the stream with a reason (byte budget spent mid-stream). */
  onFatal: ((reason: number) => void) | undefined;

  constructor(
    readonly hostname: string,
    readonly port: number,
    private readonly dial: (host: string, port: number) => Promise<DialedSocket>,
  ) {}

  async connect(): Promise<void> {
    const dialed = await this.dial(this.hostname, this.port);
    if (this.closed) {
      // The session ended (or the client closed the stream) while this was connecting.
      dialed.socket.destroy();
      throw new RelayRefusal('connect-failed', 'the stream was closed while connecting');
    }
    this.dialed = dialed;
    const { socket } = dialed;
    socket.on('data', (chunk: Buffer) => {
      try {
        dialed.count(chunk.length);
      } catch (error) {
        this.onFatal?.(closeReasonFor(error));
        socket.destroy();
        return;
      }
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting(bytes);
      } else {
        this.queue.push(bytes);
      }
    });
    socket.on('error', (error) => {
      // The dialer's idle timeout destroys the socket with a RelayRefusal: tell the client why.
      if (error instanceof RelayRefusal) this.onFatal?.(closeReasonFor(error));
    });
    socket.on('close', () => {
      this.ended = true;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(null);
    });
  }

  recv(): Promise<Uint8Array | null> {
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async send(data: Uint8Array): Promise<void> {
    const dialed = this.dialed;
    if (!dialed || dialed.socket.destroyed) return;
    try {
      dialed.count(data.length);
    } catch (error) {
      this.onFatal?.(closeReasonFor(error));
      dialed.socket.destroy();
      return;
    }
    // Waiting for the write keeps wisp-js's send queue, and so the CONTINUE credits, honest.
    await new Promise<void>((resolve) => {
      if (dialed.socket.write(data)) resolve();
      else {
        const done = () => {
          dialed.socket.off('drain', done);
          dialed.socket.off('close', done);
          resolve();
        };
        dialed.socket.once('drain', done);
        dialed.socket.once('close', done);
      }
    });
  }

  close(): void {
    this.closed = true;
    // FIN after what is queued, then a full close: Wisp has no half-close.
    this.dialed?.socket.destroySoon();
  }

  pause(): void {
    if (this.queue.length >= 64 && this.dialed && !this.paused) {
      this.paused = true;
      this.dialed.socket.pause();
    }
  }

  resume(): void {
    if (this.paused && this.dialed) {
      this.paused = false;
      this.dialed.socket.resume();
    }
  }
}

/** Streams nobody may open: UDP is out of scope for the relay. */
class RefusedSocket implements wisp.WispSocketLike {
  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {}
  connect(): Promise<void> {
    return Promise.reject(new RelayRefusal('port-not-allowed', 'UDP is not relayed'));
  }
  recv(): Promise<null> {
    return Promise.resolve(null);
  }
  send(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
  pause(): void {}
  resume(): void {}
}

class PolicyConnection extends wisp.ServerConnection {
  constructor(
    ws: unknown,
    path: string,
    version: 1 | 2,
    private readonly dial: (host: string, port: number) => Promise<DialedSocket>,
    private readonly refused: (target: string, error: unknown) => void,
  ) {
    super(ws, path, { wisp_version: version, UDPSocket: RefusedSocket });
  }

  override create_stream(streamId: number, type: number, hostname: string, port: number): void {
    const target = `${hostname}:${port}`;
    if (this.streams[streamId] !== undefined || streamId === 0) {
      // A reused id would orphan the open stream's socket.
      void this.sendClose(streamId, WISP_CLOSE.InvalidInfo);
      return;
    }
    const socket =
      type === packet.stream_types.TCP ? new PolicySocket(hostname, port, this.dial) : new RefusedSocket(hostname, port);
    const stream = new wisp.ServerStream(streamId, this, socket);
    this.streams[streamId] = stream;
    if (socket instanceof PolicySocket) socket.onFatal = (reason) => void this.close_stream(streamId, reason, true);
    void (async () => {
      try {
        await stream.setup();
      } catch (error) {
        this.refused(target, error);
        await this.close_stream(streamId, closeReasonFor(error), true);
        return;
      }
      if (this.streams[streamId] !== stream) return;
      await this.ws.send(
        new packet.WispPacket({
          type: packet.ContinuePayload.type,
          stream_id: streamId,
          payload: new packet.ContinuePayload({ buffer_remaining: wisp.ServerStream.buffer_size }),
        }),
      );
    })().catch(() => undefined);
  }

  override route_packet(buffer: unknown): void {
    super.route_packet(buffer);
    // wisp-js queues DATA without waiting; a client that ignores its CONTINUE credits would grow the queue
    // without bound. Twice the credit is a protocol violation: end the session.
    for (const stream of Object.values(this.streams)) {
      if (stream.send_buffer.size > 2 * wisp.ServerStream.buffer_size) {
        this.ws.close(1008, 'flow control violated');
        return;
      }
    }
  }

  private sendClose(streamId: number, reason: number): Promise<void> {
    return this.ws.send(
      new packet.WispPacket({ type: packet.ClosePayload.type, stream_id: streamId, payload: new packet.ClosePayload({ reason }) }),
    );
  }
}

function clientAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** A path segment percent-decoded, or as given when it is not valid percent-encoding (then it matches no token). */
function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

export function createWispRelay(options: WispRelayOptions = {}): WispRelay {
  const basePath = options.basePath ?? DEFAULT_RELAY_PATH;
  if (!basePath.startsWith('/') || !basePath.endsWith('/')) throw new Error(`the relay path must start and end with "/", got ${basePath}`);
  const policy: RelayPolicyConfig = { ...DEFAULT_RELAY_POLICY, ...options.policy };
  const ledger = new ClientLedger(policy);
  const allowedOrigins = options.allowedOrigins ?? 'same-origin';
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });
  const open = new Set<WebSocket>();

  const pathOf = (request: IncomingMessage) => (request.url ?? '/').split('?')[0] ?? '/';
  const isOurs = (request: IncomingMessage) => pathOf(request).startsWith(basePath);

  /** Undefined when the request may open a session, else [status, reason, message]. */
  function check(request: IncomingMessage): [number, string, string] | undefined {
    const rest = pathOf(request).slice(basePath.length);
    if (options.token !== undefined) {
      const token = rest.endsWith('/') ? rest.slice(0, -1) : rest;
      if (!sameSecret(decodedOrRaw(token), options.token)) {
        return [401, 'Unauthorized', `this relay needs its token: use ${basePath}<token>/ as the relay URL's path`];
      }
    } else if (rest !== '') {
      return [404, 'Not Found', `the relay is at ${basePath}`];
    }
    const origin = request.headers.origin;
    if (origin !== undefined && allowedOrigins !== '*') {
      const allowed =
        allowedOrigins === 'same-origin'
          ? (() => {
              try {
                return new URL(origin).host === request.headers.host;
              } catch {
                return false;
              }
            })()
          : allowedOrigins.includes(origin);
      if (!allowed) return [403, 'Forbidden', `pages from ${origin} may not use this relay`];
    }
    return undefined;
  }

  function runSession(ws: WebSocket, request: IncomingMessage, client: string, releaseSession: () => void): void {
    // A frame ws refuses (reserved opcode, unmasked, RSV1 unnegotiated, a close reason that is not UTF-8, more than
    // maxPayload) makes it close with 1002/1007/1009 and emit 'error'; unheard, that error ended the process (#24).
    ws.on('error', () => ws.terminate());
    open.add(ws);
    const protocols = request.headers['sec-websocket-protocol'];
    const version: 1 | 2 = typeof protocols === 'string' && protocols.split(',').some((p) => p.trim() === 'wisp-v2') ? 2 : 1;
    const dial = (host: string, port: number) => dialChecked(host, port, { policy, ledger, client, ...(options.resolve ? { resolve: options.resolve } : {}) });
    const refused = (target: string, error: unknown) => {
      const refusal = error instanceof RelayRefusal ? error : new RelayRefusal('connect-failed', String(error));
      options.onRefusal?.(client, target, refusal);
    };
    ws.binaryType = 'arraybuffer';
    const connection = new PolicyConnection(ws, pathOf(request), version, dial, refused);
    void (async () => {
      try {
        await withDeadline(connection.setup(), handshakeTimeoutMs, () => new Error('handshake timeout'));
        await connection.run();
      } catch {
        await connection.cleanup().catch(() => undefined);
      } finally {
        ws.terminate();
        open.delete(ws);
        releaseSession();
      }
    })();
  }

  return {
    basePath,
    ledger,
    sessions: () => open.size,
    handleUpgrade(request, socket, head) {
      if (!isOurs(request)) return false;
      socket.on('error', () => undefined);
      const problem = check(request);
      if (problem) {
        refuseUpgrade(socket, ...problem);
        return true;
      }
      const client = clientAddress(request);
      let releaseSession: () => void;
      try {
        releaseSession = ledger.openSession(client);
      } catch (error) {
        refuseUpgrade(socket, 429, 'Too Many Requests', (error as Error).message);
        return true;
      }
      try {
        wss.handleUpgrade(request, socket, head, (ws) => runSession(ws, request, client, releaseSession));
      } catch {
        releaseSession();
        socket.destroy();
      }
      return true;
    },
    handleHttp(request, response) {
      if (!isOurs(request)) return false;
      const problem = check(request);
      const [status, , message] = problem ?? [426, 'Upgrade Required', 'tabdock TCP relay (Wisp): open it with a WebSocket'];
      response.statusCode = status;
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.setHeader('x-tabdock-relay', 'wisp');
      if (status === 426) response.setHeader('upgrade', 'websocket');
      response.end(`${message}\n`);
      return true;
    },
    close() {
      for (const ws of open) ws.terminate();
      wss.close();
    },
  };
}
