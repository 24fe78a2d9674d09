// How the CORS proxy (worker/proxy/cors-proxy.ts) marks the answers it writes itself, so the VM worker's registry
// shim (worker/vm/net/upstream.ts) can tell a proxy failure from the upstream's own error and say which it was.

/** Set on every answer the proxy writes itself, carrying a ProxyErrorCode. */
export const PROXY_ERROR_HEADER = 'x-tabdock-proxy-error';

export type ProxyErrorCode = 'not-allowed' | 'bad-target' | 'bad-request' | 'method' | 'unreachable' | 'timeout' | 'redirect';
