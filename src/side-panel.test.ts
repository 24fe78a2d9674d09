import { describe, expect, it } from 'vitest';
import { labRequestedIn } from './side-panel.ts';

const at = (href: string) => new URL(href) as unknown as Location;

describe('labRequestedIn', () => {
  it('sees ?lab=, #lab= and ?author, and nothing else', () => {
    expect(labRequestedIn(at('https://t.example/?lab=docker-basics'))).toBe(true);
    expect(labRequestedIn(at('https://t.example/#lab=eJyrVg'))).toBe(true);
    expect(labRequestedIn(at('https://t.example/#x=1&lab=eJyrVg'))).toBe(true);
    expect(labRequestedIn(at('https://t.example/?author'))).toBe(true);
    expect(labRequestedIn(at('https://t.example/'))).toBe(false);
    expect(labRequestedIn(at('https://t.example/?snapshot=off#collab=1'))).toBe(false);
  });
});
