import { afterEach, describe, expect, it } from 'vitest';
import type { GuestHttpRequest } from '../../worker/shared/contract.ts';
import { PreviewConnection, type PreviewVm } from './preview-connection.ts';

const PREVIEW = 'http://localhost:14173';
const request: GuestHttpRequest = { port: 8080, method: 'GET', target: '/', headers: [] };

interface Offer {
  data: unknown;
  targetOrigin: string;
  port: MessagePort;
}

/**
 * A window that records what is posted to it (postMessage(message, targetOrigin, transfer)). Until `loaded`, its
 * location is readable, as a new window's initial about:blank is; then it throws, as another origin's does.
 */
function fakeWindow() {
  const offers: Offer[] = [];
  const win = {
    closed: false,
    loaded: true,
    get location() {
      if (this.loaded) throw new DOMException('Blocked a frame with origin "http://localhost:4173"', 'SecurityError');
      return { href: 'about:blank' };
    },
    postMessage(data: unknown, targetOrigin: string, transfer: MessagePort[]) {
      offers.push({ data, targetOrigin, port: transfer[0]! });
    },
  };
  return { win: win as unknown as Window & { closed: boolean; loaded: boolean }, offers };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function connect(options: { vm?: PreviewVm | undefined; readyTimeoutMs?: number } = {}) {
  const { win, offers } = fakeWindow();
  const forwarded: Array<{ request: GuestHttpRequest; reply: MessagePort }> = [];
  const vm: PreviewVm = { forwardGuestHttp: (req, reply) => forwarded.push({ request: req, reply }) };
  const connection = new PreviewConnection({
    previewOrigin: PREVIEW,
    port: 8080,
    target: () => win,
    vm: () => ('vm' in options ? options.vm : vm),
    offerIntervalMs: 10,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  });
  cleanups.push(() => {
    connection.dispose();
    for (const offer of offers) offer.port.close();
    for (const { reply } of forwarded) reply.close();
  });
  return { connection, win, offers, forwarded };
}

/** Plays the shell: takes an offer's port and says hello (and ready). */
function takeOffer(offer: Offer, ready = true): MessagePort {
  offer.port.postMessage({ type: 'hello', port: 8080 });
  if (ready) offer.port.postMessage({ type: 'ready', port: 8080 });
  return offer.port;
}

function ask(shell: MessagePort, message: unknown): Promise<unknown> {
  const reply = new MessageChannel();
  cleanups.push(() => reply.port1.close());
  const answer = new Promise((resolve) => (reply.port1.onmessage = (event) => resolve(event.data)));
  shell.postMessage(message, [reply.port2]);
  return answer;
}

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PreviewConnection', () => {
  it('offers a port to the preview origin only, again until a shell says hello, and is ready when it says so', async () => {
    const { connection, offers } = connect();
    await tick();
    expect(offers.length).toBeGreaterThan(1);
    expect(offers.every((offer) => offer.targetOrigin === PREVIEW)).toBe(true);
    expect(offers[0]?.data).toEqual({ type: 'tabdock-preview-offer', version: 1, port: 8080 });
    takeOffer(offers[1]!);
    await connection.ready;
    const count = offers.length;
    await tick();
    expect(offers.length).toBe(count);
    expect(connection.connected).toBe(true);
  });

  it('hands requests for its port to the VM with the reply port', async () => {
    const { connection, offers, forwarded } = connect();
    const shell = takeOffer(offers[0]!);
    await connection.ready;
    const reply = new MessageChannel();
    cleanups.push(() => reply.port1.close());
    shell.postMessage({ type: 'request', request }, [reply.port2]);
    await tick();
    expect(forwarded.map((f) => f.request)).toEqual([request]);
  });

  it('refuses other ports and the Engine API, whatever a scripted shell asks, without asking the VM', async () => {
    const { connection, offers, forwarded } = connect();
    const shell = takeOffer(offers[0]!);
    await connection.ready;
    expect(await ask(shell, { type: 'request', request: { ...request, port: 3000 } })).toMatchObject({ type: 'error', code: 'not-allowed', message: expect.stringMatching(/opened for port 8080/) });
    expect(await ask(shell, { type: 'request', request: { ...request, port: 2375 } })).toMatchObject({ type: 'error', code: 'not-allowed', message: expect.stringMatching(/Docker daemon's own API/) });
    expect(await ask(shell, { type: 'request', request: { ...request, target: 'http://127.0.0.1:22/' } })).toMatchObject({ type: 'error', code: 'bad-request' });
    expect(await ask(shell, { type: 'exec', command: 'id' })).toMatchObject({ type: 'error', code: 'bad-request' });
    expect(forwarded).toEqual([]);
  });

  it('says the VM is not running when it is not', async () => {
    const { connection, offers } = connect({ vm: undefined });
    const shell = takeOffer(offers[0]!);
    await connection.ready;
    expect(await ask(shell, { type: 'request', request })).toMatchObject({ type: 'error', code: 'vm-not-running' });
  });

  it("rejects ready with the shell's reason, or when no shell answers in time", async () => {
    const failing = connect();
    failing.offers[0]!.port.postMessage({ type: 'failed', code: 'old-shell', message: 'reload it' });
    await expect(failing.connection.ready).rejects.toThrow('reload it');
    const silent = connect({ readyTimeoutMs: 30 });
    await expect(silent.connection.ready).rejects.toThrow(`The preview origin ${PREVIEW} did not answer`);
  });

  it('offers again after the shell says bye (a reloaded tab), and tells a shell when the app closes', async () => {
    const { connection, offers } = connect();
    const first = takeOffer(offers[0]!);
    await connection.ready;
    first.postMessage({ type: 'bye' });
    await tick();
    expect(connection.connected).toBe(false);
    const again = offers.at(-1)!;
    const second = takeOffer(again);
    await tick();
    expect(connection.connected).toBe(true);
    const heard = new Promise((resolve) => (second.onmessage = (event) => resolve(event.data)));
    connection.dispose();
    expect(await heard).toEqual({ type: 'closing' });
  });

  it('waits while the window still shows its initial about:blank (this origin), rather than offer to it', async () => {
    const { offers, win } = connect();
    win.loaded = false;
    const count = offers.length;
    await tick();
    expect(offers.length).toBe(count);
    win.loaded = true;
    await tick();
    expect(offers.length).toBeGreaterThan(count);
  });

  it('stops offering once the window is closed', async () => {
    const { offers, win } = connect();
    await tick();
    win.closed = true;
    await tick();
    const count = offers.length;
    await tick();
    expect(offers.length).toBe(count);
  });
});
