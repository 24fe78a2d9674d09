import { describe, expect, it } from 'vitest';
import { formatBytes, formatMemory, formatSeconds } from './format.ts';

describe('format', () => {
  it('formats byte counts in decimal units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_345)).toBe('12.3 kB');
    expect(formatBytes(45_600_000)).toBe('45.6 MB');
    expect(formatBytes(2_100_000_000)).toBe('2.10 GB');
  });
  it('formats memory in binary units', () => {
    expect(formatMemory(1024 * 1024 * 1024)).toBe('1024 MiB');
    expect(formatMemory(1.5 * 1024 * 1024)).toBe('1.5 MiB');
  });
  it('formats durations in seconds', () => {
    expect(formatSeconds(61_234)).toBe('61.2 s');
  });
});
