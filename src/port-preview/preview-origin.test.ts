import { describe, expect, it } from 'vitest';
import { portPageUrl, previewOriginFrom, resolvePreviewOrigin, shellUrl } from './preview-origin.ts';

const APP = 'http://localhost:4173/tabdock/';

describe('previewOriginFrom', () => {
  it('takes an http(s) URL on another origin, as a base ending in a slash', () => {
    expect(previewOriginFrom(undefined, APP, 'X')).toBeUndefined();
    expect(previewOriginFrom('  ', APP, 'X')).toBeUndefined();
    expect(previewOriginFrom('http://localhost:14173', APP, 'X')).toEqual({ kind: 'own', base: 'http://localhost:14173/', origin: 'http://localhost:14173' });
    expect(previewOriginFrom('https://previews.example.org/tabdock?x=1#y', 'https://tabdock.example.org/', 'X')).toEqual({
      kind: 'own',
      base: 'https://previews.example.org/tabdock/',
      origin: 'https://previews.example.org',
    });
  });

  it("falls back to the app's origin, saying why, for a value that cannot work", () => {
    expect(previewOriginFrom('previews.example.org', APP, 'VITE_TABDOCK_PREVIEW_URL')).toMatchObject({ kind: 'shared', reason: expect.stringMatching(/VITE_TABDOCK_PREVIEW_URL "previews.example.org" is not an absolute URL/) });
    expect(previewOriginFrom('http://localhost:4173/preview/', APP, 'X')).toMatchObject({ kind: 'shared', reason: expect.stringMatching(/this page's own origin/) });
    expect(previewOriginFrom('javascript:alert(1)', APP, 'X')).toMatchObject({ kind: 'shared' });
    expect(previewOriginFrom('http://previews.example.org/', 'https://tabdock.example.org/', 'X')).toMatchObject({ kind: 'shared', reason: expect.stringMatching(/http:\/\/ while this page is https:\/\//) });
  });
});

describe('resolvePreviewOrigin', () => {
  const json = (body: unknown, type = 'application/json') => Promise.resolve(new Response(JSON.stringify(body), { headers: { 'content-type': type } }));

  it('prefers the build setting, without asking the server', async () => {
    const asked: string[] = [];
    const origin = await resolvePreviewOrigin({ setting: 'https://p.example/', appBase: APP, fetch: (url) => (asked.push(url), json({})) });
    expect(origin).toMatchObject({ kind: 'own', base: 'https://p.example/' });
    expect(asked).toEqual([]);
  });

  it("uses the dev or preview server's port-preview.json next to index.html", async () => {
    const asked: string[] = [];
    const origin = await resolvePreviewOrigin({ setting: undefined, appBase: APP, fetch: (url) => (asked.push(url), json({ previewUrl: 'http://localhost:14173/' })) });
    expect(origin).toEqual({ kind: 'own', base: 'http://localhost:14173/', origin: 'http://localhost:14173' });
    expect(asked).toEqual(['http://localhost:4173/tabdock/port-preview.json']);
  });

  it("falls back to the app's origin with a visible reason on a static host (404, its index page, a network error)", async () => {
    const answers = [
      () => Promise.resolve(new Response('not found', { status: 404 })),
      () => Promise.resolve(new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } })),
      () => json({ previewUrl: 42 }),
      () => Promise.reject(new TypeError('Failed to fetch')),
    ];
    for (const answer of answers) {
      const origin = await resolvePreviewOrigin({ setting: undefined, appBase: APP, fetch: answer });
      expect(origin).toMatchObject({ kind: 'shared', reason: expect.stringMatching(/no preview origin is configured \(VITE_TABDOCK_PREVIEW_URL/) });
    }
  });
});

describe('preview addresses', () => {
  it("name the shell's port, app origin and mode, and a port's pages", () => {
    expect(shellUrl('http://localhost:14173/', 8080, 'http://localhost:4173', 'tab')).toBe('http://localhost:14173/?port=8080&app=http%3A%2F%2Flocalhost%3A4173&mode=tab');
    expect(portPageUrl('https://p.example/sub/', 3000)).toBe('https://p.example/sub/port/3000/');
  });
});
