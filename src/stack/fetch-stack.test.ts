// Fetching a stack link's file: directly where CORS allows, through the CORS proxy where it does not, with a size
// limit, and an error that names the way it failed.
import { describe, expect, it } from 'vitest';
import { PROXY_ERROR_HEADER } from '../../worker/shared/proxy-errors.ts';
import { fetchStackFile, MAX_STACK_FILE_BYTES } from './fetch-stack.ts';

const URL_ = 'https://files.example/app/docker-compose.yml';
const PROXY = 'https://tabdock.example/cors-proxy/';
const BASE = { pageOrigin: 'https://tabdock.example', proxyUrl: PROXY };

function fakeFetch(handler: (url: string) => Response | Error) {
  const asked: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    asked.push(`${url} ${init?.credentials}`);
    const answer = handler(url);
    if (answer instanceof Error) throw answer;
    return answer;
  }) as typeof globalThis.fetch;
  return { fetch, asked };
}

describe('fetchStackFile', () => {
  it('reads the file directly, without cookies', async () => {
    const { fetch, asked } = fakeFetch(() => new Response('services: {}\n'));
    await expect(fetchStackFile(URL_, { ...BASE, fetch })).resolves.toEqual({ ok: true, value: 'services: {}\n' });
    expect(asked).toEqual([`${URL_} omit`]);
  });

  it('goes through the CORS proxy when the direct fetch is refused', async () => {
    const { fetch, asked } = fakeFetch((url) => (url.startsWith(PROXY) ? new Response('services: {}\n') : new TypeError('Failed to fetch')));
    await expect(fetchStackFile(URL_, { ...BASE, fetch })).resolves.toEqual({ ok: true, value: 'services: {}\n' });
    expect(asked[1]).toBe(`${PROXY}files.example/app/docker-compose.yml omit`);
  });

  it("says so when the proxy does not reach the host either", async () => {
    const { fetch } = fakeFetch((url) =>
      url.startsWith(PROXY) ? new Response('tabdock CORS proxy: files.example is not on the allow-list', { status: 403, headers: { [PROXY_ERROR_HEADER]: 'not-allowed' } }) : new TypeError('Failed to fetch'),
    );
    const result = await fetchStackFile(URL_, { ...BASE, fetch });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('fetch-failed');
      expect(result.error.message).toMatch(/no CORS header.*does not reach files\.example/);
    }
  });

  it('refuses a file over the limit, declared or streamed, and reports 404 and non-text', async () => {
    const big = 'x'.repeat(MAX_STACK_FILE_BYTES + 1);
    const streamed = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
    const cases: Array<[Response, string]> = [
      [new Response(big, { headers: { 'content-length': String(big.length) } }), 'too-large'],
      [new Response(streamed), 'too-large'],
      [new Response('nope', { status: 404 }), 'http-status'],
      [new Response(new Uint8Array([0xff, 0xfe, 0x00])), 'not-text'],
    ];
    for (const [response, code] of cases) {
      const { fetch } = fakeFetch(() => response);
      const result = await fetchStackFile(URL_, { ...BASE, fetch });
      expect(result.ok ? 'ok' : result.error.code).toBe(code);
    }
  });

  it('reports an unreachable host without a proxy, and a silent one as a timeout', async () => {
    const down = fakeFetch(() => new TypeError('Failed to fetch'));
    const result = await fetchStackFile(URL_, { pageOrigin: BASE.pageOrigin, fetch: down.fetch });
    expect(result.ok ? 'ok' : result.error.code).toBe('fetch-failed');
    const silent = ((_: unknown, init?: RequestInit) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch;
    const late = await fetchStackFile(URL_, { ...BASE, fetch: silent, timeoutMs: 20 });
    expect(late.ok ? 'ok' : late.error.code).toBe('timeout');
  });
});
