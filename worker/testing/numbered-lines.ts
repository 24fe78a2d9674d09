// Test data for the disk tests that write hundreds of MiB in the guest: `seq 100000001 999999999 | head -c BYTES`,
// the numbers 100000001, 100000002, ... one per 10-byte line (nine digits without -w, which keeps seq on its
// integer fast path: -w took 13 times as long). Every 4 KiB block of it differs from every other (a
// lost, stale, shifted or swapped block changes the digest), and the host computes the same bytes' digest
// itself, so the guest hashes the file only once, where the test checks it (with /dev/urandom it had to hash
// it while writing too). In the guest seq writes 100 MiB in about 10 s, /dev/urandom in about 8 s.
import { createHash } from 'node:crypto';

/** The guest command that writes the first `bytes` bytes of the sequence to `path` (no pipefail: head ends seq). */
export function writeNumberedLinesCommand(path: string, bytes: number): string {
  return `seq ${FIRST_NUMBER} 999999999 | head -c ${bytes} > ${path}`;
}

const FIRST_NUMBER = 100_000_001;
const LINE_BYTES = 10;
const LINES_PER_CHUNK = 100_000;

/**
 * The same bytes from `fromByte` up to `bytes`, generated on the host in chunks of up to 1 MB. A tail starts at
 * its own line, so it costs what it yields, not the bytes before it. Each chunk is overwritten by the next.
 */
export function* numberedLines(bytes: number, fromByte = 0): Generator<Uint8Array> {
  const firstLine = Math.floor(fromByte / LINE_BYTES);
  // The number before the first line yielded, counted up before each line is written.
  const line = new TextEncoder().encode(`${FIRST_NUMBER - 1 + firstLine}\n`);
  const chunk = new Uint8Array(LINE_BYTES * LINES_PER_CHUNK);
  let skip = fromByte - firstLine * LINE_BYTES;
  let left = bytes - fromByte;
  while (left > 0) {
    for (let i = 0; i < LINES_PER_CHUNK; i++) {
      // Count up in decimal, in place: the last digit first, carrying leftwards.
      let digit = LINE_BYTES - 2;
      while (line[digit] === 0x39) line[digit--] = 0x30;
      line[digit]! += 1;
      chunk.set(line, i * LINE_BYTES);
    }
    const take = Math.min(left, chunk.length - skip);
    yield chunk.subarray(skip, skip + take);
    skip = 0;
    left -= take;
  }
}

/**
 * Hex digest ('md5', 'sha256', ... as node:crypto names them) of the sequence's bytes from `fromByte` up to
 * `bytes`: the whole file, or its tail as `tail -c` reads it.
 */
export function numberedLinesDigest(bytes: number, algorithm: string, fromByte = 0): string {
  const hash = createHash(algorithm);
  for (const chunk of numberedLines(bytes, fromByte)) hash.update(chunk);
  return hash.digest('hex');
}
