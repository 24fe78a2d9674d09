// Registry-style error answers (OCI distribution spec, "Error Codes"): dockerd prints `<code>: <message>`, so
// every failure the shim meets upstream is turned into one of these with a message that says what to do.
import type { UpstreamError } from './upstream.ts';

export type RegistryErrorCode =
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'NAME_UNKNOWN'
  | 'NAME_INVALID'
  | 'TAG_INVALID'
  | 'DIGEST_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'TOOMANYREQUESTS'
  | 'UNSUPPORTED'
  | 'UNAVAILABLE';

export function registryError(
  status: number,
  code: RegistryErrorCode,
  message: string,
  detail?: string,
  extraHeaders: Record<string, string> = {},
): Response {
  const error: { code: RegistryErrorCode; message: string; detail?: string } = { code, message };
  if (detail !== undefined) error.detail = detail;
  return new Response(JSON.stringify({ errors: [error] }), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'docker-distribution-api-version': 'registry/2.0',
      ...extraHeaders,
    },
  });
}

export type ResourceKind = 'manifest' | 'blob' | 'other';

/** Maps an upstream answer that is not a success to what the guest should see. */
export async function mapUpstreamFailure(
  upstream: Response,
  context: { registryHost: string; repository: string; reference: string; kind: ResourceKind; nowMs: number },
): Promise<Response> {
  const where = `${context.registryHost}/${context.repository}`;
  const bodyText = await upstream.text().catch((error: unknown) => `(body unreadable: ${String(error)})`);
  switch (upstream.status) {
    case 404:
      if (context.kind === 'manifest') {
        return registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', `${where}:${context.reference} does not exist upstream`);
      }
      if (context.kind === 'blob') {
        return registryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', `${where}@${context.reference}`);
      }
      return registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', where);
    case 401:
    case 403:
      return registryError(
        upstream.status,
        upstream.status === 401 ? 'UNAUTHORIZED' : 'DENIED',
        `pull access denied for ${where}: the repository does not exist or needs a login, and tabdock pulls ` +
          'anonymously; check the image name',
        bodyText.slice(0, 500),
      );
    case 429:
      return tooManyRequests(upstream, where, context.nowMs);
    default:
      return registryError(
        upstream.status >= 500 ? 502 : upstream.status,
        'UNAVAILABLE',
        `${context.registryHost} answered ${upstream.status} for ${where}:${context.reference}; try again later`,
        bodyText.slice(0, 500),
      );
  }
}

function tooManyRequests(upstream: Response, where: string, nowMs: number): Response {
  const retryAfterS = retryAfterSeconds(upstream.headers, nowMs);
  const limit = upstream.headers.get('ratelimit-limit');
  const limitText = limit === null ? '' : ` (limit ${limit.replace(/;w=(\d+)/, ' per $1 s')})`;
  const when = retryAfterS === undefined ? 'later' : `in ${formatDuration(retryAfterS)}`;
  const extra: Record<string, string> = {};
  if (retryAfterS !== undefined) extra['retry-after'] = String(retryAfterS);
  return registryError(
    429,
    'TOOMANYREQUESTS',
    `the registry's pull rate limit was reached for ${where}${limitText}; anonymous Docker Hub pulls are limited ` +
      `per IP address and the CORS proxy's address is shared. Retry ${when}, or set an upstream mirror such as ` +
      'mirror.gcr.io',
    undefined,
    extra,
  );
}

/** Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) or, failing that, RateLimit-Reset (seconds). */
export function retryAfterSeconds(headers: Headers, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - nowMs) / 1000));
  }
  const reset = headers.get('ratelimit-reset');
  if (reset !== null && /^\d+$/.test(reset.trim())) return Number(reset.trim());
  return undefined;
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * HTTP status for "the way out failed". Not 503: dockerd's registry client reads the JSON error body only for
 * 4xx answers and prints a bare "received unexpected HTTP status: 503 Service Unavailable" for 5xx
 * (docker/distribution registry/client/errors.go, HandleErrorResponse), which would hide the message naming the
 * proxy or host. 424 Failed Dependency (RFC 4918 section 11.4) says the same thing and is shown with its body.
 */
export const UPSTREAM_FAILED_STATUS = 424;

/** What the guest sees when the way out failed; the message names the proxy or host so it can be fixed. */
export function upstreamUnavailable(error: UpstreamError): Response {
  if (error.code === 'proxy-refused') return registryError(403, 'DENIED', error.message, error.url);
  return registryError(UPSTREAM_FAILED_STATUS, 'UNAVAILABLE', error.message, error.url);
}
