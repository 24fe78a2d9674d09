// The guest dockerd's HTTPS proxy. tabdock-init starts dockerd with HTTPS_PROXY pointing here, so every TLS
// connection dockerd opens (Docker Hub's registry-1.docker.io after a mirror failure, `docker login` and `push`
// to a TLS registry) arrives as an HTTP CONNECT (RFC 9110 section 9.3.6) on this guest port. With a relay
// (egress) the tunnel is carried to host:port, TLS staying end to end between dockerd and the registry. Without
// one, the CONNECT is refused with a reason Go's HTTP client passes on verbatim (net/http transport.go: the
// status text after the code becomes the error), so `docker pull` ends with the Docker Hub mirror's verdict
// ("manifest ... not found: manifest unknown", "no matching manifest for linux/386 ...") rather than with a
// connection refused by a registry the guest cannot reach. A final verdict (mirror-verdicts.ts isFinal) is
// answered at once, relay or not: Docker Hub could only say the same.
import type { GuestSocket } from './guest-socket.ts';
import { encodeLatin1 } from './http1.ts';
import { isFinal, type MirrorVerdict } from './mirror-verdicts.ts';

/** The guest port dockerd's HTTPS_PROXY names (vm-images/config/tabdock-init). */
export const CONNECT_PROXY_PORT = 3128;
/** The request head of a CONNECT is a line and a few headers; anything longer is not dockerd. */
const MAX_HEAD_BYTES = 8 * 1024;
const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/** How a relay answers whether it reached host:port (egress.ts RelayReply). */
export interface TunnelReply {
  connected(): void;
  refused(error: { message: string }): void;
}

export interface ConnectTunnelConfig {
  /** Carries the tunnel to host:port (egress relayTcp); undefined when no relay is configured. */
  relay?: (socket: GuestSocket, host: string, port: number, reply: TunnelReply) => void;
  /** The Docker Hub mirror's last verdict (mirror-verdicts.ts), for a refused tunnel to Docker Hub. */
  dockerHubVerdict?: () => MirrorVerdict | undefined;
  /**
   * Told tabdock's line for the user when a Docker Hub tunnel is answered with a verdict that has one (an image
   * without linux/386), just before dockerd hears the verdict and prints its own error.
   */
  onAdvice?: (advice: string) => void;
  /** Names the shim serves over plain HTTP (mirror, rewritten registries): never tunnelled, refused at once. */
  servedLocally?: (host: string) => boolean;
}

/** A status line's reason may hold no CR or LF; keep it printable ASCII and bounded. */
function safeReason(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 300);
}

function refuse(socket: GuestSocket, status: number, reason: string): void {
  socket.write(encodeLatin1(`HTTP/1.1 ${status} ${safeReason(reason)}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`));
  socket.close();
}

/** The authority-form target `host:port` of a CONNECT request line, or undefined. */
export function parseConnectTarget(requestLine: string): { host: string; port: number } | undefined {
  const match = /^CONNECT (\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5}) HTTP\/1\.[01]$/.exec(requestLine);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port };
}

/** Why a tunnel is refused when there is no relay: the mirror's verdict for Docker Hub, else what to do. */
export function refusalReason(host: string, port: number, verdict: string | undefined): string {
  if (host === DOCKER_HUB_REGISTRY && verdict !== undefined) return verdict;
  return `tabdock has no relay for ${host}:${port}: set a relay in Network... to reach registries over TLS`;
}

/** Serves one guest connection to the proxy port: reads the CONNECT head, then tunnels or refuses. */
export function serveConnectTunnel(socket: GuestSocket, config: ConnectTunnelConfig): void {
  let head = '';
  let done = false;
  socket.onData((bytes) => {
    if (done) return;
    for (const byte of bytes) head += String.fromCharCode(byte);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) {
        done = true;
        refuse(socket, 431, 'request head too large');
      }
      return;
    }
    done = true;
    // Bytes after the head belong to the tunnel (a TLS ClientHello); dockerd waits for the 200 first, so there
    // are none, and a client that sends them anyway is refused rather than half-served.
    if (head.length > end + 4) {
      refuse(socket, 400, 'data before the tunnel was established');
      return;
    }
    const requestLine = head.slice(0, head.indexOf('\r\n'));
    const target = parseConnectTarget(requestLine);
    if (!target) {
      refuse(socket, requestLine.startsWith('CONNECT ') ? 400 : 405, 'this port is an HTTPS proxy: only CONNECT host:port');
      return;
    }
    // dockerd tries HTTPS first even for an insecure registry and falls back to plain HTTP on a refusal.
    if (config.servedLocally?.(target.host)) {
      refuse(socket, 502, `${target.host} is served by tabdock over plain HTTP`);
      return;
    }
    const verdict = target.host === DOCKER_HUB_REGISTRY ? config.dockerHubVerdict?.() : undefined;
    if (verdict !== undefined && isFinal(verdict)) {
      if (verdict.kind === 'no-platform') config.onAdvice?.(verdict.advice);
      refuse(socket, 502, verdict.message);
      return;
    }
    if (!config.relay) {
      refuse(socket, 502, refusalReason(target.host, target.port, verdict?.message));
      return;
    }
    config.relay(socket, target.host, target.port, {
      connected: () => socket.write(encodeLatin1('HTTP/1.1 200 Connection established\r\n\r\n')),
      // Docker Hub unreachable through the relay as well: the mirror's verdict still says more than the relay.
      refused: (error) => refuse(socket, 502, verdict?.message ?? error.message),
    });
  });
}
