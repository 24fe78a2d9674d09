// The CORS proxy handler against local upstream servers, and the same handler behind `npm run proxy`'s server.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REGISTRY_HOSTS, HostAllowList } from './allow-list.ts';
import { PROXY_ERROR_HEADER } from '../shared/proxy-errors.ts';
import { createCorsProxy } from './cors-proxy.ts';
import { checkedLookup, createCheckedFetch } from './node/checked-fetch.ts';
import { startProxyServer } from './node/node-server.ts';

let upstream: Server;
let upstreamHost: string;
let cdn: Server;
let cdnHost: string;
let seen: IncomingHttpHeaders[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  cdn = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('blob-bytes');
  });
  cdnHost = await listen(cdn);
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    switch (req.url) {
      case '/v2/':
        res.writeHead(401, {
          'www-authenticate': 'Bearer realm="https://auth.example/token"',
          'set-cookie': 'session=secret',
          'docker-distribution-api-version': 'registry/2.0',
        });
        res.end('{}');
        return;
      case '/to-cdn':
        res.writeHead(307, { location: `http://${cdnHost}/blob?sig=1` }).end();
        return;
      case '/to-elsewhere':
        res.writeHead(302, { location: 'http://evil.example/' }).end();
        return;
      case '/v2/page.html':
        // What a registry host's website could send: active content, its own CSP and a credentialed CORS answer.
        res.writeHead(200, {
          'content-type': 'text/html',
          'content-security-policy': "script-src 'unsafe-inline'",
          'access-control-allow-origin': 'https://evil.example',
          'access-control-allow-credentials': 'true',
        });
        res.end('<script>parent.document.title = "owned"</script><svg onload="alert(1)"></svg>');
        return;
      case '/to-wildcard':
        // A name only a wildcard entry allows, which (in this test's resolver) points back inside.
        res.writeHead(307, { location: `http://blob.wild.test:${cdnHost.split(':')[1]}/blob` }).end();
        return;
      case '/slow':
        // Never answers: the proxy's head timeout must.
        return;
      default:
        res.writeHead(200, { 'docker-content-digest': 'sha256:abc', 'content-type': 'text/plain' }).end('hello');
    }
  });
  upstreamHost = await listen(upstream);
});

afterAll(async () => {
  for (const server of [upstream, cdn]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function proxy() {
  return createCorsProxy({
    basePath: '/p/',
    registryHosts: [`http://${upstreamHost}`],
    redirectHosts: [`http://${cdnHost}`],
    upstreamTimeoutMs: 300,
  });
}

describe('createCorsProxy', () => {
  it('answers a preflight without touching the upstream', async () => {
    seen = [];
    const response = await proxy()(
      new Request(`http://site/p/${upstreamHost}/v2/`, {
        method: 'OPTIONS',
        headers: { origin: 'http://site', 'access-control-request-headers': 'authorization, range, x-evil' },
      }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-headers')).not.toContain('x-evil');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(seen).toHaveLength(0);
  });

  it('forwards GET without cookies either way and exposes the registry headers', async () => {
    seen = [];
    const response = await proxy()(
      new Request(`http://site/p/${upstreamHost}/v2/`, { headers: { cookie: 'tab=1', authorization: 'Bearer t', 'x-other': '1' } }),
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('access-control-expose-headers')).toContain('www-authenticate');
    expect(response.headers.get('access-control-expose-headers')).toContain('docker-content-digest');
    expect(seen[0]?.cookie).toBeUndefined();
    expect(seen[0]?.['x-other']).toBeUndefined();
    expect(seen[0]?.authorization).toBe('Bearer t');
    expect(seen[0]?.['accept-encoding']).toBe('identity');
  });

  it('refuses a host that is not allow-listed with 403 and a readable reason', async () => {
    const response = await proxy()(new Request('http://site/p/example.com/'));
    expect(response.status).toBe(403);
    expect(response.headers.get(PROXY_ERROR_HEADER)).toBe('not-allowed');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.text()).toContain('example.com is not on this proxy');
  });

  it('does not let a redirect-only CDN host be named directly', async () => {
    const response = await proxy()(new Request(`http://site/p/${cdnHost}/blob`));
    expect(response.status).toBe(403);
  });

  it('refuses methods other than GET, HEAD and OPTIONS', async () => {
    const response = await proxy()(new Request(`http://site/p/${upstreamHost}/x`, { method: 'POST', body: 'x' }));
    expect(response.status).toBe(405);
  });

  it('follows a redirect to an allowed CDN and drops the registry token on the way', async () => {
    seen = [];
    const response = await proxy()(new Request(`http://site/p/${upstreamHost}/to-cdn`, { headers: { authorization: 'Bearer t' } }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('blob-bytes');
    expect(response.headers.get('x-tabdock-final-url')).toBe(`http://${cdnHost}/blob?sig=1`);
    expect(seen.at(-1)?.authorization).toBeUndefined();
  });

  it('refuses to follow a redirect off the allow-list', async () => {
    const response = await proxy()(new Request(`http://site/p/${upstreamHost}/to-elsewhere`));
    expect(response.status).toBe(502);
    expect(response.headers.get(PROXY_ERROR_HEADER)).toBe('redirect');
  });

  it('passes upstream content as inert data: sandboxed, not sniffed, without the upstream\'s CORS or CSP', async () => {
    for (const path of ['v2/page.html', 'example.com/', 'nowhere']) {
      const response = await proxy()(new Request(`http://site/p/${path.startsWith('v2') ? `${upstreamHost}/${path}` : path}`));
      expect(response.headers.get('content-security-policy'), path).toBe("sandbox; default-src 'none'");
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(response.headers.get('access-control-allow-credentials'), path).toBeNull();
    }
  });

  it('reaches a host named with a path only on that path, and not through an encoded slash', async () => {
    const narrowed = createCorsProxy({ basePath: '/p/', registryHosts: [`http://${upstreamHost}/v2/`], redirectHosts: [] });
    expect((await narrowed(new Request(`http://site/p/${upstreamHost}/v2/x`))).status).toBe(200);
    const outside = await narrowed(new Request(`http://site/p/${upstreamHost}/admin`));
    expect(outside.status).toBe(403);
    expect(await outside.text()).toContain('outside the registry paths');
    expect((await narrowed(new Request(`http://site/p/${upstreamHost}/v2/../admin`))).status).toBe(403);
    expect((await narrowed(new Request(`http://site/p/${upstreamHost}/v2/%2e%2e/admin`))).status).toBe(403);
    expect((await narrowed(new Request(`http://site/p/${upstreamHost}/v2/..%2Fadmin`))).status).toBe(400);
    // A redirect back to the same host outside the path is refused like any other.
    expect((await narrowed(new Request(`http://site/p/${upstreamHost}/v2/../to-cdn`))).status).toBe(403);
  });

  it('dials a name that only a wildcard entry allows only at a public address it resolves to (#24 item 10)', async () => {
    const resolved: string[] = [];
    const checked = createCorsProxy({
      basePath: '/p/',
      registryHosts: [`http://${upstreamHost}`],
      redirectHosts: [`http://*.wild.test:${cdnHost.split(':')[1]}`],
      fetchByWildcard: createCheckedFetch(async (host) => {
        resolved.push(host);
        return ['127.0.0.1'];
      }),
    });
    const response = await checked(new Request(`http://site/p/${upstreamHost}/to-wildcard`));
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('blob.wild.test resolves only to addresses the proxy does not reach (127.0.0.1 is a loopback address)');
    // Names an entry gives exactly (here the registry's address) are dialled as given, without the check.
    expect(resolved).toEqual(['blob.wild.test']);
    expect((await checked(new Request(`http://site/p/${upstreamHost}/manifest`))).status).toBe(200);
  });

  it('gives up on an upstream that does not answer with 504', async () => {
    const response = await proxy()(new Request(`http://site/p/${upstreamHost}/slow`));
    expect(response.status).toBe(504);
    expect(response.headers.get(PROXY_ERROR_HEADER)).toBe('timeout');
  });
});

describe('HostAllowList', () => {
  const list = new HostAllowList(['cdn*.quay.io', '*.amazonaws.com', 'registry-1.docker.io', 'http://127.0.0.1:5000', 'ghcr.io:*']);

  it.each([
    ['cdn01.quay.io', 'https'],
    ['registry-1.docker.io', 'https'],
    ['registry-1.docker.io:443', 'https'],
    ['bucket.s3.amazonaws.com', 'https'],
    ['127.0.0.1:5000', 'http'],
    ['ghcr.io:8443', 'https'],
  ])('allows %s over %s', (host, scheme) => {
    expect(list.schemeFor(host, '/v2/')).toBe(scheme);
  });

  it.each(['quay.io', 'cdn.quay.io.evil.com', 'amazonaws.com.evil.com', 'registry-1.docker.io:80', '127.0.0.1:5001', '127.0.0.1'])(
    'refuses %s',
    (host) => {
      expect(list.schemeFor(host, '/v2/')).toBeUndefined();
    },
  );

  // Whole-site hosts reach only the registry API and their token endpoint (#24 item 6).
  const defaults = new HostAllowList(DEFAULT_REGISTRY_HOSTS);
  it.each([
    ['registry-1.docker.io', '/v2/library/busybox/manifests/latest'],
    ['auth.docker.io', '/token'],
    ['ghcr.io', '/token'],
    ['quay.io', '/v2/auth'],
    ['us-docker.pkg.dev', '/v2/token'],
    ['gitlab.com', '/jwt/auth'],
    ['public.ecr.aws', '/token/'],
  ])('the defaults allow %s%s', (host, path) => {
    expect(defaults.schemeFor(host, path)).toBe('https');
  });
  it.each([
    ['gitlab.com', '/'],
    ['gitlab.com', '/users/sign_in'],
    ['gitlab.com', '/jwt/authx'],
    ['quay.io', '/repository/'],
    ['ghcr.io', '/tokens'],
    ['registry-1.docker.io', '/'],
    ['mcr.microsoft.com', '/en-us/'],
  ])('the defaults refuse %s%s', (host, path) => {
    expect(defaults.schemeFor(host, path)).toBeUndefined();
  });
});

describe('npm run proxy (node-server.ts)', () => {
  it('serves the handler over HTTP with CORS headers', async () => {
    const running = await startProxyServer({ port: 0, extraRegistryHosts: [`http://${upstreamHost}`] });
    try {
      const response = await fetch(`${running.url}${upstreamHost}/manifest`);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('docker-content-digest')).toBe('sha256:abc');
      expect(await response.text()).toBe('hello');
      const refused = await fetch(`${running.url}example.com/`);
      expect(refused.status).toBe(403);
    } finally {
      await running.close();
    }
  });
});

describe('checkedLookup', () => {
  const lookup = (addresses: string[], all: boolean) =>
    new Promise<unknown>((resolve) =>
      checkedLookup(async () => addresses)('name.test', { all }, (error, address, family) => resolve(error ? error.message : all ? address : [address, family])),
    );

  it('yields only the public addresses of a name, and refuses one that has none', async () => {
    expect(await lookup(['10.0.0.1', '93.184.216.34'], false)).toEqual(['93.184.216.34', 4]);
    expect(await lookup(['::1', '2606:4700::1111', '93.184.216.34'], true)).toEqual([
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ]);
    expect(await lookup(['169.254.169.254'], false)).toContain('does not reach (169.254.169.254 is a cloud metadata address)');
  });
});
