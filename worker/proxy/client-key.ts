// Which client a relay connection counts for (#24 item 10). Keyed on the exact address, everyone behind the
// README's reverse proxy shared one client's limits, and one IPv6 subscriber (who routinely holds a /64) had
// unlimited ones. IPv4 addresses count alone, IPv6 addresses by their /64; behind proxies the operator names
// (`--trusted-proxy`, TABDOCK_TRUSTED_PROXY), the client is the nearest address in X-Forwarded-For that is not one.
import ipaddr from 'ipaddr.js';

/** A trusted proxy: an address or a CIDR range, parsed. */
export type TrustedProxy = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses `10.0.0.1,10.1.0.0/16,::1`; throws a RangeError that names the bad entry. */
export function parseTrustedProxies(text: string | undefined, what: string): TrustedProxy[] {
  if (text === undefined || text.trim() === '') return [];
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      try {
        if (item.includes('/')) return ipaddr.parseCIDR(item);
        const address = ipaddr.parse(item);
        return [address, address.kind() === 'ipv4' ? 32 : 128];
      } catch {
        throw new RangeError(`${what} wants addresses or CIDR ranges of the reverse proxies in front of the relay (e.g. 127.0.0.1,10.0.0.0/8), got "${item}"`);
      }
    });
}

function parsed(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const value = ipaddr.parse(address);
  return value.kind() === 'ipv6' && (value as ipaddr.IPv6).isIPv4MappedAddress() ? (value as ipaddr.IPv6).toIPv4Address() : value;
}

function isTrusted(address: ipaddr.IPv4 | ipaddr.IPv6, trusted: readonly TrustedProxy[]): boolean {
  return trusted.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

function keyOf(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * The key per-client limits count under. `forwardedFor` (the X-Forwarded-For header) is read only when the
 * connection comes from a trusted proxy, from its right end: each hop a trusted proxy added is skipped, and the
 * first address that is not a trusted proxy is the client. Anything unreadable stops the walk at the last proxy.
 */
export function clientKey(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trusted: readonly TrustedProxy[]): string {
  const remote = parsed(remoteAddress ?? '');
  if (!remote) return `unknown:${remoteAddress ?? ''}`;
  let client = remote;
  if (trusted.length > 0 && forwardedFor !== undefined) {
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((hop) => hop.trim());
    while (isTrusted(client, trusted) && hops.length > 0) {
      const next = parsed(hops.pop() ?? '');
      if (!next) break;
      client = next;
    }
  }
  return keyOf(client);
}
