import { afterEach, describe, expect, it } from 'vitest';
import type { ShellParams } from './shell-params.ts';
import { ShellRelay, type ShellState } from './shell-relay.ts';

const APP = 'http://localhost:4173';
const PARAMS: ShellParams = { port: 8080, appOrigin: APP, mode: 'relay', path: '/' };
const request = { port: 8080, method: 'GET', target: '/', headers: [] as Array<[string, string]> };

const open: MessagePort[] = [];
function channel(): MessageChannel {
  const c = new MessageChannel();
  open.push(c.port1, c.port2);
  return c;
}
/** The next message on a port, with the ports it carried. */
function next(port: MessagePort): Promise<MessageEvent> {
  return new Promise((resolve) => (port.onmessage = resolve));
}
afterEach(() => {
  for (const port of open.splice(0)) port.close();
});

function relay(serviceWorker: Promise<void> = Promise.resolve()) {
  const states: ShellState[] = [];
  const reloads: string[] = [];
  const shell = new ShellRelay({ params: PARAMS, serviceWorker, onState: (state) => states.push(state), reloadFrame: (name) => reloads.push(name) });
  return { shell, states, reloads };
}

function offer(shell: ShellRelay, origin = APP, data: unknown = { type: 'tabdock-preview-offer', version: 1, port: 8080 }) {
  const c = channel();
  shell.offered({ origin, data, ports: [c.port2] });
  return c.port1;
}

describe('ShellRelay', () => {
  it("takes the app's offer, says hello, then ready once its Service Worker runs", async () => {
    const { shell, states } = relay();
    const app = offer(shell);
    const first = await next(app);
    expect(first.data).toEqual({ type: 'hello', port: 8080 });
    expect((await next(app)).data).toEqual({ type: 'ready', port: 8080 });
    expect(states.map((state) => state.kind)).toEqual(['waiting', 'connected', 'ready']);
  });

  it('ignores offers from any other origin, and a second offer once connected', async () => {
    const { shell, states } = relay(new Promise(() => undefined));
    const stranger = offer(shell, 'https://evil.example');
    const app = offer(shell);
    expect((await next(app)).data).toEqual({ type: 'hello', port: 8080 });
    let strangerHeard = false;
    stranger.onmessage = () => (strangerHeard = true);
    const late = offer(shell);
    let lateHeard = false;
    late.onmessage = () => (lateHeard = true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(strangerHeard || lateHeard).toBe(false);
    expect(states.map((state) => state.kind)).toEqual(['waiting', 'connected']);
  });

  it('answers an offer for another port or protocol version with failed, and stays free', async () => {
    const { shell } = relay();
    expect((await next(offer(shell, APP, { type: 'tabdock-preview-offer', version: 1, port: 3000 }))).data).toMatchObject({ type: 'failed', code: 'wrong-port' });
    expect((await next(offer(shell, APP, { type: 'tabdock-preview-offer', version: 9, port: 8080 }))).data).toMatchObject({ type: 'failed', code: 'old-shell' });
    expect((await next(offer(shell))).data).toEqual({ type: 'hello', port: 8080 });
  });

  it('reports a refused Service Worker to the app', async () => {
    const { shell, states } = relay(Promise.reject(new Error('The browser refused the preview\'s Service Worker')));
    const app = offer(shell);
    await next(app);
    expect((await next(app)).data).toEqual({ type: 'failed', code: 'no-service-worker', message: "The browser refused the preview's Service Worker" });
    expect(states.at(-1)).toEqual({ kind: 'failed', message: "The browser refused the preview's Service Worker" });
  });

  it("passes its port's requests to the app with the reply port and body, and refuses others itself", async () => {
    const { shell } = relay();
    const app = offer(shell);
    await next(app);
    await next(app);
    const forwarded = next(app);
    const reply = channel();
    const body = new Uint8Array([1, 2, 3]).buffer;
    shell.request({ origin: 'http://localhost:14173', data: { type: 'tabdock-port-request', request: { ...request, method: 'POST', body } }, ports: [reply.port2] });
    const event = await forwarded;
    expect(event.data).toMatchObject({ type: 'request', request: { port: 8080, method: 'POST', target: '/' } });
    expect(new Uint8Array(event.data.request.body)).toEqual(new Uint8Array([1, 2, 3]));
    expect(event.ports).toHaveLength(1);

    const other = channel();
    shell.request({ origin: 'http://localhost:14173', data: { type: 'tabdock-port-request', request: { ...request, port: 2375 } }, ports: [other.port2] });
    expect((await next(other.port1)).data).toMatchObject({ type: 'error', code: 'not-allowed' });
    const bad = channel();
    shell.request({ origin: 'http://localhost:14173', data: { type: 'tabdock-port-request', request: { ...request, target: 'http://x/' } }, ports: [bad.port2] });
    expect((await next(bad.port1)).data).toMatchObject({ type: 'error', code: 'bad-request' });
  });

  it('answers no-tab before an app connected and after it said it closes; reloads the named frame', async () => {
    const { shell, states, reloads } = relay();
    const early = channel();
    shell.request({ origin: 'http://localhost:14173', data: { type: 'tabdock-port-request', request }, ports: [early.port2] });
    expect((await next(early.port1)).data).toMatchObject({ type: 'error', code: 'no-tab' });
    const app = offer(shell);
    await next(app);
    app.postMessage({ type: 'reload-frame', frame: 'tabdock-preview-panel' });
    app.postMessage({ type: 'closing' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reloads).toEqual(['tabdock-preview-panel']);
    expect(states.at(-1)).toEqual({ kind: 'closed' });
    const late = channel();
    shell.request({ origin: 'http://localhost:14173', data: { type: 'tabdock-port-request', request }, ports: [late.port2] });
    expect((await next(late.port1)).data).toMatchObject({ type: 'error', code: 'no-tab' });
  });

  it('says bye when the page unloads', async () => {
    const { shell } = relay();
    const app = offer(shell);
    await next(app);
    await next(app);
    shell.unloading();
    expect((await next(app)).data).toEqual({ type: 'bye' });
  });
});
