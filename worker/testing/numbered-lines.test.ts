// The host's copy of the disk tests' data must be byte for byte what coreutils' seq writes in the guest.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { numberedLinesDigest, writeNumberedLinesCommand } from './numbered-lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'numbered-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the guest's command writes, run by this machine's coreutils. */
function fromSeq(bytes: number): Buffer {
  const file = join(dir, `seq-${bytes}`);
  execFileSync('sh', ['-c', writeNumberedLinesCommand(file, bytes)]);
  return readFileSync(file);
}

describe('numbered lines', () => {
  it.each([0, 1, 10, 4097, 1_000_000, 2_000_003])('matches seq 100000001 999999999 | head -c %i', (bytes) => {
    const written = fromSeq(bytes);
    expect(written.length).toBe(bytes);
    expect(numberedLinesDigest(bytes, 'sha256')).toBe(createHash('sha256').update(written).digest('hex'));
  });

  it.each([2_000_003 - 1_048_576, 1_000_000, 1_000_007, 2_000_002])('digests the tail from byte %i the way tail -c reads it', (fromByte) => {
    const written = fromSeq(2_000_003);
    expect(numberedLinesDigest(2_000_003, 'md5', fromByte)).toBe(createHash('md5').update(written.subarray(fromByte)).digest('hex'));
  });

  it('has no two equal 4 KiB blocks, so a misplaced block changes the digest', () => {
    const bytes = 3 * 1024 ** 2;
    const data = fromSeq(bytes);
    const blocks = new Set<string>();
    for (let offset = 0; offset < bytes; offset += 4096) blocks.add(data.subarray(offset, offset + 4096).toString('latin1'));
    expect(blocks.size).toBe(bytes / 4096);
  });
});
