// Loading a lab from a page address, against a real local HTTP server: each way a fetch can fail gets its code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchLabSource, loadLabFromLocation } from './load-lab.ts';
import { makeShareLink } from './lab-link.ts';

const LAB = '---\ntitle: Served\n---\n## One\n```sh run\ndocker ps\n```\n';
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/lab.md':
        response.writeHead(200, { 'content-type': 'text/markdown' }).end(LAB);
        return;
      case '/page.html':
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>hi</body></html>');
        return;
      case '/notes.txt':
        response.writeHead(200).end('just some notes');
        return;
      case '/invalid.md':
        response.writeHead(200).end('---\ntitle: T\nbogus: 1\n---\n## s\n');
        return;
      case '/huge-declared.md':
        response.writeHead(200, { 'content-length': String(5 * 1024 * 1024) }).end();
        return;
      case '/huge-streamed.md':
        // No content-length: the limit must hold while streaming.
        response.writeHead(200, { 'transfer-encoding': 'chunked' });
        response.write('---\n');
        for (let index = 0; index < 40; index += 1) response.write('x'.repeat(64 * 1024));
        response.end();
        return;
      case '/slow.md':
        setTimeout(() => response.writeHead(200).end(LAB), 2_000);
        return;
      case '/broken':
        response.writeHead(500, 'Internal Server Error').end();
        return;
      default:
        response.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const page = (query: string) => {
  const url = new URL(`https://tabdock.example/${query}`);
  return { href: url.href, search: url.search, hash: url.hash };
};

describe('fetchLabSource', () => {
  it('fetches a lab', async () => {
    expect(await fetchLabSource(`${base}/lab.md`)).toEqual({ ok: true, value: LAB });
  });

  it.each([
    ['/missing.md', 'http-not-found'],
    ['/broken', 'http-status'],
    ['/page.html', 'not-a-lab'],
    ['/notes.txt', 'not-a-lab'],
    ['/huge-declared.md', 'lab-too-large'],
    ['/huge-streamed.md', 'lab-too-large'],
  ])('%s gives %s', async (path, code) => {
    const result = await fetchLabSource(`${base}${path}`);
    expect(result).toMatchObject({ ok: false, error: { code } });
  });

  it('reports a refused connection as a network/CORS error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await fetchLabSource(`http://127.0.0.1:${port}/lab.md`);
    expect(result).toMatchObject({ ok: false, error: { code: 'network' } });
    if (!result.ok) expect(result.error.message).toContain('CORS');
  });

  it('gives up after its time limit', async () => {
    expect(await fetchLabSource(`${base}/slow.md`, { timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: 'timeout' } });
  });
});

describe('loadLabFromLocation', () => {
  it('loads ?lab=<url>', async () => {
    const result = await loadLabFromLocation(page(`?lab=${encodeURIComponent(`${base}/lab.md`)}`));
    expect(result).toMatchObject({ kind: 'loaded', loaded: { lab: { title: 'Served' }, origin: { kind: 'url', url: `${base}/lab.md` } } });
  });

  it('loads a bundled example by id without fetching', async () => {
    const result = await loadLabFromLocation(page('?lab=docker-basics'));
    expect(result).toMatchObject({ kind: 'loaded', loaded: { lab: { title: 'Docker basics' }, origin: { kind: 'example' } } });
  });

  it('loads a lab carried in #lab=', async () => {
    const link = await makeShareLink(LAB, { kind: 'inline' }, 'https://tabdock.example/');
    if (!link.ok) throw new Error(link.error.message);
    expect(await loadLabFromLocation(page(link.value.slice('https://tabdock.example/'.length)))).toMatchObject({
      kind: 'loaded',
      loaded: { lab: { title: 'Served' }, origin: { kind: 'inline' } },
    });
  });

  it('returns none without a lab, and line-numbered problems for an invalid one', async () => {
    expect(await loadLabFromLocation(page(''))).toEqual({ kind: 'none' });
    const invalid = await loadLabFromLocation(page(`?lab=${encodeURIComponent(`${base}/invalid.md`)}`));
    expect(invalid).toMatchObject({ kind: 'error', error: { code: 'invalid-lab' }, problems: [{ line: 3 }] });
    if (invalid.kind === 'error') expect(invalid.error.detail).toContain('line 3');
    expect(await loadLabFromLocation(page('#lab=1.%%%'))).toMatchObject({ kind: 'error', error: { code: 'link-malformed' } });
  });
});
