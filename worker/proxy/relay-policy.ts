// What the TCP relay may connect to and how much one client may use it: the one policy shared by the Wisp relay
// server (wisp-relay.ts) and the Node harness's in-process relay (tcp-dialer.ts). Pure: no Node built-ins, so a
// Deno or Workers host can use it too. Addresses are classified with ipaddr.js (special-purpose registries,
// RFC 6890), and checked AFTER the name is resolved, on the address actually dialled (no DNS rebinding).
import ipaddr from 'ipaddr.js';
import { RelayRefusal } from '../shared/relay-refusal.ts';

/** The name the guest uses for the relay host's own loopback, reachable only on ports listed in hostPorts. */
export const HOST_ALIAS = 'host.tabdock.internal';

export interface RelayPolicyConfig {
  /** Destination ports anyone may reach (default 80 and 443). */
  allowedPorts: readonly number[];
  /** Ports of 127.0.0.1 reachable as host.tabdock.internal:PORT (`--allow-host-port`); empty by default. */
  hostPorts: readonly number[];
  /** Open TCP streams per client at once. */
  maxStreamsPerClient: number;
  /** Open relay sessions (WebSockets) per client at once. */
  maxSessionsPerClient: number;
  /** Bytes both ways per client per byteWindowMs; uploads count when they reach the relay. */
  maxBytesPerClient: number;
  byteWindowMs: number;
  /**
   * Upload bytes one client may have waiting in the relay for targets that are slower than the client (counted
   * from their arrival until the target's socket took them); a stream that would pass it is closed.
   */
  maxQueuedBytesPerClient: number;
  /** The same, for all clients together. */
  maxQueuedBytesTotal: number;
  /** Open sessions and streams of all clients together (each stream holds a socket, so a file descriptor). */
  maxSessionsTotal: number;
  maxStreamsTotal: number;
  /**
   * Name lookups still running, all clients together, counting those whose dial already timed out: the system
   * resolver runs in Node's small thread pool, where slow lookups would queue every later one.
   */
  maxPendingLookups: number;
  /** A stream with no bytes either way for this long is closed. */
  idleTimeoutMs: number;
  /** Time allowed to resolve and connect. */
  connectTimeoutMs: number;
}

export const DEFAULT_RELAY_POLICY: RelayPolicyConfig = {
  allowedPorts: [80, 443],
  hostPorts: [],
  maxStreamsPerClient: 64,
  maxSessionsPerClient: 8,
  maxBytesPerClient: 4 * 1024 * 1024 * 1024,
  byteWindowMs: 60 * 60 * 1000,
  maxQueuedBytesPerClient: 16 * 1024 * 1024,
  maxQueuedBytesTotal: 256 * 1024 * 1024,
  maxSessionsTotal: 512,
  maxStreamsTotal: 4096,
  maxPendingLookups: 64,
  idleTimeoutMs: 5 * 60 * 1000,
  connectTimeoutMs: 10_000,
};

/** Whether a requested host names the relay host's own loopback (host.tabdock.internal, any case, trailing dot). */
export function isHostAlias(host: string): boolean {
  return host.trim().toLowerCase().replace(/\.$/, '') === HOST_ALIAS;
}

/** Where a stream goes once the target passed the port check: a fixed loopback port, or a name to resolve. */
export type DialPlan = { kind: 'loopback'; address: '127.0.0.1'; port: number } | { kind: 'resolve'; host: string; port: number };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** Checks a requested host and port before anything is resolved; throws RelayRefusal. */
export function planDial(host: string, port: number, policy: RelayPolicyConfig): DialPlan {
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RelayRefusal('bad-target', `port ${port} is not a TCP port`);
  if (name === HOST_ALIAS) {
    if (!policy.hostPorts.includes(port)) {
      throw new RelayRefusal(
        'host-port-not-allowed',
        `${HOST_ALIAS}:${port} is not open; start the VM with --allow-host-port ${port} to reach 127.0.0.1:${port} of the host`,
      );
    }
    return { kind: 'loopback', address: '127.0.0.1', port };
  }
  if (!policy.allowedPorts.includes(port)) {
    throw new RelayRefusal('port-not-allowed', `port ${port} is not allowed by the relay (allowed: ${policy.allowedPorts.join(', ')})`);
  }
  const literal = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (ipaddr.isValid(literal)) return { kind: 'resolve', host: literal, port };
  if (!HOST_NAME.test(name)) throw new RelayRefusal('bad-target', `"${host.slice(0, 80)}" is not a host name`);
  return { kind: 'resolve', host: name, port };
}

/**
 * Cloud metadata endpoints that are ordinary unicast addresses, or worth naming although their range is
 * refused anyway: AWS/GCP/Azure 169.254.169.254, AWS IPv6 fd00:ec2::254, Azure's WireServer 168.63.129.16.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '168.63.129.16']);

/**
 * Undefined when `address` may be dialled, else why not. Only globally routable unicast passes: loopback,
 * private (RFC 1918, IPv6 unique local), link-local, carrier-grade NAT, multicast, reserved, documentation and
 * translation ranges (6to4, Teredo, NAT64, IPv4-mapped, whose embedded IPv4 could be private) are refused.
 */
export function addressRefusal(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const normalised = parsed.toNormalizedString();
  const compact = parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toString() : normalised;
  if (METADATA_ADDRESSES.has(compact) || METADATA_ADDRESSES.has(normalised)) return `${compact} is a cloud metadata address`;
  const range = parsed.range();
  if (range !== 'unicast') return `${compact} is a ${range} address`;
  // ::/96, the deprecated IPv4-compatible addresses (RFC 4291 section 2.5.5.1), which ipaddr.js calls unicast.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) {
    return `${compact} is an IPv4-compatible address`;
  }
  return undefined;
}

/** Picks the first allowed address of a resolved name; throws 'address-not-allowed' when none is. */
export function pickAddress(host: string, addresses: readonly string[]): string {
  if (addresses.length === 0) throw new RelayRefusal('not-resolved', `${host} has no address`);
  const reasons: string[] = [];
  for (const address of addresses) {
    const refusal = addressRefusal(address);
    if (refusal === undefined) return address;
    reasons.push(refusal);
  }
  throw new RelayRefusal('address-not-allowed', `${host} resolves to an address the relay does not reach (${reasons[0]})`);
}

/** Parses a comma-separated port list (`--allow-host-port`, TABDOCK_ALLOW_HOST_PORTS, relay --ports). */
export function parsePortList(text: string | undefined, what: string): number[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((item) => parsePort(item.trim(), what));
}

export function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new RangeError(`${what} wants a port number from 1 to 65535, got "${text}"`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new RangeError(`${what} wants a port number from 1 to 65535, got "${text}"`);
  return port;
}

/** A sentence for a refused or failed stream, naming the target. */
export function refusalMessage(host: string, port: number, refusal: RelayRefusal): string {
  return `${host}:${port}: ${refusal.message}`;
}
