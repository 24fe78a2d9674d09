import { describe, expect, it } from 'vitest';
import { readPageConfig } from './page-config.ts';

const at = (href: string) => readPageConfig(new URL(href) as unknown as Location, href);

describe('page config', () => {
  it('defaults to vm/ next to the page, also under a sub-path', () => {
    expect(at('https://example.org/tabdock/').assetBase).toBe('https://example.org/tabdock/vm/');
    expect(at('https://example.org/tabdock/index.html').assetBase).toBe('https://example.org/tabdock/vm/');
  });

  it('takes ?assets= relative to the page or absolute, always ending in a slash', () => {
    expect(at('https://example.org/app/?assets=./other').assetBase).toBe('https://example.org/app/other/');
    expect(at('https://example.org/app/?assets=https://cdn.example.net/vm/').assetBase).toBe('https://cdn.example.net/vm/');
  });

  it('starts from the boot snapshot unless ?snapshot=off asks for a cold boot', () => {
    expect(at('https://example.org/').withoutSession).toBe('boot-snapshot');
    expect(at('https://example.org/?snapshot=off').withoutSession).toBe('kernel');
  });

  it('reads a positive ?bootTimeoutMs= and ignores nonsense', () => {
    expect(at('https://example.org/?bootTimeoutMs=5000').bootTimeoutMs).toBe(5000);
    expect(at('https://example.org/?bootTimeoutMs=-1').bootTimeoutMs).toBe(10 * 60_000);
    expect(at('https://example.org/?bootTimeoutMs=soon').bootTimeoutMs).toBe(10 * 60_000);
  });
});
