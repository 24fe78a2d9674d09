// Cloudflare Workers entry: `npx wrangler deploy worker/proxy/edge/cloudflare.ts --name tabdock-proxy
// --compatibility-date 2025-01-01`. Extra hosts: set TABDOCK_PROXY_ALLOW (and _REDIRECT) as Worker variables.
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, parseHostList } from '../allow-list.ts';
import { createCorsProxy } from '../cors-proxy.ts';

interface Env {
  TABDOCK_PROXY_ALLOW?: string;
  TABDOCK_PROXY_ALLOW_REDIRECT?: string;
}

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    handler ??= createCorsProxy({
      registryHosts: [...DEFAULT_REGISTRY_HOSTS, ...parseHostList(env.TABDOCK_PROXY_ALLOW)],
      redirectHosts: [...DEFAULT_REDIRECT_HOSTS, ...parseHostList(env.TABDOCK_PROXY_ALLOW_REDIRECT)],
    });
    return handler(request);
  },
};
