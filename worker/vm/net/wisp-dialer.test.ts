// Closing a Wisp dialer against the real relay on 127.0.0.1: the relay keeps no session for it, whether its
// WebSocket was open or still opening, nothing reopens it, and closing is not reported as the relay going down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../../testing/wisp-test-relay.ts';
import { WispDialer } from './wisp-dialer.ts';

let running: TestRelay;
let url = '';
const sessions = () => running.relay.sessions();

beforeAll(async () => {
  running = await startTestRelay();
  url = running.url;
});

afterAll(() => running.close());

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('WispDialer.close', () => {
  it('ends an open session at the relay', async () => {
    const downs: string[] = [];
    const dialer = new WispDialer(url, { onDown: (message) => downs.push(message) });
    await dialer.open();
    await expect.poll(() => sessions()).toBe(1);
    dialer.close();
    await expect.poll(() => sessions()).toBe(0);
    expect(dialer.state()).toBe('down');
    await expect(dialer.dial('example.com', 443)).rejects.toMatchObject({ code: 'relay-unreachable' });
    await settle();
    expect(sessions()).toBe(0);
    expect(downs).toEqual([]);
  });

  it('abandons a WebSocket that is still opening, so no session appears later', async () => {
    const downs: string[] = [];
    const dialer = new WispDialer(url, { onDown: (message) => downs.push(message) });
    const opening = dialer.open();
    dialer.close();
    await expect(opening).rejects.toMatchObject({ code: 'relay-unreachable', message: expect.stringContaining('closed before it opened') });
    await settle();
    expect(sessions()).toBe(0);
    expect(downs).toEqual([]);
  });
});
