// The two deployment wrappers route to the same handler: an allow-listed host is fetched, others get 403.
import { afterEach, describe, expect, it, vi } from 'vitest';
import cloudflare from './cloudflare.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('deployment wrappers', () => {
  it('Cloudflare: refuses a host off the allow-list with 403', async () => {
    const refused = await cloudflare.fetch(new Request('https://proxy.example/example.com/'), {});
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('example.com is not on');
  });

  it('Deno: serves the proxy handler through Deno.serve', async () => {
    let served: ((request: Request) => Promise<Response>) | undefined;
    vi.stubGlobal('Deno', {
      serve: (handler: (request: Request) => Promise<Response>) => {
        served = handler;
      },
      env: { get: () => undefined },
    });
    await import('./deno.ts');
    const response = await served?.(new Request('https://proxy.example/evil.example/v2/', { method: 'OPTIONS' }));
    expect(response?.status).toBe(204);
    expect(response?.headers.get('access-control-allow-origin')).toBe('*');
  });
});
