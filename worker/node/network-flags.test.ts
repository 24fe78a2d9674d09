import { describe, expect, it } from 'vitest';
import { hostPortsFromFlags, networkConfigFromFlags } from './network-flags.ts';

describe('npm run vm network flags', () => {
  it('gives no network settings by default: Docker Hub, fetched directly', () => {
    expect(networkConfigFromFlags({}, {})).toEqual({});
  });

  it('turns --upstream, --proxy and --registry into the shim configuration', () => {
    expect(
      networkConfigFromFlags({
        upstream: 'http://127.0.0.1:5000/',
        proxy: 'http://127.0.0.1:8787',
        registries: ['registry.test=http://127.0.0.1:5001', 'Other.Test:5000=https://r.example.com'],
      }),
    ).toEqual({
      dockerHubUpstream: 'http://127.0.0.1:5000',
      proxyUrl: 'http://127.0.0.1:8787/',
      hostRewrites: { 'registry.test': 'http://127.0.0.1:5001', 'other.test:5000': 'https://r.example.com' },
      extraPorts: [5000],
    });
    expect(networkConfigFromFlags({ upstream: 'Mirror.GCR.io' })).toEqual({ dockerHubUpstream: 'mirror.gcr.io' });
  });

  it('reads TABDOCK_UPSTREAM, TABDOCK_PROXY and TABDOCK_REGISTRIES, flags winning', () => {
    const env = { TABDOCK_UPSTREAM: 'mirror.gcr.io', TABDOCK_PROXY: 'http://p.test/', TABDOCK_REGISTRIES: 'a.test=http://127.0.0.1:1, b.test=http://127.0.0.1:2' };
    expect(networkConfigFromFlags({}, env)).toEqual({
      dockerHubUpstream: 'mirror.gcr.io',
      proxyUrl: 'http://p.test/',
      hostRewrites: { 'a.test': 'http://127.0.0.1:1', 'b.test': 'http://127.0.0.1:2' },
    });
    expect(networkConfigFromFlags({ upstream: 'http://127.0.0.1:9' }, env).dockerHubUpstream).toBe('http://127.0.0.1:9');
  });

  it('rejects bad values naming the flag and an example', () => {
    for (const [flags, words] of [
      [{ upstream: 'not a host' }, '--upstream: "not a host" is not a host name'],
      [{ upstream: 'ftp://x.test' }, '--upstream: The upstream mirror must be a host name or an http:// or https:// address (got ftp://)'],
      [{ upstream: 'https://x.test/v2/' }, 'without a path'],
      [{ proxy: 'localhost:8787' }, '--proxy: The proxy URL must start with http:// or https:// (got localhost:)'],
      [{ proxy: 'nope' }, '--proxy: "nope" is not an absolute URL'],
      [{ proxy: 'http://u:p@127.0.0.1:8787/' }, 'user name or password'],
      [{ registries: ['registry.test'] }, '--registry wants NAME=ORIGIN'],
      [{ registries: ['bad name=http://x.test'] }, 'is not a host name'],
      [{ registries: ['r.test:70000=http://x.test'] }, 'from 1 to 65535'],
      [{ registries: ['r.test=http://x.test/path'] }, 'without a path'],
    ] as const) {
      expect(() => networkConfigFromFlags(flags), JSON.stringify(flags)).toThrow(words);
    }
  });

  it('opens host ports for host.tabdock.internal with --allow-host-port or TABDOCK_ALLOW_HOST_PORTS', () => {
    expect(hostPortsFromFlags(undefined, {})).toEqual([]);
    expect(hostPortsFromFlags(['5443', '8080,5443'], { TABDOCK_ALLOW_HOST_PORTS: '1' })).toEqual([5443, 8080]);
    expect(hostPortsFromFlags([], { TABDOCK_ALLOW_HOST_PORTS: ' 4000, 4001 ' })).toEqual([4000, 4001]);
    expect(() => hostPortsFromFlags(['0'])).toThrow(/--allow-host-port wants a port number/);
    expect(() => hostPortsFromFlags(['ssh'])).toThrow(/got "ssh"/);
  });
});
