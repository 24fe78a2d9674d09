// `npm run proxy`: the CORS proxy handler as a plain Node HTTP server, for development and self-hosting, with
// the Wisp TCP relay beside it at /wisp/ (worker/proxy/node/wisp-relay.ts).
// Usage: npm run proxy -- [--port 8787] [--host 127.0.0.1] [--allow HOST[,HOST]] [--allow-redirect HOST[,HOST]]
//          [--relay-origin ORIGIN]... [--trusted-proxy ADDRESS[/BITS]]... [--no-relay]
// Extra hosts also come from TABDOCK_PROXY_ALLOW / TABDOCK_PROXY_ALLOW_REDIRECT (comma separated); the relay's
// settings from TABDOCK_RELAY_PORTS, TABDOCK_ALLOW_HOST_PORTS, TABDOCK_RELAY_TOKEN and TABDOCK_TRUSTED_PROXY.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, parseHostList } from '../allow-list.ts';
import { parseTrustedProxies } from '../client-key.ts';
import { createCorsProxy, type CorsProxyConfig } from '../cors-proxy.ts';
import { createCheckedFetch } from './checked-fetch.ts';
import { runOnNode } from './node-bridge.ts';
import { relaySettingsFromEnv } from './relay-env.ts';
import { createWispRelay, type WispRelayOptions } from './wisp-relay.ts';

export interface ProxyServerOptions {
  port?: number;
  host?: string;
  /** Added to the default registry allow-list. */
  extraRegistryHosts?: readonly string[];
  /** Added to the default redirect (blob CDN) allow-list. */
  extraRedirectHosts?: readonly string[];
  upstreamTimeoutMs?: number;
  /**
   * The Wisp relay at /wisp/ (default: on); false: no relay. Pages it accepts: `allowedOrigins` if given, else any
   * page when a token protects it, else only pages of its own origin through a localhost or IP-literal Host.
   */
  relay?: WispRelayOptions | false;
}

export interface RunningProxyServer {
  /** Base URL to give the shim as its proxyUrl (ends in '/'). */
  url: string;
  /** The relay URL for the page's Network dialog (ws://.../wisp/), when the relay is on. */
  relayUrl?: string;
  server: Server;
  close(): Promise<void>;
}

export async function startProxyServer(options: ProxyServerOptions = {}): Promise<RunningProxyServer> {
  const config: CorsProxyConfig = {
    basePath: '/',
    registryHosts: [...DEFAULT_REGISTRY_HOSTS, ...(options.extraRegistryHosts ?? [])],
    redirectHosts: [...DEFAULT_REDIRECT_HOSTS, ...(options.extraRedirectHosts ?? [])],
    fetchByWildcard: createCheckedFetch(),
  };
  if (options.upstreamTimeoutMs !== undefined) config.upstreamTimeoutMs = options.upstreamTimeoutMs;
  const handler = createCorsProxy(config);
  const relay =
    options.relay === false
      ? undefined
      : createWispRelay({ ...options.relay, allowedOrigins: options.relay?.allowedOrigins ?? (options.relay?.token ? '*' : 'same-origin') });
  const server = createServer((req, res) => {
    if (relay?.handleHttp(req, res)) return;
    void runOnNode(handler, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!relay?.handleUpgrade(req, socket, head)) socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: `http://${authority}/`,
    ...(relay ? { relayUrl: `ws://${authority}${relay.basePath}` } : {}),
    server,
    close: () =>
      new Promise((resolve) => {
        relay?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      allow: { type: 'string', multiple: true, default: [] },
      'allow-redirect': { type: 'string', multiple: true, default: [] },
      'relay-origin': { type: 'string', multiple: true, default: [] },
      'trusted-proxy': { type: 'string', multiple: true, default: [] },
      'no-relay': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run proxy -- [--port 8787] [--host 127.0.0.1] [--allow HOST,...] [--allow-redirect HOST,...]\n' +
        '                        [--relay-origin ORIGIN]... [--trusted-proxy ADDRESS[/BITS]]... [--no-relay]\n' +
        'HOST patterns: registry.example.com, *.example.com, host:5000, http://127.0.0.1:5000 (plain HTTP),\n' +
        'registry.example.com/v2/ (that path and below only).\n' +
        'The TCP relay for containers is at /wisp/ (--no-relay turns it off). Pages that may use it: those of the\n' +
        'origins given with --relay-origin; without it, any page when TABDOCK_RELAY_TOKEN is set (clients then use\n' +
        '/wisp/<token>/), else only pages served by this server itself. Environment: TABDOCK_RELAY_PORTS (default\n' +
        '80,443), TABDOCK_ALLOW_HOST_PORTS (host.tabdock.internal:PORT reaches 127.0.0.1:PORT here; never for pages\n' +
        'of another origin). Behind a reverse proxy, name it with --trusted-proxy (or TABDOCK_TRUSTED_PROXY) so that\n' +
        'per-client limits count the X-Forwarded-For client, not the proxy.\n',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a number from 0 to 65535, got ${values.port}`);
  }
  const running = await startProxyServer({
    port,
    host: values.host,
    extraRegistryHosts: [...values.allow.flatMap(parseHostList), ...parseHostList(process.env.TABDOCK_PROXY_ALLOW)],
    extraRedirectHosts: [
      ...values['allow-redirect'].flatMap(parseHostList),
      ...parseHostList(process.env.TABDOCK_PROXY_ALLOW_REDIRECT),
    ],
    relay: values['no-relay']
      ? false
      : {
          ...relaySettingsFromEnv(process.env),
          ...(values['relay-origin'].length > 0 ? { allowedOrigins: values['relay-origin'] } : {}),
          ...(values['trusted-proxy'].length > 0 ? { trustedProxies: parseTrustedProxies(values['trusted-proxy'].join(','), '--trusted-proxy') } : {}),
        },
  });
  process.stdout.write(`tabdock CORS proxy listening on ${running.url}\nUse it as the proxy URL: ${running.url}\n`);
  if (running.relayUrl) {
    const token = process.env.TABDOCK_RELAY_TOKEN?.trim();
    process.stdout.write(`Use ${token ? `${running.relayUrl}${token}/` : running.relayUrl} as the relay URL (TCP for containers; ports ${relaySettingsFromEnv(process.env).policy.allowedPorts?.join(',') ?? '80,443'})\n`);
    const origins = values['relay-origin'];
    process.stdout.write(
      origins.length > 0
        ? `Pages that may use the relay: ${origins.join(', ')}\n`
        : token
          ? 'Pages that may use the relay: any that knows the token\n'
          : 'Pages that may use the relay: none of another origin; allow your app with --relay-origin (e.g. http://localhost:5173) or set TABDOCK_RELAY_TOKEN\n',
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`tabdock proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
