// `npm run vm`'s network flags and their environment variables, turned into the shim's NetworkConfig. The VM pull
// test builds its configuration here too, so the flags are exercised by a real `docker pull`.
import { parseHostPort, parseHttpOrigin, parseProxyUrl, parseUpstreamMirror, type FieldResult } from '../shared/network-options.ts';
import type { NetworkConfig } from '../vm/net/index.ts';

export interface NetworkFlags {
  /** --upstream / TABDOCK_UPSTREAM: Docker Hub's replacement, `host[:port]` or an http(s) origin. */
  upstream?: string | undefined;
  /** --proxy / TABDOCK_PROXY: a CORS proxy base URL (e.g. `npm run proxy`); default: fetch directly. */
  proxy?: string | undefined;
  /** --registry / TABDOCK_REGISTRIES: `name[:port]=origin`, a guest-visible registry name served by `origin`. */
  registries?: readonly string[] | undefined;
}

export class NetworkFlagError extends Error {}

/**
 * --allow-host-port / TABDOCK_ALLOW_HOST_PORTS: ports of this machine's 127.0.0.1 the guest may reach as
 * host.tabdock.internal:PORT through the harness's relay. Flags win over the environment.
 */
export function hostPortsFromFlags(flags: readonly string[] | undefined, env: Record<string, string | undefined> = {}): number[] {
  const items = flags?.length ? flags.flatMap((flag) => flag.split(',')) : (nonEmpty(env['TABDOCK_ALLOW_HOST_PORTS'])?.split(',') ?? []);
  const ports = new Set<number>();
  for (const item of items.map((text) => text.trim()).filter((text) => text !== '')) {
    const port = /^\d{1,5}$/.test(item) ? Number(item) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw new NetworkFlagError(`--allow-host-port wants a port number from 1 to 65535, got "${item}" (e.g. --allow-host-port 5443)`);
    }
    ports.add(port);
  }
  return [...ports];
}

/** Flags win over the environment; every value is checked and a bad one names the flag and an example. */
export function networkConfigFromFlags(flags: NetworkFlags, env: Record<string, string | undefined> = {}): NetworkConfig {
  const config: NetworkConfig = {};
  const upstream = flags.upstream ?? nonEmpty(env['TABDOCK_UPSTREAM']);
  if (upstream !== undefined) config.dockerHubUpstream = parseUpstream(upstream);
  const proxy = flags.proxy ?? nonEmpty(env['TABDOCK_PROXY']);
  if (proxy !== undefined) config.proxyUrl = parseProxy(proxy);
  const registries = flags.registries?.length ? flags.registries : (nonEmpty(env['TABDOCK_REGISTRIES'])?.split(',') ?? []);
  const rewrites: Record<string, string> = {};
  const ports = new Set<number>();
  for (const entry of registries.map((text) => text.trim()).filter((text) => text !== '')) {
    const { name, origin, port } = parseRegistry(entry);
    rewrites[name] = origin;
    if (port !== undefined && port !== 80) ports.add(port);
  }
  if (Object.keys(rewrites).length > 0) config.hostRewrites = rewrites;
  if (ports.size > 0) config.extraPorts = [...ports];
  return config;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/** A shared parser's answer (worker/shared/network-options.ts), or the flag's error naming it and an example. */
function checked(result: FieldResult, flag: string, example: string): string {
  if (!result.ok) throw new NetworkFlagError(`${flag}: ${result.error} (${example})`);
  if (result.value === undefined) throw new NetworkFlagError(`${flag} wants a value (${example})`);
  return result.value;
}

function parseUpstream(text: string): string {
  return checked(parseUpstreamMirror(text), '--upstream', 'e.g. --upstream mirror.gcr.io or --upstream http://127.0.0.1:5000');
}

function parseProxy(text: string): string {
  return checked(parseProxyUrl(text), '--proxy', 'e.g. --proxy http://127.0.0.1:8787/ from `npm run proxy`');
}

function parseRegistry(entry: string): { name: string; origin: string; port: number | undefined } {
  const example = 'e.g. --registry registry.test=http://127.0.0.1:5000';
  const equals = entry.indexOf('=');
  if (equals <= 0) throw new NetworkFlagError(`--registry wants NAME=ORIGIN, got "${entry}" (${example})`);
  const name = entry.slice(0, equals);
  const hostPort = parseHostPort(name);
  if (!hostPort) throw new NetworkFlagError(`--registry: "${name}" is not a host name with an optional port from 1 to 65535 (${example})`);
  const origin = checked(parseHttpOrigin(entry.slice(equals + 1), 'The registry origin'), '--registry', example);
  return { name: hostPort.host.replace(/:80$/, ''), origin, port: hostPort.port };
}
