import { describe, expect, it } from 'vitest';
import { pickRelay, postingOrigins, type RelayCandidate } from './relays.ts';

const PREVIEW = 'http://localhost:14173/';
const APP = 'http://localhost:4173/tabdock/';

function client(url: string, state: Partial<RelayCandidate> = {}): RelayCandidate & { name: string } {
  return { url, focused: false, visibilityState: 'visible', name: url, ...state };
}

describe('pickRelay', () => {
  const shell8080 = client(`${PREVIEW}?port=8080&app=${encodeURIComponent('http://localhost:4173')}&mode=relay`, { visibilityState: 'hidden' });
  const tab8080 = client(`${PREVIEW}index.html?port=8080&app=http%3A%2F%2Flocalhost%3A4173&mode=tab&path=%2Fabout`);
  const shell3000 = client(`${PREVIEW}?port=3000&app=http%3A%2F%2Flocalhost%3A4173&mode=relay`, { focused: true });
  const site = client(`${PREVIEW}port/8080/`, { focused: true });

  it('on a preview origin, picks a shell opened for the request\'s port, never a container\'s page', () => {
    expect(pickRelay([site, shell3000, shell8080], PREVIEW, 8080)).toBe(shell8080);
    expect(pickRelay([site, shell8080, shell3000], PREVIEW, 3000)).toBe(shell3000);
    expect(pickRelay([site, client(`${PREVIEW}?port=abc`)], PREVIEW, 8080)).toBeUndefined();
  });

  it('with no shell for the port, hands the request to a shell for another, which refuses it with a reason', () => {
    expect(pickRelay([site, shell3000], PREVIEW, 8080)).toBe(shell3000);
    expect(pickRelay([site, shell3000], PREVIEW, 2375)).toBe(shell3000);
  });

  it('prefers the focused relay, then a visible one', () => {
    expect(pickRelay([shell8080, tab8080], PREVIEW, 8080)).toBe(tab8080);
    const focused = client(`${PREVIEW}?port=8080&app=x`, { focused: true, visibilityState: 'hidden' });
    expect(pickRelay([shell8080, tab8080, focused], PREVIEW, 8080)).toBe(focused);
  });

  it('without a preview origin, the app page relays every port', () => {
    const app = client(`${APP}?lab=hello`);
    expect(pickRelay([client(`${APP}port/8080/`), app], APP, 8080)).toBe(app);
    expect(pickRelay([client(`${APP}index.html`)], APP, 3000)?.url).toBe(`${APP}index.html`);
    expect(pickRelay([client('http://localhost:4173/other/')], APP, 3000)).toBeUndefined();
  });
});

describe('postingOrigins', () => {
  it('is the scope\'s origin and the app origins connected shells name', () => {
    const clients = [
      client(`${PREVIEW}?port=8080&app=http%3A%2F%2Flocalhost%3A4173&mode=relay`),
      client(`${PREVIEW}?port=3000&app=https%3A%2F%2Ftabdock.example%2Fsub%2F&mode=tab`),
      client(`${PREVIEW}?port=3000&app=javascript%3Aalert(1)&mode=tab`),
      client(`${PREVIEW}?port=3000&app=not%20a%20url&mode=tab`),
      client(`${PREVIEW}port/8080/?app=https%3A%2F%2Fevil.example`),
    ];
    expect(postingOrigins(clients, PREVIEW).sort()).toEqual(['http://localhost:14173', 'http://localhost:4173', 'https://tabdock.example']);
  });
});
