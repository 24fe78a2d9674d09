// The state file wrapper: damaged, truncated, foreign and stale states are caught before v86 sees them (what a
// boot does with one that is caught: start-plan.test.ts).
import { describe, expect, it } from 'vitest';
import { gzip, payloadToV86State } from './compression.ts';
import { checkStateFile, encodeStateFile, readStateHeader, type StateHeader } from './state-file.ts';

const DISK_SHA = 'a'.repeat(64);
const image = { buildId: 'build-1', rootDiskSha256: DISK_SHA };
const meta: Omit<StateHeader, 'formatVersion' | 'payloadBytes' | 'payloadSha256'> = {
  kind: 'session',
  buildId: 'build-1',
  rootDiskSha256: DISK_SHA,
  memoryBytes: 512 * 1024 * 1024,
  createdAt: '2026-11-23T12:00:00.000Z',
  compression: 'none',
  rawBytes: 4096,
};

function payloadOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

describe('state file', () => {
  it('round-trips header and payload', async () => {
    const payload = payloadOf(4096);
    const check = await checkStateFile(await encodeStateFile(meta, payload), image);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.header).toMatchObject({ ...meta, formatVersion: 1, payloadBytes: 4096 });
    expect(check.payload).toEqual(payload);
  });

  it('rejects bytes that are not a state file', async () => {
    const check = await checkStateFile(new TextEncoder().encode('<!doctype html><p>not found</p>'), image);
    expect(check).toMatchObject({ ok: false, problem: { code: 'not-a-state-file' } });
    expect(await checkStateFile(new Uint8Array(0), image)).toMatchObject({ ok: false, problem: { code: 'not-a-state-file' } });
  });

  it('detects a truncated file, inside the payload and inside the header', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    expect(await checkStateFile(file.subarray(0, file.length - 1), image)).toMatchObject({ ok: false, problem: { code: 'truncated' } });
    expect(await checkStateFile(file.subarray(0, 20), image)).toMatchObject({ ok: false, problem: { code: 'truncated' } });
  });

  it('detects a flipped byte in the payload with the checksum', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    file[file.length - 100]! ^= 0x01;
    const check = await checkStateFile(file, image);
    expect(check).toMatchObject({ ok: false, problem: { code: 'checksum-mismatch' } });
  });

  it('skips only the payload hash when the caller verified the whole file, and still checks length and build', async () => {
    const file = await encodeStateFile(meta, payloadOf(4096));
    file[file.length - 100]! ^= 0x01;
    expect(await checkStateFile(file, image, { wholeFileVerified: true })).toMatchObject({ ok: true });
    expect(await checkStateFile(file.subarray(0, file.length - 1), image, { wholeFileVerified: true })).toMatchObject({ ok: false, problem: { code: 'truncated' } });
    expect(await checkStateFile(file, { ...image, buildId: 'build-2' }, { wholeFileVerified: true })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
  });

  it('detects appended bytes and a damaged header', async () => {
    const file = await encodeStateFile(meta, payloadOf(64));
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    expect(await checkStateFile(longer, image)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
    const badHeader = file.slice();
    badHeader[14] = 0x7b ^ 0xff; // the header JSON's first byte
    expect(await checkStateFile(badHeader, image)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
    const hugeLength = file.slice();
    new DataView(hugeLength.buffer).setUint32(8, 0x7fffffff, true);
    expect(readStateHeader(hugeLength)).toMatchObject({ ok: false, problem: { code: 'header-invalid' } });
  });

  it('refuses a state from another image build or disk', async () => {
    const file = await encodeStateFile(meta, payloadOf(64));
    expect(await checkStateFile(file, { ...image, buildId: 'build-2' })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
    expect(await checkStateFile(file, { ...image, rootDiskSha256: 'b'.repeat(64) })).toMatchObject({ ok: false, problem: { code: 'other-build' } });
  });

  it('gives v86 the raw state back from a gzip payload', async () => {
    const raw = payloadOf(100_000);
    const compressed = await gzip(raw);
    expect(compressed.length).toBeLessThan(raw.length);
    expect(new Uint8Array(await payloadToV86State(compressed, 'gzip'))).toEqual(raw);
    // A payload inside a bigger file comes out as its own exactly-sized buffer.
    const inFile = new Uint8Array(10 + raw.length);
    inFile.set(raw, 10);
    expect((await payloadToV86State(inFile.subarray(10), 'zstd')).byteLength).toBe(raw.length);
  });
});
