import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { BundleFiles } from './preview-bundle.ts';
import { defaultPreviewPort, hostAllowed, previewPortSetting, previewResponse, startPreviewServer } from './preview-server.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const files: BundleFiles = new Map([
  ['index.html', enc('<p>shell</p>')],
  ['404.html', enc('<p>not connected</p>')],
  ['port-preview-sw.js', enc('self.x=1')],
  ['assets/index-abc.js', enc('console.log(1)')],
]);
const text = (body: Uint8Array | undefined) => new TextDecoder().decode(body);

describe('previewResponse', () => {
  it('serves the shell, its worker and its assets, with types and no caching', () => {
    const root = previewResponse('GET', '/?port=8080&app=x', files);
    expect([root.status, text(root.body), root.headers['content-type']]).toEqual([200, '<p>shell</p>', 'text/html; charset=utf-8']);
    expect(previewResponse('GET', '/port-preview-sw.js', files).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(text(previewResponse('GET', '/assets/index-abc.js', files).body)).toBe('console.log(1)');
    expect(previewResponse('GET', '/index.html', files).headers).toMatchObject({ 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(previewResponse('HEAD', '/', files).body).toBeUndefined();
  });

  it('answers everything else with the 404 page: nothing of the app, no guest path, no way out of the bundle', () => {
    for (const url of ['/port/8080/', '/vm/manifest.json', '/cors-proxy/x', '/assets/../../package.json', '/assets/%2e%2e%2f..%2fpackage.json', '/%2e%2e/package.json', '/%E0%A4%A']) {
      const answer = previewResponse('GET', url, files);
      expect([answer.status, text(answer.body)], url).toEqual([404, '<p>not connected</p>']);
    }
  });

  it('refuses methods other than GET and HEAD', () => {
    expect(previewResponse('POST', '/port/8080/login', files)).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
  });
});

describe('hostAllowed', () => {
  it("allows loopback names, IP literals and the server's allowedHosts, as Vite does", () => {
    for (const host of ['localhost:14173', 'preview.localhost:14173', '127.0.0.1:14173', '[::1]:14173', '192.168.1.5']) expect(hostAllowed(host, []), host).toBe(true);
    expect(hostAllowed('tabdock.lan:14173', ['tabdock.lan'])).toBe(true);
    expect(hostAllowed('a.tabdock.lan', ['.tabdock.lan'])).toBe(true);
    expect(hostAllowed('anything.example', true)).toBe(true);
  });

  it('refuses other names (a DNS-rebinding page) and a missing Host', () => {
    expect(hostAllowed('evil.example:14173', [])).toBe(false);
    expect(hostAllowed('localhost.evil.example', ['.tabdock.lan'])).toBe(false);
    expect(hostAllowed(undefined, [])).toBe(false);
    expect(hostAllowed('a b', [])).toBe(false);
  });
});

describe('preview port', () => {
  it("is the app's port + 10000, or - 10000 where that is no port", () => {
    expect(defaultPreviewPort(4173)).toBe(14173);
    expect(defaultPreviewPort(60000)).toBe(50000);
  });

  it('TABDOCK_PREVIEW_PORT moves it, and a bad value says so', () => {
    expect(previewPortSetting(undefined)).toBeUndefined();
    expect(previewPortSetting(' ')).toBeUndefined();
    expect(previewPortSetting('15000')).toBe(15000);
    expect(() => previewPortSetting('http')).toThrow(/TABDOCK_PREVIEW_PORT=http is not a TCP port number/);
    expect(() => previewPortSetting('70000')).toThrow(/not a TCP port/);
  });
});

describe('startPreviewServer', () => {
  function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the bundle on its own port once built, and refuses foreign Host names', async () => {
    let finish!: (files: BundleFiles) => void;
    const server = await startPreviewServer({ port: 0, host: '127.0.0.1', https: undefined, allowedHosts: [], files: new Promise((resolve) => (finish = resolve)) });
    const { port } = server.address() as AddressInfo;
    const pending = get(port, '/', `localhost:${port}`);
    finish(files);
    expect(await pending).toEqual({ status: 200, body: '<p>shell</p>' });
    expect((await get(port, '/', `evil.example:${port}`)).status).toBe(403);
    await new Promise((resolve) => server.close(resolve));
  });
});
