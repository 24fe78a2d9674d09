// Saved states as one zstd frame (state-zstd.ts), read back by zstd's own CLI, an independent decoder; a state
// too large for the one-shot encoder goes to gzip instead, without calling it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compressStateInNode } from '../../node/node-state-compressor.ts';
import { payloadToV86State } from './compression.ts';
import { compressState } from './state-zstd.ts';

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Zero runs (as free guest RAM is), random runs, repeated text: what a machine state mixes. */
function stateLike(bytes: number): Uint8Array {
  const state = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 64 * 1024) {
    const kind = (at / (64 * 1024)) % 3;
    const end = Math.min(at + 64 * 1024, bytes);
    if (kind === 1) state.set(randomBytes(end - at), at);
    if (kind === 2) state.set(new TextEncoder().encode('kernel page '.repeat(6000)).subarray(0, end - at), at);
  }
  return state;
}

describe('compressState', () => {
  it('makes one zstd frame (the only kind v86 restores) that zstd reads back as the whole state', async () => {
    const raw = stateLike(40 * 1024 * 1024 + 12_345);
    const expected = Buffer.from(raw);
    const { payload, compression } = await compressState(raw, compressStateInNode);
    expect(compression).toBe('zstd');
    expect(Array.from(payload.subarray(0, 4))).toEqual(ZSTD_MAGIC);
    expect(payload.byteLength).toBeLessThan(expected.byteLength);
    const decoded = execFileSync('zstd', ['-d', '-q', '-c'], { input: payload, maxBuffer: 64 * 1024 * 1024 });
    expect(decoded.equals(expected)).toBe(true);
    // One frame: nothing follows it (zstd -l counts frames; it reads only files).
    const directory = mkdtempSync(path.join(tmpdir(), 'tabdock-state-zstd-'));
    try {
      writeFileSync(path.join(directory, 'state.zst'), payload);
      expect(execFileSync('zstd', ['-l', '-v', path.join(directory, 'state.zst')]).toString()).toMatch(/# Zstandard Frames: 1\n/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('saves a state above the limit as gzip without calling the zstd encoder', async () => {
    const raw = stateLike(300_000);
    const { payload, compression } = await compressState(raw, () => Promise.reject(new Error('zstd must not be used')), 200_000);
    expect(compression).toBe('gzip');
    expect(new Uint8Array(await payloadToV86State(payload, 'gzip'))).toEqual(raw);
  });
});
