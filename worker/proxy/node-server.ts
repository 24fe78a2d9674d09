// `npm run proxy`: the CORS proxy handler as a plain Node HTTP server, for development and self-hosting.
// Usage: npm run proxy -- [--port 8787] [--host 127.0.0.1] [--allow HOST[,HOST]] [--allow-redirect HOST[,HOST]]
// Extra hosts also come from TABDOCK_PROXY_ALLOW / TABDOCK_PROXY_ALLOW_REDIRECT (comma separated).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, parseHostList } from './allow-list.ts';
import { createCorsProxy, type CorsProxyConfig } from './cors-proxy.ts';
import { runOnNode } from './node-bridge.ts';

export interface ProxyServerOptions {
  port?: number;
  host?: string;
  /** Added to the default registry allow-list. */
  extraRegistryHosts?: readonly string[];
  /** Added to the default redirect (blob CDN) allow-list. */
  extraRedirectHosts?: readonly string[];
  upstreamTimeoutMs?: number;
}

export interface RunningProxyServer {
  /** Base URL to give the shim as its proxyUrl (ends in '/'). */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startProxyServer(options: ProxyServerOptions = {}): Promise<RunningProxyServer> {
  const config: CorsProxyConfig = {
    basePath: '/',
    registryHosts: [...DEFAULT_REGISTRY_HOSTS, ...(options.extraRegistryHosts ?? [])],
    redirectHosts: [...DEFAULT_REDIRECT_HOSTS, ...(options.extraRedirectHosts ?? [])],
  };
  if (options.upstreamTimeoutMs !== undefined) config.upstreamTimeoutMs = options.upstreamTimeoutMs;
  const handler = createCorsProxy(config);
  const server = createServer((req, res) => {
    void runOnNode(handler, req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    server,
    close: () =>
      new Promise((resolve) => {
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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run proxy -- [--port 8787] [--host 127.0.0.1] [--allow HOST,...] [--allow-redirect HOST,...]\n' +
        'HOST patterns: registry.example.com, *.example.com, host:5000, http://127.0.0.1:5000 (plain HTTP).\n',
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
  });
  process.stdout.write(`tabdock CORS proxy listening on ${running.url}\nUse it as the proxy URL: ${running.url}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`tabdock proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
