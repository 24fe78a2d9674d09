import { describe, expect, it } from 'vitest';
import { isForeignPost, previewLocation, routeRequest } from './port-routes.ts';

const SCOPE = 'http://localhost:4173/tabdock/';
const APP = 'http://localhost:4173/tabdock/';

describe('routeRequest', () => {
  it('sends port/<n>/... to the guest port with path and query', () => {
    expect(routeRequest(`${SCOPE}port/8080/`, SCOPE, APP)).toEqual({ kind: 'guest', port: 8080, target: '/' });
    expect(routeRequest(`${SCOPE}port/8080/img/dot.png?v=2`, SCOPE, '')).toEqual({ kind: 'guest', port: 8080, target: '/img/dot.png?v=2' });
  });

  it('redirects port/<n> without the slash, so relative links resolve under it', () => {
    expect(routeRequest(`${SCOPE}port/8080`, SCOPE, '')).toEqual({ kind: 'redirect', location: `${SCOPE}port/8080/` });
    expect(routeRequest(`${SCOPE}port/8080?a=1`, SCOPE, '')).toEqual({ kind: 'redirect', location: `${SCOPE}port/8080/?a=1` });
  });

  it('answers bad port numbers with an explanation', () => {
    expect(routeRequest(`${SCOPE}port/0/`, SCOPE, '')).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/not a TCP port/) });
    expect(routeRequest(`${SCOPE}port/70000/`, SCOPE, '')).toMatchObject({ kind: 'invalid' });
    expect(routeRequest(`${SCOPE}port/web/`, SCOPE, '')).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/"web" is not a port number/) });
  });

  it('leaves the app, its assets and the VM image alone', () => {
    expect(routeRequest(SCOPE, SCOPE, '')).toBeUndefined();
    expect(routeRequest(`${SCOPE}vm/rootfs-abc.img`, SCOPE, APP)).toBeUndefined();
    expect(routeRequest(`${SCOPE}assets/index.js`, SCOPE, APP)).toBeUndefined();
    expect(routeRequest('http://localhost:4173/tabdock/portal/', SCOPE, APP)).toBeUndefined();
    expect(routeRequest('https://registry-1.docker.io/v2/', SCOPE, `${SCOPE}port/8080/`)).toBeUndefined();
  });

  it('routes root-relative requests made by a preview page to its port, the scope\'s own page included', () => {
    expect(routeRequest('http://localhost:4173/style.css', SCOPE, `${SCOPE}port/8080/index.html`)).toEqual({ kind: 'guest', port: 8080, target: '/style.css' });
    expect(routeRequest(`${SCOPE}index.html`, SCOPE, `${SCOPE}port/8080/`)).toEqual({ kind: 'guest', port: 8080, target: '/tabdock/index.html' });
    expect(routeRequest('http://localhost:4173/api/items?q=1', SCOPE, `${SCOPE}port/3000/app/`)).toEqual({ kind: 'guest', port: 3000, target: '/api/items?q=1' });
  });

  it('moves a preview page\'s root-relative links and forms under its port, so the next page keeps its place', () => {
    expect(routeRequest('http://localhost:4173/about.html', SCOPE, `${SCOPE}port/8080/`, true)).toEqual({ kind: 'redirect', location: `${SCOPE}port/8080/about.html` });
    expect(routeRequest('http://localhost:4173/', SCOPE, `${SCOPE}port/8080/page2.html`, true)).toEqual({ kind: 'redirect', location: `${SCOPE}port/8080/` });
    expect(routeRequest(SCOPE, SCOPE, `${SCOPE}port/8080/`, true)).toEqual({ kind: 'redirect', location: `${SCOPE}port/8080/tabdock/` });
    // Opened from the app (or typed), the app's page stays the app's.
    expect(routeRequest(SCOPE, SCOPE, APP, true)).toBeUndefined();
  });
});

describe('isForeignPost', () => {
  const allowed = ['http://localhost:14173', 'http://localhost:4173'];

  it('lets the preview\'s own pages and the app post, and any page navigate with GET', () => {
    expect(isForeignPost('POST', true, 'http://localhost:14173/port/8080/form.html', allowed)).toBe(false);
    expect(isForeignPost('POST', true, 'http://localhost:4173/', allowed)).toBe(false);
    expect(isForeignPost('GET', true, 'https://evil.example/', allowed)).toBe(false);
    expect(isForeignPost('HEAD', true, '', allowed)).toBe(false);
  });

  it('refuses a form another site posts into a preview, and one with no referrer to tell', () => {
    expect(isForeignPost('POST', true, 'https://evil.example/csrf.html', allowed)).toBe(true);
    expect(isForeignPost('PUT', true, 'http://localhost:5000/', allowed)).toBe(true);
    expect(isForeignPost('POST', true, 'http://127.0.0.1:14173/', allowed)).toBe(true);
    expect(isForeignPost('POST', true, '', allowed)).toBe(true);
  });

  it('leaves requests from the preview\'s own pages (fetch, XHR) to the browser\'s same-origin rules', () => {
    expect(isForeignPost('POST', false, '', allowed)).toBe(false);
  });
});

describe('previewLocation', () => {
  it('moves the container’s absolute paths and its own localhost URLs under port/<n>/', () => {
    expect(previewLocation('/docs/', 8080, SCOPE)).toBe(`${SCOPE}port/8080/docs/`);
    expect(previewLocation('http://localhost:8080/a?b=1', 8080, SCOPE)).toBe(`${SCOPE}port/8080/a?b=1`);
    expect(previewLocation('http://127.0.0.1:8080', 8080, SCOPE)).toBe(`${SCOPE}port/8080/`);
  });

  it('leaves relative references and other sites alone', () => {
    expect(previewLocation('docs/', 8080, SCOPE)).toBe('docs/');
    expect(previewLocation('https://example.com/', 8080, SCOPE)).toBe('https://example.com/');
    expect(previewLocation('//cdn.example/x', 8080, SCOPE)).toBe('//cdn.example/x');
    expect(previewLocation('http://localhost:3000/', 8080, SCOPE)).toBe('http://localhost:3000/');
  });
});
