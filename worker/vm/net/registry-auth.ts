// The registry token dance done on the guest's behalf (Docker's token authentication spec, as served by
// auth.docker.io, ghcr.io, quay.io): parse a Bearer challenge, fetch a token for its scope, cache it until expiry.
import type { Upstream } from './upstream.ts';

export interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

/** Parses `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (RFC 9110 §11.6.1 auth-params). */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (header === null) return undefined;
  const match = /^\s*bearer\s+(.*)$/is.exec(header);
  if (!match) return undefined;
  const params = new Map<string, string>();
  const paramPattern = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of (match[1] ?? '').matchAll(paramPattern)) {
    params.set((m[1] ?? '').toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  }
  const realm = params.get('realm');
  if (realm === undefined || realm === '') return undefined;
  const challenge: BearerChallenge = { realm };
  const service = params.get('service');
  const scope = params.get('scope');
  if (service !== undefined) challenge.service = service;
  if (scope !== undefined) challenge.scope = scope;
  return challenge;
}

export type TokenFailure =
  | { kind: 'realm-refused'; status: number; detail: string }
  | { kind: 'realm-invalid'; detail: string };

export class TokenError extends Error {
  readonly failure: TokenFailure;
  constructor(failure: TokenFailure) {
    super(failure.detail);
    this.name = 'TokenError';
    this.failure = failure;
  }
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** Spec default when the token response omits expires_in (distribution docs, "Token Response Fields"). */
const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Renew a little early so a token does not expire between our check and the registry's. */
const EXPIRY_MARGIN_MS = 10_000;

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();
  /** How many times a realm was asked for a token; tests use it to check the cache works. */
  fetchCount = 0;

  constructor(
    private readonly upstream: Upstream,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A token cached for this registry and repository, from an earlier challenge, if still fresh. */
  cachedFor(registryHost: string, repository: string): string | undefined {
    const key = `${registryHost} ${repository}`;
    const cached = this.tokens.get(key);
    if (cached === undefined) return undefined;
    if (cached.expiresAtMs <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return cached.token;
  }

  /** Answers a challenge: one realm request per registry+repository at a time, shared by concurrent pulls. */
  async tokenFor(registryHost: string, repository: string, challenge: BearerChallenge): Promise<string> {
    const key = `${registryHost} ${repository}`;
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const request = this.fetchToken(challenge).then(
      ({ token, lifetimeS }) => {
        this.tokens.set(key, { token, expiresAtMs: this.now() + lifetimeS * 1000 - EXPIRY_MARGIN_MS });
        this.pending.delete(key);
        return token;
      },
      (error: unknown) => {
        this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, request);
    return request;
  }

  /** Drops a token the registry no longer accepts. */
  forget(registryHost: string, repository: string): void {
    this.tokens.delete(`${registryHost} ${repository}`);
  }

  private async fetchToken(challenge: BearerChallenge): Promise<{ token: string; lifetimeS: number }> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new TokenError({ kind: 'realm-invalid', detail: `the registry named an invalid token realm ${challenge.realm}` });
    }
    if (challenge.service !== undefined) realm.searchParams.set('service', challenge.service);
    if (challenge.scope !== undefined) realm.searchParams.set('scope', challenge.scope);
    this.fetchCount++;
    const response = await this.upstream.fetch(realm, { method: 'GET', headers: { accept: 'application/json' } });
    const text = await response.text();
    if (!response.ok) {
      throw new TokenError({ kind: 'realm-refused', status: response.status, detail: `${realm.origin} answered ${response.status}: ${text.slice(0, 300)}` });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new TokenError({ kind: 'realm-invalid', detail: `${realm.origin} sent a token response that is not JSON` });
    }
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    // `access_token` is the OAuth2 name; Docker's spec says clients accept either.
    const token = typeof fields.token === 'string' ? fields.token : fields.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new TokenError({ kind: 'realm-invalid', detail: `${realm.origin} sent no token` });
    }
    const expiresIn = typeof fields.expires_in === 'number' && fields.expires_in > 0 ? fields.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    return { token, lifetimeS: expiresIn };
  }
}
