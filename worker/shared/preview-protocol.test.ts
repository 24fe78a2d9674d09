import { describe, expect, it } from 'vitest';
import {
  MAX_PREVIEW_BODY_BYTES,
  appMessageSchema,
  guestHttpMessageSchema,
  guestHttpRequestSchema,
  previewOfferSchema,
  shellMessageSchema,
} from './preview-protocol.ts';

const request = { port: 8080, method: 'GET', target: '/css/site.css?v=2', headers: [['accept', 'text/css']] };

describe('preview protocol schemas', () => {
  it('accept the messages the app, the shell, the Service Worker and the VM worker send', () => {
    expect(guestHttpRequestSchema.safeParse(request).success).toBe(true);
    expect(guestHttpRequestSchema.safeParse({ ...request, method: 'POST', body: new ArrayBuffer(3) }).success).toBe(true);
    expect(previewOfferSchema.safeParse({ type: 'tabdock-preview-offer', version: 1, port: 8080 }).success).toBe(true);
    for (const message of [{ type: 'hello', port: 8080 }, { type: 'ready', port: 8080 }, { type: 'bye' }, { type: 'request', request }, { type: 'failed', code: 'no-service-worker', message: 'blocked' }]) {
      expect(shellMessageSchema.safeParse(message).success, JSON.stringify(message)).toBe(true);
    }
    expect(appMessageSchema.safeParse({ type: 'reload-frame', frame: 'tabdock-preview-panel' }).success).toBe(true);
    expect(guestHttpMessageSchema.safeParse({ type: 'data', bytes: new Uint8Array(2) }).success).toBe(true);
    expect(guestHttpMessageSchema.safeParse({ type: 'error', code: 'no-tab', message: 'gone' }).success).toBe(true);
  });

  it('refuse requests that could not be sent as HTTP/1.1 or that are too large', () => {
    const bad = [
      { ...request, port: 0 },
      { ...request, port: 65536 },
      { ...request, port: 80.5 },
      { ...request, method: 'GET /x HTTP/1.1\r\nX' },
      { ...request, method: '' },
      { ...request, target: 'http://127.0.0.1:22/' },
      { ...request, target: '/a b' },
      { ...request, target: '/a\r\nInjected: 1' },
      { ...request, headers: [['x-a', 'b\r\nInjected: 1']] },
      { ...request, headers: [['bad name', 'v']] },
      { ...request, headers: Array.from({ length: 257 }, () => ['x-a', 'b']) },
      { ...request, body: new ArrayBuffer(MAX_PREVIEW_BODY_BYTES + 1) },
      { ...request, body: 'text' },
      { ...request, extra: true },
    ];
    for (const candidate of bad) expect(guestHttpRequestSchema.safeParse(candidate).success, JSON.stringify(candidate).slice(0, 120)).toBe(false);
  });

  it('refuse offers from another protocol version, unknown message types and look-alikes', () => {
    expect(previewOfferSchema.safeParse({ type: 'tabdock-preview-offer', version: 2, port: 8080 }).success).toBe(false);
    expect(previewOfferSchema.safeParse({ type: 'tabdock-preview-offer', version: 1, port: '8080' }).success).toBe(false);
    expect(shellMessageSchema.safeParse({ type: 'exec', command: 'rm -rf /' }).success).toBe(false);
    expect(shellMessageSchema.safeParse({ type: 'hello', port: 8080, admin: true }).success).toBe(false);
    expect(shellMessageSchema.safeParse('hello').success).toBe(false);
    expect(shellMessageSchema.safeParse(null).success).toBe(false);
    expect(appMessageSchema.safeParse({ type: 'reload-frame', frame: 'x'.repeat(65) }).success).toBe(false);
    expect(guestHttpMessageSchema.safeParse({ type: 'data', bytes: [1, 2] }).success).toBe(false);
    expect(guestHttpMessageSchema.safeParse({ type: 'error', code: 'anything', message: 'm' }).success).toBe(false);
  });
});
