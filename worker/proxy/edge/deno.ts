// Deno Deploy entry: `deployctl deploy --project=tabdock-proxy worker/proxy/edge/deno.ts` (or locally
// `deno run --allow-net --allow-env worker/proxy/edge/deno.ts`). Extra hosts: TABDOCK_PROXY_ALLOW(_REDIRECT).
import { DEFAULT_REDIRECT_HOSTS, DEFAULT_REGISTRY_HOSTS, parseHostList } from '../allow-list.ts';
import { createCorsProxy } from '../cors-proxy.ts';

// Deno's global, declared here because the project's tsconfigs carry no Deno types.
declare const Deno: {
  serve(handler: (request: Request) => Promise<Response>): unknown;
  env: { get(name: string): string | undefined };
};

Deno.serve(
  createCorsProxy({
    registryHosts: [...DEFAULT_REGISTRY_HOSTS, ...parseHostList(Deno.env.get('TABDOCK_PROXY_ALLOW'))],
    redirectHosts: [...DEFAULT_REDIRECT_HOSTS, ...parseHostList(Deno.env.get('TABDOCK_PROXY_ALLOW_REDIRECT'))],
  }),
);
