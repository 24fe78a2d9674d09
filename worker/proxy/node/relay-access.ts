// Who may open a relay session: the token in the path, the page's Origin, and the Host the request names. A
// page may use the relay only from an origin the relay trusts; "same origin" alone is not enough, since a
// DNS-rebinding page shares its Host with its own origin, so the Host must be one the server answers to, by the
// rule Vite uses for plain HTTP (host-validation-middleware: IP literals, localhost, *.localhost, allowedHosts).
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Which pages may open the relay: their own host's ('same-origin'), any ('*': protect it with a token), or a list. */
export type OriginRule = 'same-origin' | '*' | readonly string[];

export interface AccessRules {
  basePath: string;
  token?: string | undefined;
  allowedOrigins: OriginRule;
  /** Host names beside IP literals and localhost (a leading '.' allows subdomains); true: any. Vite's format. */
  allowedHosts: readonly string[] | true;
}

export type AccessVerdict =
  | { ok: true; /** A browser page from another origin than the relay's own: never given host ports. */ crossOrigin: boolean }
  | { ok: false; status: number; reason: string; message: string };

interface RequestLike {
  url?: string | undefined;
  headers: { host?: string | undefined; origin?: string | undefined };
}

export function checkAccess(request: RequestLike, rules: AccessRules): AccessVerdict {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const rest = path.slice(rules.basePath.length);
  if (rules.token !== undefined) {
    const token = rest.endsWith('/') ? rest.slice(0, -1) : rest;
    if (!sameSecret(decodedOrRaw(token), rules.token)) {
      return { ok: false, status: 401, reason: 'Unauthorized', message: `this relay needs its token: use ${rules.basePath}<token>/ as the relay URL's path` };
    }
  } else if (rest !== '') {
    return { ok: false, status: 404, reason: 'Not Found', message: `the relay is at ${rules.basePath}` };
  }
  const { origin, host } = request.headers;
  const originHost = origin === undefined ? undefined : hostOfOrigin(origin);
  const crossOrigin = origin !== undefined && originHost !== host;
  if (rules.allowedOrigins === 'same-origin') {
    if (host !== undefined && rules.allowedHosts !== true && !isHostAllowed(host, rules.allowedHosts)) {
      return {
        ok: false,
        status: 403,
        reason: 'Forbidden',
        message: `this relay does not answer to the host ${JSON.stringify(host.slice(0, 100))} (add it to the server's allowedHosts, or give the relay its pages' origin)`,
      };
    }
    if (crossOrigin) return refusedOrigin(origin);
  } else if (rules.allowedOrigins !== '*' && origin !== undefined && !rules.allowedOrigins.includes(origin)) {
    return refusedOrigin(origin);
  }
  return { ok: true, crossOrigin };
}

function refusedOrigin(origin: string | undefined): AccessVerdict {
  const shown = JSON.stringify((origin ?? '').slice(0, 100));
  return {
    ok: false,
    status: 403,
    reason: 'Forbidden',
    message: `pages from ${shown} may not use this relay; its operator can allow them (npm run proxy -- --relay-origin ORIGIN, or a token)`,
  };
}

function hostOfOrigin(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Vite's Host rule (vite 7, host-validation-middleware 0.1.2 isHostAllowed): IPv4 and bracketed IPv6 literals,
 * localhost and *.localhost always; otherwise an exact entry, or an entry '.example.com' for it and its subdomains.
 */
export function isHostAllowed(hostHeader: string, allowedHosts: readonly string[]): boolean {
  const trimmed = hostHeader.trim();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end > 0 && isIP(trimmed.slice(1, end)) === 6;
  }
  const colon = trimmed.indexOf(':');
  const hostname = colon === -1 ? trimmed : trimmed.slice(0, colon);
  if (isIP(hostname) === 4) return true;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return allowedHosts.some((allowed) => allowed === hostname || (allowed.startsWith('.') && (allowed.slice(1) === hostname || hostname.endsWith(allowed))));
}

/** A path segment percent-decoded, or as given when it is not valid percent-encoding (then it matches no token). */
function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
