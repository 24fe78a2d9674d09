// A Vite plugin that mounts the CORS proxy handler under /cors-proxy/ on both `vite` (dev) and `vite preview`,
// so the page's default proxy URL is `${location.origin}/cors-proxy/`. Usage in vite.config.ts:
//   import { corsProxyPlugin } from './worker/proxy/node/vite-plugin.ts';  plugins: [corsProxyPlugin()]
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, parseHostList } from '../allow-list.ts';
import { createCorsProxy } from '../cors-proxy.ts';
import { createCheckedFetch } from './checked-fetch.ts';
import { runOnNode, type NodeRequestLike, type NodeResponseLike } from './node-bridge.ts';

export const DEFAULT_PROXY_BASE_PATH = '/cors-proxy/';

export interface CorsProxyPluginOptions {
  basePath?: string;
  /** Added to the defaults; TABDOCK_PROXY_ALLOW and TABDOCK_PROXY_ALLOW_REDIRECT are read too. */
  extraRegistryHosts?: readonly string[];
  extraRedirectHosts?: readonly string[];
}

/** The part of Vite's dev and preview servers the plugin uses (structural: no vite or Node types needed). */
export interface ViteServerLike {
  middlewares: {
    use(handler: (req: NodeRequestLike, res: NodeResponseLike, next: () => void) => void): unknown;
  };
}

export interface CorsProxyPlugin {
  name: string;
  configureServer(server: ViteServerLike): void;
  configurePreviewServer(server: ViteServerLike): void;
}

export function corsProxyPlugin(options: CorsProxyPluginOptions = {}): CorsProxyPlugin {
  const basePath = options.basePath ?? DEFAULT_PROXY_BASE_PATH;
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  const handler = createCorsProxy({
    basePath,
    registryHosts: [...DEFAULT_REGISTRY_HOSTS, ...(options.extraRegistryHosts ?? []), ...parseHostList(env.TABDOCK_PROXY_ALLOW)],
    redirectHosts: [
      ...DEFAULT_REDIRECT_HOSTS,
      ...(options.extraRedirectHosts ?? []),
      ...parseHostList(env.TABDOCK_PROXY_ALLOW_REDIRECT),
    ],
    fetchByWildcard: createCheckedFetch(),
  });
  const mount = (server: ViteServerLike) => {
    // Mounted without a connect path prefix so req.url keeps the full path the handler parses.
    server.middlewares.use((req, res, next) => {
      if (!(req.url ?? '').startsWith(basePath)) {
        next();
        return;
      }
      void runOnNode(handler, req, res);
    });
  };
  return { name: 'tabdock-cors-proxy', configureServer: mount, configurePreviewServer: mount };
}
