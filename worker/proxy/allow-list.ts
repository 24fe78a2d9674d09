// Which hosts the CORS proxy may reach. Registries are addressable directly; blob CDNs only as the target of a
// redirect the proxy follows itself, so wide patterns like *.amazonaws.com never make it an open proxy.

/**
 * Entries look like `host`, `host:port`, `*.example.com`, `cdn*.quay.io`, `host:*`, optionally prefixed with
 * `http://` (plain HTTP, meant for a local test registry) or `https://` (the default, port 443).
 */
export type HostPattern = string;

export const DEFAULT_REGISTRY_HOSTS: readonly HostPattern[] = [
  'registry-1.docker.io',
  'auth.docker.io',
  'ghcr.io',
  'quay.io',
  'public.ecr.aws',
  'mirror.gcr.io',
  'gcr.io',
  '*.gcr.io',
  '*.pkg.dev',
  'registry.k8s.io',
  'registry.gitlab.com',
  'gitlab.com',
  'mcr.microsoft.com',
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
}

export class HostAllowList {
  private readonly patterns: CompiledPattern[];

  constructor(entries: readonly HostPattern[]) {
    this.patterns = entries.map(compile);
  }

  /** The scheme to use for `hostPort` (`host` or `host:port`), or undefined if no entry allows it. */
  schemeFor(hostPort: string): 'http' | 'https' | undefined {
    const { host, port } = splitHostPort(hostPort);
    for (const pattern of this.patterns) {
      const effectivePort = port ?? (pattern.scheme === 'http' ? '80' : '443');
      if (pattern.host.test(host) && (pattern.port === '*' || pattern.port === effectivePort)) return pattern.scheme;
    }
    return undefined;
  }

  /** Whether an absolute URL is allowed with its own scheme. */
  allowsUrl(url: URL): boolean {
    const scheme = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
    if (scheme === undefined) return false;
    const port = url.port === '' ? (scheme === 'http' ? '80' : '443') : url.port;
    return this.patterns.some(
      (p) => p.scheme === scheme && p.host.test(url.hostname.toLowerCase()) && (p.port === '*' || p.port === port),
    );
  }
}

function compile(entry: HostPattern): CompiledPattern {
  let rest = entry.trim().toLowerCase();
  let scheme: 'http' | 'https' = 'https';
  if (rest.startsWith('http://')) {
    scheme = 'http';
    rest = rest.slice('http://'.length);
  } else if (rest.startsWith('https://')) {
    rest = rest.slice('https://'.length);
  }
  rest = rest.replace(/\/+$/, '');
  const { host, port } = splitHostPort(rest);
  if (!/^[a-z0-9*.\-[\]:]+$/.test(host)) {
    throw new Error(`allow-list entry ${JSON.stringify(entry)} is not a host pattern; write e.g. "*.example.com:443"`);
  }
  // A leading `*.` stands for one or more whole labels (S3 hosts are bucket.s3.region.amazonaws.com); any other
  // `*` stays inside one label (`cdn*.quay.io`). Anchored both ends, so no pattern matches a longer host.
  const escape = (text: string) =>
    text.split('*').map((part) => part.replace(/[.\-[\]]/g, '\\$&')).join('[a-z0-9-]*');
  const source = host.startsWith('*.') ? `(?:[a-z0-9-]+\\.)+${escape(host.slice(2))}` : escape(host);
  return { scheme, host: new RegExp(`^${source}$`), port: port ?? (scheme === 'http' ? '80' : '443') };
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
