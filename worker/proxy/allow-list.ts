// Which hosts the CORS proxy may reach. Registries are addressable directly; blob CDNs only as the target of a
// redirect the proxy follows itself, so wide patterns like *.amazonaws.com never make it an open proxy. Entries
// for hosts that also serve a website are narrowed to the paths registries use (the OCI distribution API under
// /v2/, and the token endpoint their WWW-Authenticate realm names).

/**
 * Entries look like `host`, `host:port`, `*.example.com`, `cdn*.quay.io`, `host:*`, optionally prefixed with
 * `http://` (plain HTTP, meant for a local test registry) or `https://` (the default, port 443), and optionally
 * followed by a path prefix (`gitlab.com/jwt/auth`, `quay.io/v2/`) outside which the host is not reached.
 */
export type HostPattern = string;

export const DEFAULT_REGISTRY_HOSTS: readonly HostPattern[] = [
  'registry-1.docker.io/v2/',
  'auth.docker.io/token',
  'ghcr.io/v2/',
  'ghcr.io/token',
  'quay.io/v2/',
  'public.ecr.aws/v2/',
  'public.ecr.aws/token',
  'mirror.gcr.io/v2/',
  'gcr.io/v2/',
  '*.gcr.io/v2/',
  '*.pkg.dev/v2/',
  'registry.k8s.io/v2/',
  'registry.gitlab.com/v2/',
  'gitlab.com/jwt/auth',
  'mcr.microsoft.com/v2/',
];

/** Where registries send blob downloads (observed Location headers of each registry's blob endpoint). */
export const DEFAULT_REDIRECT_HOSTS: readonly HostPattern[] = [
  'production.cloudflare.docker.com',
  '*.r2.cloudflarestorage.com',
  'pkg-containers.githubusercontent.com',
  'cdn*.quay.io',
  '*.amazonaws.com',
  '*.cloudfront.net',
  'storage.googleapis.com',
  '*.data.mcr.microsoft.com',
  '*.blob.core.windows.net',
  'cdn.registry.gitlab-static.net',
];

interface CompiledPattern {
  scheme: 'http' | 'https';
  host: RegExp;
  /** Port as text; '*' matches any. */
  port: string;
  /** Undefined: every path. Else the path itself, or below it ('/v2/' covers '/v2/x'; '/token' covers '/token/x'). */
  path: string | undefined;
  /** The host part has a '*': the names it matches are not the operator's own choice. */
  wildcard: boolean;
}

export class HostAllowList {
  private readonly patterns: CompiledPattern[];

  constructor(entries: readonly HostPattern[]) {
    this.patterns = entries.map(compile);
  }

  /** The scheme to use for `hostPort` (`host` or `host:port`) and `path`, or undefined if no entry allows them. */
  schemeFor(hostPort: string, path: string): 'http' | 'https' | undefined {
    const { host, port } = splitHostPort(hostPort);
    for (const pattern of this.patterns) {
      const effectivePort = port ?? (pattern.scheme === 'http' ? '80' : '443');
      if (pattern.host.test(host) && (pattern.port === '*' || pattern.port === effectivePort) && pathAllowed(pattern, path)) return pattern.scheme;
    }
    return undefined;
  }

  /** Whether an absolute URL is allowed with its own scheme, host, port and path. */
  allowsUrl(url: URL): boolean {
    return this.patternsFor(url).length > 0;
  }

  /** Whether an entry names the URL's host itself (no wildcard): then its name is dialled as the operator named it. */
  namesExactly(url: URL): boolean {
    return this.patternsFor(url).some((pattern) => !pattern.wildcard);
  }

  private patternsFor(url: URL): CompiledPattern[] {
    const scheme = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
    if (scheme === undefined) return [];
    const port = url.port === '' ? (scheme === 'http' ? '80' : '443') : url.port;
    return this.patterns.filter(
      (p) => p.scheme === scheme && p.host.test(url.hostname.toLowerCase()) && (p.port === '*' || p.port === port) && pathAllowed(p, url.pathname),
    );
  }
}

function pathAllowed(pattern: CompiledPattern, path: string): boolean {
  if (pattern.path === undefined) return true;
  const below = pattern.path.endsWith('/') ? pattern.path : `${pattern.path}/`;
  return path === pattern.path || path.startsWith(below);
}

function compile(entry: HostPattern): CompiledPattern {
  let rest = entry.trim();
  let scheme: 'http' | 'https' = 'https';
  if (/^http:\/\//i.test(rest)) {
    scheme = 'http';
    rest = rest.slice('http://'.length);
  } else if (/^https:\/\//i.test(rest)) {
    rest = rest.slice('https://'.length);
  }
  // Host names are case-insensitive, paths are not.
  const slash = rest.indexOf('/');
  const path = slash === -1 || /^\/+$/.test(rest.slice(slash)) ? undefined : rest.slice(slash);
  const { host, port } = splitHostPort((slash === -1 ? rest : rest.slice(0, slash)).toLowerCase());
  if (!/^[a-z0-9*.\-[\]:]+$/.test(host)) {
    throw new Error(`allow-list entry ${JSON.stringify(entry)} is not a host pattern; write e.g. "*.example.com:443"`);
  }
  // A leading `*.` stands for one or more whole labels (S3 hosts are bucket.s3.region.amazonaws.com); any other
  // `*` stays inside one label (`cdn*.quay.io`). Anchored both ends, so no pattern matches a longer host.
  const escape = (text: string) =>
    text.split('*').map((part) => part.replace(/[.\-[\]]/g, '\\$&')).join('[a-z0-9-]*');
  const source = host.startsWith('*.') ? `(?:[a-z0-9-]+\\.)+${escape(host.slice(2))}` : escape(host);
  if (path !== undefined && !/^\/[A-Za-z0-9._~\-/]*$/.test(path)) {
    throw new Error(`allow-list entry ${JSON.stringify(entry)} has a path that is not a plain path prefix; write e.g. "gitlab.com/jwt/auth"`);
  }
  return { scheme, host: new RegExp(`^${source}$`), port: port ?? (scheme === 'http' ? '80' : '443'), path, wildcard: host.includes('*') };
}

function splitHostPort(hostPort: string): { host: string; port: string | undefined } {
  const lower = hostPort.toLowerCase();
  // Bracketed IPv6 literal: [::1]:5000
  const v6 = /^(\[[0-9a-f:.]+\])(?::([0-9]+|\*))?$/.exec(lower);
  if (v6) return { host: v6[1] ?? '', port: v6[2] };
  const colon = lower.lastIndexOf(':');
  if (colon === -1) return { host: lower, port: undefined };
  return { host: lower.slice(0, colon), port: lower.slice(colon + 1) };
}

/** Splits a comma/space separated list, as given in TABDOCK_PROXY_ALLOW or a --allow flag. */
export function parseHostList(text: string | undefined): HostPattern[] {
  if (text === undefined) return [];
  return text.split(/[\s,]+/).filter((entry) => entry.length > 0);
}
