// The tabdock state file: one wrapper for the build's boot snapshot and for a user's saved session. A small
// JSON header (which image build the state belongs to, RAM size, compression, payload sha256) in front of a
// v86 save_state() payload, so a wrong, truncated or damaged file is caught before v86 ever sees it.
import { z } from 'zod';
import { sha256HexOf } from '../assets.ts';

/** "TDSTATE" + format byte 1; the header length (u32 little-endian) follows, then the header JSON, then the payload. */
export const STATE_FILE_MAGIC = new Uint8Array([0x54, 0x44, 0x53, 0x54, 0x41, 0x54, 0x45, 0x01]);
const PREFIX_BYTES = STATE_FILE_MAGIC.length + 4;
/** A header is a few hundred bytes; a bigger length field means a damaged or foreign file. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * zstd: the boot snapshot (made at build time by the `zstd` CLI) and sessions saved in the browser (zstd-wasm,
 * state-zstd.ts); v86's restore_state() decompresses zstd itself, in its wasm, streaming (src/state.js checks
 * the zstd magic), so the browser needs no decoder library.
 * gzip: sessions saved before zstd, and states too large for the one-shot zstd encoder (CompressionStream).
 */
export type StateCompression = 'zstd' | 'gzip' | 'none';
export type StateKind = 'boot-snapshot' | 'session';

export const stateHeaderSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.enum(['boot-snapshot', 'session']),
  /** manifest.json's buildId of the image the state was taken on. */
  buildId: z.string().min(1),
  /** The root disk the state's written blocks sit on top of. */
  rootDiskSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** v86 needs the same memory_size to restore. */
  memoryBytes: z.number().int().positive(),
  createdAt: z.string(),
  compression: z.enum(['zstd', 'gzip', 'none']),
  payloadBytes: z.number().int().nonnegative(),
  payloadSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Size of the v86 state before compression. */
  rawBytes: z.number().int().nonnegative(),
  /**
   * Boot snapshot: the welcome text the guest printed on its console before the first prompt. The terminal
   * that saw it is gone when the snapshot is resumed, so the host shows it again, before a fresh prompt.
   */
  welcome: z.string().max(8192).optional(),
});

export type StateHeader = z.infer<typeof stateHeaderSchema>;

/** What the state must match to be restorable over the current image. */
export interface ImageIdentity {
  buildId: string;
  rootDiskSha256: string;
}

export type StateProblemCode =
  | 'not-a-state-file'
  | 'header-invalid'
  | 'truncated'
  | 'checksum-mismatch'
  | 'other-build';

export interface StateProblem {
  code: StateProblemCode;
  /** A sentence for the user: what is wrong with the file. */
  message: string;
  detail: string;
}

export type StateFileCheck =
  | { ok: true; header: StateHeader; payload: Uint8Array }
  | { ok: false; problem: StateProblem };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Wraps a (compressed) v86 state payload; the header's payload fields are computed here. */
export async function encodeStateFile(
  meta: Omit<StateHeader, 'formatVersion' | 'payloadBytes' | 'payloadSha256'>,
  payload: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const header: StateHeader = {
    formatVersion: 1,
    ...meta,
    payloadBytes: payload.byteLength,
    payloadSha256: await sha256HexOf(payload),
  };
  const headerBytes = textEncoder.encode(JSON.stringify(header));
  const file = new Uint8Array(PREFIX_BYTES + headerBytes.byteLength + payload.byteLength);
  file.set(STATE_FILE_MAGIC, 0);
  new DataView(file.buffer).setUint32(STATE_FILE_MAGIC.length, headerBytes.byteLength, true);
  file.set(headerBytes, PREFIX_BYTES);
  file.set(payload, PREFIX_BYTES + headerBytes.byteLength);
  return file;
}

/** Reads only the header (cheap: no hashing), e.g. to show what a saved session is. */
export function readStateHeader(file: Uint8Array): { ok: true; header: StateHeader; payloadOffset: number } | { ok: false; problem: StateProblem } {
  if (file.byteLength < PREFIX_BYTES || !STATE_FILE_MAGIC.every((byte, i) => file[i] === byte)) {
    return problem('not-a-state-file', 'This is not a tabdock state file (its first bytes are wrong).', `${file.byteLength} bytes`);
  }
  const headerBytes = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(STATE_FILE_MAGIC.length, true);
  if (headerBytes > MAX_HEADER_BYTES) {
    return problem('header-invalid', 'The state file is damaged: its header length is impossible.', `header length ${headerBytes}`);
  }
  if (file.byteLength < PREFIX_BYTES + headerBytes) {
    return problem('truncated', 'The state file is cut short: it ends inside its header.', `${file.byteLength} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(textDecoder.decode(file.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)));
  } catch (error) {
    return problem('header-invalid', 'The state file is damaged: its header is not readable.', String(error));
  }
  const parsed = stateHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return problem('header-invalid', 'The state file was written by an incompatible version of tabdock, or is damaged.', issues.join('\n'));
  }
  return { ok: true, header: parsed.data, payloadOffset: PREFIX_BYTES + headerBytes };
}

export interface StateFileCheckOptions {
  /**
   * The caller already checked the whole file against a sha256 it trusts (the boot snapshot's manifest
   * entry), so the payload's own sha256 is not computed again: 37 MB less to hash before a restore.
   */
  wholeFileVerified?: boolean;
}

/** Full check: header, length, sha256 of the payload, and that it belongs to this image build. */
export async function checkStateFile(file: Uint8Array, image: ImageIdentity, options: StateFileCheckOptions = {}): Promise<StateFileCheck> {
  const read = readStateHeader(file);
  if (!read.ok) return read;
  const { header, payloadOffset } = read;
  const availableBytes = file.byteLength - payloadOffset;
  if (availableBytes < header.payloadBytes) {
    return problem(
      'truncated',
      `The state file is cut short (${availableBytes} of ${header.payloadBytes} bytes): an interrupted download or save.`,
      `file ${file.byteLength} bytes, header says payload ${header.payloadBytes} at ${payloadOffset}`,
    );
  }
  if (availableBytes > header.payloadBytes) {
    return problem('header-invalid', 'The state file has extra bytes after its data: it is damaged.', `${availableBytes - header.payloadBytes} extra bytes`);
  }
  const payload = file.subarray(payloadOffset);
  const actualSha256 = options.wholeFileVerified ? header.payloadSha256 : await sha256HexOf(payload);
  if (actualSha256 !== header.payloadSha256) {
    return problem('checksum-mismatch', 'The state file is damaged: its checksum does not match its contents.', `sha256 ${actualSha256}, header says ${header.payloadSha256}`);
  }
  if (header.buildId !== image.buildId || header.rootDiskSha256 !== image.rootDiskSha256) {
    return problem(
      'other-build',
      'The state was saved on a different build of the VM image, so it cannot be resumed on this one.',
      `state: build ${header.buildId}, disk ${header.rootDiskSha256}; image: build ${image.buildId}, disk ${image.rootDiskSha256}`,
    );
  }
  return { ok: true, header, payload };
}

function problem(code: StateProblemCode, message: string, detail: string): { ok: false; problem: StateProblem } {
  return { ok: false, problem: { code, message, detail } };
}
