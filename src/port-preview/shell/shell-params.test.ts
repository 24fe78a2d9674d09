import { describe, expect, it } from 'vitest';
import { parseShellParams, withPath } from './shell-params.ts';

const BASE = 'http://localhost:14173/';
const APP = encodeURIComponent('http://localhost:4173');

describe('parseShellParams', () => {
  it('reads the port, the app origin (only its origin), the mode and the path', () => {
    expect(parseShellParams(`${BASE}?port=8080&app=${APP}&mode=relay`)).toEqual({ ok: true, params: { port: 8080, appOrigin: 'http://localhost:4173', mode: 'relay', path: '/' } });
    expect(parseShellParams(`${BASE}index.html?port=3000&app=${encodeURIComponent('https://tabdock.example/sub/?x=1')}&mode=tab&path=%2Fabout%3Fq%3D1`)).toEqual({
      ok: true,
      params: { port: 3000, appOrigin: 'https://tabdock.example', mode: 'tab', path: '/about?q=1' },
    });
  });

  it('says what is wrong with an address it cannot use', () => {
    expect(parseShellParams(`${BASE}?app=${APP}`)).toMatchObject({ ok: false, message: expect.stringMatching(/names no container port/) });
    expect(parseShellParams(`${BASE}?port=70000&app=${APP}`)).toMatchObject({ ok: false });
    expect(parseShellParams(`${BASE}?port=8080`)).toMatchObject({ ok: false, message: expect.stringMatching(/which tabdock page/) });
    expect(parseShellParams(`${BASE}?port=8080&app=javascript%3Aalert(1)`)).toMatchObject({ ok: false });
    expect(parseShellParams(`${BASE}?port=8080&app=${encodeURIComponent('http://localhost:14173/')}`)).toMatchObject({ ok: false, message: expect.stringMatching(/tabdock's own origin/) });
  });

  it('opens the site root for a path that is no origin-form path', () => {
    for (const path of ['//evil.example/', 'https://evil.example/', 'about', '/a b']) {
      const result = parseShellParams(`${BASE}?port=8080&app=${APP}&path=${encodeURIComponent(path)}`);
      expect(result.ok && result.params.path, path).toBe('/');
    }
  });
});

describe('withPath', () => {
  it('replaces only the path parameter', () => {
    expect(withPath(`${BASE}?port=8080&app=${APP}&mode=tab`, '/docs/?v=2')).toBe(`${BASE}?port=8080&app=${APP}&mode=tab&path=%2Fdocs%2F%3Fv%3D2`);
  });
});
