import { describe, expect, it } from 'vitest';
import { RelayRefusal } from '../shared/relay-refusal.ts';
import { ClientLedger } from './client-ledger.ts';
import { clientKey, parseTrustedProxies } from './client-key.ts';
import { addressRefusal, DEFAULT_RELAY_POLICY, parsePortList, pickAddress, planDial } from './relay-policy.ts';

function refusalCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RelayRefusal ? error.code : `not a refusal: ${String(error)}`;
  }
}

describe('relay policy', () => {
  it('allows ports 80 and 443 by default and names anything else', () => {
    expect(planDial('Example.com.', 443, DEFAULT_RELAY_POLICY)).toEqual({ kind: 'resolve', host: 'example.com', port: 443 });
    expect(refusalCode(() => planDial('example.com', 22, DEFAULT_RELAY_POLICY))).toBe('port-not-allowed');
    expect(refusalCode(() => planDial('example.com', 0, DEFAULT_RELAY_POLICY))).toBe('bad-target');
    expect(refusalCode(() => planDial('exa mple.com', 80, DEFAULT_RELAY_POLICY))).toBe('bad-target');
    expect(planDial('[2001:4860::1]', 443, DEFAULT_RELAY_POLICY)).toEqual({ kind: 'resolve', host: '2001:4860::1', port: 443 });
  });

  it('maps host.tabdock.internal to 127.0.0.1 only on opened ports', () => {
    const policy = { ...DEFAULT_RELAY_POLICY, hostPorts: [5443] };
    expect(planDial('host.tabdock.internal', 5443, policy)).toEqual({ kind: 'loopback', address: '127.0.0.1', port: 5443 });
    expect(refusalCode(() => planDial('host.tabdock.internal', 443, policy))).toBe('host-port-not-allowed');
    expect(refusalCode(() => planDial('host.tabdock.internal', 5443, DEFAULT_RELAY_POLICY))).toBe('host-port-not-allowed');
  });

  it('passes only globally routable unicast addresses', () => {
    for (const ok of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect(addressRefusal(ok), ok).toBeUndefined();
    const refused = [
      '127.0.0.1', '127.5.5.5', '0.0.0.0', '10.0.0.1', '172.16.3.4', '192.168.1.1', '169.254.169.254', '100.100.100.200',
      '168.63.129.16', '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1',
      'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2002:7f00:1::1', '64:ff9b::a00:1', 'ff02::1', 'not-an-ip',
      // IPv4-compatible (::/96, #24 item 10), which ipaddr.js classes as unicast.
      '::127.0.0.1', '::7f00:1', '::a00:1', '::808:808',
    ];
    for (const address of refused) expect(addressRefusal(address), address).toBeDefined();
  });

  it('picks the first allowed address of a name and refuses names that only reach inside', () => {
    expect(pickAddress('a.test', ['10.0.0.1', '93.184.216.34'])).toBe('93.184.216.34');
    expect(refusalCode(() => pickAddress('a.test', ['127.0.0.1', '::1']))).toBe('address-not-allowed');
    expect(refusalCode(() => pickAddress('a.test', []))).toBe('not-resolved');
  });

  it('counts sessions, streams and bytes per client, and forgets a window when it passes', () => {
    let now = 0;
    const ledger = new ClientLedger({ ...DEFAULT_RELAY_POLICY, maxStreamsPerClient: 2, maxSessionsPerClient: 1, maxBytesPerClient: 100, byteWindowMs: 1000 }, () => now);
    const release = ledger.openSession('a');
    expect(refusalCode(() => ledger.openSession('a'))).toBe('too-many-streams');
    expect(ledger.openSession('b')).toBeTypeOf('function');
    release();
    release();
    expect(ledger.snapshot('a').sessions).toBe(0);
    const s1 = ledger.openStream('a');
    ledger.openStream('a');
    expect(refusalCode(() => ledger.openStream('a'))).toBe('too-many-streams');
    s1();
    ledger.checkBytes('a', 90);
    expect(refusalCode(() => ledger.checkBytes('a', 20))).toBe('byte-limit');
    expect(refusalCode(() => ledger.openStream('a'))).toBe('byte-limit');
    now = 1000;
    expect(() => ledger.checkBytes('a', 50)).not.toThrow();
  });

  it('parses port lists', () => {
    expect(parsePortList(' 80, 443 ', '--ports')).toEqual([80, 443]);
    expect(parsePortList(undefined, '--ports')).toEqual([]);
    expect(() => parsePortList('80,http', '--ports')).toThrow(/--ports wants a port number/);
  });

  it('caps sessions, streams and pending name lookups of all clients together', () => {
    const ledger = new ClientLedger({ ...DEFAULT_RELAY_POLICY, maxSessionsTotal: 2, maxStreamsTotal: 2, maxPendingLookups: 1 });
    ledger.openSession('a');
    const release = ledger.openSession('b');
    expect(refusalCode(() => ledger.openSession('c'))).toBe('relay-busy');
    release();
    expect(ledger.openSession('c')).toBeTypeOf('function');
    ledger.openStream('a');
    ledger.openStream('b');
    expect(refusalCode(() => ledger.openStream('c'))).toBe('relay-busy');
    const endLookup = ledger.startLookup();
    expect(refusalCode(() => ledger.startLookup())).toBe('relay-busy');
    endLookup();
    expect(ledger.startLookup()).toBeTypeOf('function');
  });
});

describe('client keys (#24 item 10)', () => {
  it('counts an IPv4 address alone and an IPv6 address by its /64', () => {
    expect(clientKey('203.0.113.7', undefined, [])).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7', undefined, [])).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa::1', undefined, [])).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff', undefined, [])).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1', undefined, [])).toBe('2001:db8:1:3::/64');
  });

  it('reads X-Forwarded-For only from trusted proxies, from its right end', () => {
    const trusted = parseTrustedProxies('127.0.0.1, 10.0.0.0/8', 'test');
    // Not from a trusted proxy: a client cannot pick its own key.
    expect(clientKey('198.51.100.1', '203.0.113.7', trusted)).toBe('198.51.100.1');
    expect(clientKey('127.0.0.1', '203.0.113.7', trusted)).toBe('203.0.113.7');
    // A client's own spoofed entries sit left of what the proxies added.
    expect(clientKey('127.0.0.1', '1.2.3.4, 203.0.113.7, 10.1.2.3', trusted)).toBe('203.0.113.7');
    expect(clientKey('127.0.0.1', '2001:db8:1:2::9', trusted)).toBe('2001:db8:1:2::/64');
    expect(clientKey('127.0.0.1', 'garbage', trusted)).toBe('127.0.0.1');
    expect(clientKey('127.0.0.1', undefined, trusted)).toBe('127.0.0.1');
    expect(() => parseTrustedProxies('127.0.0.1,proxy.example', 'TABDOCK_TRUSTED_PROXY')).toThrow('TABDOCK_TRUSTED_PROXY wants addresses or CIDR ranges');
  });
});
