// Fetches a stack link's Compose file: directly where its host allows other sites to read it (CORS), else
// through the app's CORS proxy (which reaches only the hosts its operator allowed). A size limit, a time limit,
// no cookies, and an error per way it can fail. Never throws.
import { PROXY_ERROR_HEADER } from '../../worker/shared/proxy-errors.ts';
import { readAtMost } from '../labs/read-at-most.ts';
import { stackError, type StackResult } from './stack-errors.ts';

/** Compose files are a few KiB; a larger answer is not one (or is a page), and is not read on. */
export const MAX_STACK_FILE_BYTES = 64 * 1024;
export const STACK_FETCH_TIMEOUT_MS = 15_000;

export interface FetchStackOptions {
  fetch?: typeof fetch;
  /** The app's CORS proxy base (ends in '/'), e.g. `${origin}/cors-proxy/`; undefined: direct only. */
  proxyUrl?: string;
  /** The page's origin: a file on it needs no proxy. */
  pageOrigin: string;
  timeoutMs?: number;
  maxBytes?: number;
}

type Attempt = { kind: 'response'; response: Response } | { kind: 'network'; error: unknown } | { kind: 'timeout' };

export async function fetchStackFile(url: string, options: FetchStackOptions): Promise<StackResult<string>> {
  const target = new URL(url);
  const direct = await attempt(url, options);
  let response: Response;
  let via = '';
  if (direct.kind === 'response') {
    response = direct.response;
  } else if (direct.kind === 'timeout') {
    return timeout(url, options);
  } else if (options.proxyUrl === undefined || target.origin === options.pageOrigin) {
    return unreachable(url, target.host, direct.error, undefined);
  } else {
    // A bare TypeError covers refused connections and CORS refusals alike; the proxy can tell them apart.
    const proxied = await attempt(`${options.proxyUrl}${target.host}${target.pathname}${target.search}`, options);
    if (proxied.kind === 'timeout') return timeout(url, options);
    if (proxied.kind === 'network') return unreachable(url, target.host, direct.error, proxied.error);
    const refusal = proxied.response.headers.get(PROXY_ERROR_HEADER);
    if (refusal !== null) {
      const said = (await proxied.response.text().catch(() => '')).slice(0, 300);
      await proxied.response.body?.cancel().catch(() => undefined);
      return stackError(
        'fetch-failed',
        refusal === 'not-allowed'
          ? `${target.host} does not let other sites read the file (no CORS header), and this tabdock's CORS proxy does not reach ${target.host}. Host the Compose file where it is served with Access-Control-Allow-Origin (GitHub raw files and gists are), or ask this tabdock's operator to allow the host (README "Stack links").`
          : `Could not fetch the Compose file from ${target.host}, directly or through tabdock's CORS proxy (${refusal}). Check the link, then reload.`,
        `${url}\n${said}`,
      );
    }
    response = proxied.response;
    via = ' (through the CORS proxy)';
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return stackError(
      'http-status',
      response.status === 404 || response.status === 410
        ? `There is no Compose file at ${url} (HTTP ${response.status}). Check the link for typos, or ask its author for a new one.`
        : `${target.host} answered HTTP ${response.status}${via} for the Compose file. Try again later, or ask the link's author.`,
      url,
    );
  }
  const maxBytes = options.maxBytes ?? MAX_STACK_FILE_BYTES;
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return tooLarge(url, maxBytes);
  }
  if (!response.body) return stackError('fetch-failed', `${target.host} sent an empty answer for the Compose file. Reload to try again.`, url);
  const read = await readAtMost(response.body, maxBytes);
  if (read.kind === 'too-large') return tooLarge(url, maxBytes);
  if (read.kind === 'failed') return stackError('fetch-failed', `The connection to ${target.host} broke while the Compose file downloaded. Reload to try again.`, `${url}\n${String(read.error)}`);
  try {
    return { ok: true, value: new TextDecoder('utf-8', { fatal: true }).decode(read.bytes) };
  } catch (error) {
    return stackError('not-text', `The file at ${url} is not UTF-8 text, so it is not a Compose file. Link to the raw docker-compose.yml.`, String(error));
  }
}

async function attempt(url: string, options: FetchStackOptions): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? STACK_FETCH_TIMEOUT_MS);
  try {
    const response = await (options.fetch ?? globalThis.fetch)(url, { credentials: 'omit', redirect: 'follow', signal: controller.signal });
    return { kind: 'response', response };
  } catch (error) {
    return controller.signal.aborted ? { kind: 'timeout' } : { kind: 'network', error };
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(url: string, host: string, direct: unknown, proxied: unknown) {
  return stackError(
    'fetch-failed',
    `Could not fetch the Compose file from ${host}: the server is unreachable, or it does not let other sites read the file (CORS). Check the link, or host the file where it is served with Access-Control-Allow-Origin (GitHub raw files and gists are).`,
    [url, String(direct), ...(proxied === undefined ? [] : [`through the CORS proxy: ${String(proxied)}`])].join('\n'),
  );
}

function timeout(url: string, options: FetchStackOptions) {
  return stackError('timeout', `The Compose file at ${url} did not arrive within ${Math.round((options.timeoutMs ?? STACK_FETCH_TIMEOUT_MS) / 1000)} s. Check your connection and reload.`, url);
}

function tooLarge(url: string, maxBytes: number) {
  return stackError('too-large', `The file at ${url} is larger than ${maxBytes / 1024} KiB, too big for a Compose file a link may start. Check that the link names the Compose file itself.`, url);
}
