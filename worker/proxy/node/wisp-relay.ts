// The TCP relay the page's worker reaches over one WebSocket: a Wisp server (wisp-js, the protocol's maintained
// JavaScript implementation, does the framing, the v2 handshake and per-stream flow control; wisp-connection.ts
// routes its streams through tabdock's relay policy). This file owns who may open a session (path, token,
// origin), the sessions themselves and their per-client slots. Mounted at /wisp/ by `npm start` / `npm run dev`
// (wisp-vite-plugin.ts) and by `npm run proxy` (node-server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { withDeadline } from '../../shared/deadline.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { ClientLedger } from '../client-ledger.ts';
import { clientKey, type TrustedProxy } from '../client-key.ts';
import { DEFAULT_RELAY_POLICY, isHostAlias, type RelayPolicyConfig } from '../relay-policy.ts';
import { checkAccess, type AccessRules, type OriginRule } from './relay-access.ts';
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
   * Which pages may open the relay (the WebSocket's Origin): 'same-origin' (the default: the page's own host, which
   * must also pass allowedHosts), '*' (any; protect it with a token), or a list of origins. Pages of other origins
   * never reach host.tabdock.internal.
   */
  allowedOrigins?: OriginRule;
  /** For 'same-origin': the Host names the server answers to besides IP literals and localhost (Vite's format). */
  allowedHosts?: readonly string[] | true;
  /**
   * Reverse proxies in front of the relay (`--trusted-proxy`, TABDOCK_TRUSTED_PROXY): behind them, per-client limits
   * count the client named in X-Forwarded-For, not the proxy.
   */
  trustedProxies?: readonly TrustedProxy[];
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

  const trustedProxies = options.trustedProxies ?? [];
  const rules: AccessRules = { basePath, token: options.token, allowedOrigins, allowedHosts: options.allowedHosts ?? [] };

  function runSession(ws: WebSocket, request: IncomingMessage, session: { client: string; crossOrigin: boolean; release: () => void }): void {
    const { client, crossOrigin, release: releaseSession } = session;
    // A frame ws refuses (reserved opcode, unmasked, RSV1 unnegotiated, a close reason that is not UTF-8, more than
    // maxPayload) makes it close with 1002/1007/1009 and emit 'error'; unheard, that error ended the process (#24).
    ws.on('error', () => ws.terminate());
    open.add(ws);
    const protocols = request.headers['sec-websocket-protocol'];
    const version: 1 | 2 = typeof protocols === 'string' && protocols.split(',').some((p) => p.trim() === 'wisp-v2') ? 2 : 1;
    const dial = (host: string, port: number) => {
      // The relay host's own loopback is for its own pages and local tools, never for another site's page (#24).
      if (crossOrigin && isHostAlias(host)) {
        return Promise.reject(new RelayRefusal('host-port-not-allowed', `${host} is reachable only from pages of the relay's own origin, not from ${request.headers.origin}`));
      }
      return dialChecked(host, port, { policy, ledger, client, ...(options.resolve ? { resolve: options.resolve } : {}) });
    };
    const refused = (target: string, error: unknown) => {
      const refusal = error instanceof RelayRefusal ? error : new RelayRefusal('connect-failed', String(error));
      options.onRefusal?.(client, target, refusal);
    };
    ws.binaryType = 'arraybuffer';
    const connection = new PolicyConnection(ws, pathOf(request), version, { dial, refused, ledger, client, idleTimeoutMs: policy.idleTimeoutMs });
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
      const verdict = checkAccess(request, rules);
      if (!verdict.ok) {
        refuseUpgrade(socket, verdict.status, verdict.reason, verdict.message);
        return true;
      }
      const client = clientKey(request.socket.remoteAddress, request.headers['x-forwarded-for'], trustedProxies);
      let releaseSession: () => void;
      try {
        releaseSession = ledger.openSession(client);
      } catch (error) {
        const busy = error instanceof RelayRefusal && error.code === 'relay-busy';
        refuseUpgrade(socket, busy ? 503 : 429, busy ? 'Service Unavailable' : 'Too Many Requests', (error as Error).message);
        return true;
      }
      // ws answers a malformed handshake (bad key or version) with 400 and never calls back: the slot must not stay
      // taken, or eight such requests lock the client out for good (everyone, behind an unnamed reverse proxy).
      let upgraded = false;
      socket.once('close', () => {
        if (!upgraded) releaseSession();
      });
      try {
        wss.handleUpgrade(request, socket, head, (ws) => {
          upgraded = true;
          runSession(ws, request, { client, crossOrigin: verdict.crossOrigin, release: releaseSession });
        });
      } catch {
        releaseSession();
        socket.destroy();
      }
      return true;
    },
    handleHttp(request, response) {
      if (!isOurs(request)) return false;
      const verdict = checkAccess(request, rules);
      const { status, message } = verdict.ok ? { status: 426, message: 'tabdock TCP relay (Wisp): open it with a WebSocket' } : verdict;
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
