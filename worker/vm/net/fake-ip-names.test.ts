import { describe, expect, it } from 'vitest';
import { FakeIpNames, ipv4ToNumber, isFakeIp, numberToIpv4 } from './fake-ip-names.ts';

const dotted = (value: number) => [...numberToIpv4(value)].join('.');

describe('fake-IP names', () => {
  it('gives each name a stable address in 198.18.0.0/15 and maps it back', () => {
    const names = new FakeIpNames();
    const a = names.addressOf('Example.com.');
    expect(dotted(a)).toBe('198.18.0.1');
    expect(names.addressOf('example.com')).toBe(a);
    const b = names.addressOf('registry-1.docker.io');
    expect(b).not.toBe(a);
    expect(names.nameOf(a)).toBe('example.com');
    expect(names.nameOf(b)).toBe('registry-1.docker.io');
    expect(isFakeIp(a) && isFakeIp(b)).toBe(true);
    expect(isFakeIp(ipv4ToNumber([192, 168, 87, 1]))).toBe(false);
    expect(isFakeIp(ipv4ToNumber([198, 20, 0, 1]))).toBe(false);
  });

  it('never hands out .0 or .255 addresses', () => {
    const names = new FakeIpNames();
    for (let i = 0; i < 600; i++) {
      const last = numberToIpv4(names.addressOf(`n${i}.test`))[3];
      expect(last === 0 || last === 255).toBe(false);
    }
  });

  it('gives the least recently used address to a new name when full', () => {
    const names = new FakeIpNames(3);
    const a = names.addressOf('a.test');
    names.addressOf('b.test');
    names.addressOf('c.test');
    names.addressOf('a.test'); // a is now the most recent
    const d = names.addressOf('d.test');
    expect(names.nameOf(d)).toBe('d.test');
    expect(names.nameOf(a)).toBe('a.test');
    expect(names.size).toBe(3);
    expect(names.addressOf('b.test')).not.toBe(d);
  });
});
