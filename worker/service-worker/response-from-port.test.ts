import { describe, expect, it } from 'vitest';
import type { GuestHttpControl, GuestHttpMessage } from '../shared/contract.ts';
import { errorPageHtml } from './error-page.ts';
import { responseFromPort } from './response-from-port.ts';

const SCOPE = 'http://localhost:4173/';
const enc = (text: string) => new TextEncoder().encode(text);

function channel() {
  const { port1, port2 } = new MessageChannel();
  const controls: GuestHttpControl[] = [];
  port2.onmessage = (event: MessageEvent<GuestHttpControl>) => controls.push(event.data);
  const send = (message: GuestHttpMessage) => port2.postMessage(message);
  return { reader: port1, port2, send, controls, close: () => port2.close() };
}

describe('responseFromPort', () => {
  it('builds a streaming Response from head and data messages', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.send({ type: 'head', status: 200, statusText: 'OK', headers: [['content-type', 'text/css'], ['connection', 'close'], ['transfer-encoding', 'chunked']] });
    c.send({ type: 'data', bytes: enc('h1 {') });
    c.send({ type: 'data', bytes: enc(' }') });
    c.send({ type: 'end' });
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css');
    expect(response.headers.has('connection')).toBe(false);
    expect(response.headers.has('transfer-encoding')).toBe(false);
    expect(await response.text()).toBe('h1 { }');
    c.close();
  });

  it('rewrites a redirect into the preview address space', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.send({ type: 'head', status: 301, statusText: 'Moved', headers: [['location', '/docs/']] });
    c.send({ type: 'end' });
    const response = await pending;
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe(`${SCOPE}port/8080/docs/`);
    c.close();
  });

  it('turns a not-listening error into a 502 page that says so', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 9999, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.send({ type: 'error', code: 'not-listening', message: 'Nothing in the VM is listening on port 9999. Try `docker ps`.' });
    const response = await pending;
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('The container is not listening on this port (port 9999)');
    expect(html).toContain('Try <code>docker ps</code>.');
    c.close();
  });

  it('answers 504 and cancels when nothing arrives in time', async () => {
    const c = channel();
    const response = await responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 20 });
    expect(response.status).toBe(504);
    expect(await response.text()).toContain('The tabdock tab did not answer');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(c.controls).toEqual([{ type: 'cancel' }]);
    c.close();
  });

  it('asks the worker to stop when the page stops reading', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.send({ type: 'head', status: 200, statusText: 'OK', headers: [] });
    const response = await pending;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(c.controls).toEqual([{ type: 'cancel' }]);
    c.close();
  });

  it('errors the body when the worker reports a failure mid-response', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.send({ type: 'head', status: 200, statusText: 'OK', headers: [] });
    c.send({ type: 'data', bytes: enc('part') });
    c.send({ type: 'error', code: 'bad-response', message: 'The server on port 8080 cut its response short.' });
    await expect((await pending).text()).rejects.toThrow(/cut its response short/);
    c.close();
  });

  it('ends the answer, and asks the worker to stop, on a message that is not part of the protocol', async () => {
    const c = channel();
    const pending = responseFromPort(c.reader, { port: 8080, scope: SCOPE, firstMessageTimeoutMs: 5000 });
    c.port2.postMessage({ type: 'head', status: '200', statusText: 'OK', headers: [], script: 'alert(1)' });
    const response = await pending;
    expect(response.status).toBe(502);
    expect(response.headers.get('x-tabdock-preview-error')).toBe('bad-response');
    expect(await response.text()).toContain('a message a preview cannot read');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(c.controls).toEqual([{ type: 'cancel' }]);
    c.close();
  });
});

describe('errorPageHtml', () => {
  it('escapes the message and detail', () => {
    const html = errorPageHtml({ code: 'bad-request', message: '<script>x</script>', detail: 'a & b' }, undefined);
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&#60;script&#62;x');
    expect(html).toContain('a &#38; b');
  });
});
