// Entry point of the network shim for the VM host: after creating the emulator, call attachNetwork() and the
// guest's TCP connections to port 80 (and any registry ports) are served here instead of by v86's fetch stub.
import type { V86 } from 'v86';
import type { LayerProgress, VmNotice } from '../../shared/contract.ts';
import { attachEgress, isClaimedByEgress, type EgressHandle, type EgressNotice } from './egress.ts';
import type { EgressDialer } from '../../shared/egress-dialer.ts';
import { guestSocketFromV86, type GuestSocket, type V86TcpConnection } from './guest-socket.ts';
import { forwardHttp } from './http-forward.ts';
import { serveHttp1, type Http1ServeOptions } from './http1-connection.ts';
import type { Http1Request } from './http1.ts';
import { CONNECT_PROXY_PORT, serveConnectTunnel, type ConnectTunnelConfig } from './connect-tunnel.ts';
import { MirrorVerdicts } from './mirror-verdicts.ts';
import { DEFAULT_MIRROR_HOST, RegistryMirror, type RegistryMirrorConfig } from './registry-mirror.ts';
import { Upstream, type UpstreamConfig } from './upstream.ts';
import { pipelineSends, type V86SendingConnection } from './v86-send-window.ts';

export type { GuestSocket, V86TcpConnection } from './guest-socket.ts';
export { DEFAULT_MIRROR_HOST } from './registry-mirror.ts';

/**
 * The slice of a v86 emulator the shim needs. `add_listener` is V86's public bus hook; the `tcp-connection`
 * event and `network_adapter` are internals of v86 0.5.462's fetch network (src/browser/fetch_network.js).
 */
export interface V86NetworkLike {
  add_listener(event: 'tcp-connection', listener: (conn: V86TcpConnection) => void): void;
  remove_listener(event: 'tcp-connection', listener: (conn: V86TcpConnection) => void): void;
}

export interface NetworkConfig extends RegistryMirrorConfig {
  /** The CORS proxy base URL ending in '/', e.g. `${location.origin}/cors-proxy/`; undefined fetches directly. */
  proxyUrl?: string;
  upstreamTimeoutMs?: number;
  /** Guest ports served besides 80, e.g. 5000 for `docker pull registry.test:5000/x` (needs a hostRewrite). */
  extraPorts?: readonly number[];
  /** Replaces the global fetch (tests; a Node host with its own agent). */
  fetch?: UpstreamConfig['fetch'];
  http?: Http1ServeOptions;
  /** Bytes v86 may send ahead of the guest's ACKs on shim connections (v86-send-window.ts); 0 keeps v86's one segment. */
  sendWindowBytes?: number;
  /** Carries dockerd's HTTPS tunnels (connect-tunnel.ts) to their host; without it they are refused with a reason. */
  tunnelRelay?: ConnectTunnelConfig['relay'];
  /** Told tabdock's line for an image without linux/386 (platform-advice.ts), before dockerd prints its error. */
  onPlatformAdvice?: (advice: string) => void;
  /** Carries every other guest TCP connection out (egress.ts): a Wisp relay, or node:net in Node. */
  egress?: { dialer: EgressDialer; onNotice?: (notice: EgressNotice) => void };
}

/** Where a platform's network reports to its VM host (VmHostPlatform.attachNetwork). */
export interface NetworkSink {
  notice(notice: VmNotice): void;
  /** The registry shim's per-layer pull progress (layer-progress.ts), for a watching page. */
  layerProgress(progress: LayerProgress): void;
}

/** A network attached to one emulator; its VM host detaches it when it drops that emulator or shuts down. */
export interface NetworkAttachment {
  detach(): void;
}

export interface NetworkStats {
  connections: number;
  registryRequests: number;
  forwardedRequests: number;
}

export interface NetworkHandle {
  /** Stops taking new guest connections; open ones finish. */
  detach(): void;
  stats(): NetworkStats;
  /** Serves one connection; attachNetwork() calls it for every accepted guest connection. Exposed for tests. */
  serve(socket: GuestSocket): void;
  /** The egress side, when config.egress was given and the emulator has v86's fetch network. */
  egress?: EgressHandle;
}

/**
 * The /etc/docker/daemon.json the guest needs for pulls to reach the shim: Docker Hub through the mirror name,
 * every other registry as an insecure (plain HTTP) registry, since the guest's DNS answers 192.168.87.1 for all.
 */
export function guestDaemonJson(mirrorHost: string = DEFAULT_MIRROR_HOST): Record<string, unknown> {
  return {
    'registry-mirrors': [`http://${mirrorHost}`],
    'insecure-registries': ['192.168.87.0/24'],
  };
}

export function attachNetwork(emulator: V86NetworkLike, config: NetworkConfig = {}): NetworkHandle {
  const upstreamConfig: UpstreamConfig = {};
  if (config.proxyUrl !== undefined) upstreamConfig.proxyUrl = config.proxyUrl;
  if (config.upstreamTimeoutMs !== undefined) upstreamConfig.timeoutMs = config.upstreamTimeoutMs;
  if (config.fetch !== undefined) upstreamConfig.fetch = config.fetch;
  const upstream = new Upstream(upstreamConfig);
  const verdicts = new MirrorVerdicts();
  const mirror = new RegistryMirror(upstream, { ...config, verdicts });
  const ports = new Set([80, CONNECT_PROXY_PORT, ...(config.extraPorts ?? [])]);
  const tunnels: ConnectTunnelConfig = {
    dockerHubVerdict: () => verdicts.current(),
    servedLocally: (host) => mirror.servesHost(host),
  };
  if (config.onPlatformAdvice) tunnels.onAdvice = config.onPlatformAdvice;
  // dockerd's CONNECT tunnels go out the way any other guest TCP does: an explicit relay, else egress's own.
  if (config.tunnelRelay) tunnels.relay = config.tunnelRelay;
  else if (config.egress) tunnels.relay = (socket, host, port, reply) => egress?.relayTcp(socket, host, port, reply);
  const stats: NetworkStats = { connections: 0, registryRequests: 0, forwardedRequests: 0 };

  const handler = async (request: Http1Request): Promise<Response> => {
    if (mirror.isRegistryRequest(request)) {
      stats.registryRequests++;
      return mirror.handle(request);
    }
    stats.forwardedRequests++;
    return forwardHttp(upstream, request, (host) => mirror.rewriteFor(host));
  };
  const serve = (socket: GuestSocket) => {
    stats.connections++;
    serveHttp1(socket, handler, config.http);
  };
  const onConnection = (conn: V86TcpConnection) => {
    if (!ports.has(conn.sport) || isClaimedByEgress(conn)) return;
    // v86's own fetch handler runs first and has already accepted port 80; taking over its `data` handler is
    // enough there, and accepting twice would send a second SYN-ACK.
    const socket = guestSocketFromV86(conn);
    if (conn.state !== 'established') conn.accept();
    // Several segments in flight instead of v86's one-per-ACK: layer downloads were paced by delayed ACKs.
    if (config.sendWindowBytes !== 0) pipelineSends(conn as unknown as V86SendingConnection, config.sendWindowBytes);
    if (conn.sport === CONNECT_PROXY_PORT) {
      stats.connections++;
      serveConnectTunnel(socket, tunnels);
      return;
    }
    serve(socket);
  };
  emulator.add_listener('tcp-connection', onConnection);
  const egress = config.egress
    ? attachEgress(emulator as unknown as V86, {
        dialer: config.egress.dialer,
        shimNames: [...(config.mirrorHosts ?? [DEFAULT_MIRROR_HOST]), ...Object.keys(config.hostRewrites ?? {})],
        shimPorts: [...ports],
        ...(config.egress.onNotice ? { onNotice: config.egress.onNotice } : {}),
        ...(config.sendWindowBytes === undefined ? {} : { sendWindowBytes: config.sendWindowBytes }),
      })
    : undefined;
  return {
    detach: () => {
      emulator.remove_listener('tcp-connection', onConnection);
      egress?.detach();
    },
    stats: () => ({ ...stats }),
    serve,
    ...(egress ? { egress } : {}),
  };
}
