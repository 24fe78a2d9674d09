// The TCP relay the page's worker reaches over one WebSocket: a Wisp server (wisp-js, the protocol's maintained
// JavaScript implementation, does the framing, the v2 handshake and per-stream flow control; wisp-connection.ts
// routes its streams through tabdock's relay policy). This file owns who may open a session (path, token,
// origin), the sessions themselves and their per-client slots. Mounted at /wisp/ by `npm start` / `npm run dev`
// (wisp-vite-plugin.ts) and by `npm run proxy` (node-server.ts).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { withDeadline } from '../../shared/deadline.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { ClientLedger, DEFAULT_RELAY_POLICY, type RelayPolicyConfig } from '../relay-policy.ts';
import { dialChecked, type Resolver } from './tcp-dialer.ts';
import { PolicyConnection } from './wisp-connection.ts';

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
    const connection = new PolicyConnection(ws, pathOf(request), version, { dial, refused, ledger, client });
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
