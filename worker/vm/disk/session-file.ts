// The session file, format 2: the machine state plus the disk's written blocks, written and read as a stream.
// "TDSTATE\x02", u32 LE header length, header JSON, the compressed v86 state (payload: zstd since saves left
// gzip, gzip in sessions saved before; state-zstd.ts), the block index, then, in a
// standalone file (Download, Open), the blocks themselves in index order. A session kept in the browser
// leaves the blocks in its folder's block store instead ("folder"), so a save writes only state and index.
// Every part is checked (sha256 of payload and index, of each 1 MiB of blocks) before it is used.
import { z } from 'zod';
import { sha256HexOf } from '../assets.ts';
import { decodeIndex, encodeIndex, IndexDamaged, STORE_BLOCK_BYTES, type CommittedIndex } from './block-index.ts';
import type { ImageIdentity, StateProblem, StateProblemCode } from '../snapshot/state-file.ts';

export const SESSION_FILE_MAGIC = new Uint8Array([0x54, 0x44, 0x53, 0x54, 0x41, 0x54, 0x45, 0x02]);
const PREFIX_BYTES = SESSION_FILE_MAGIC.length + 4;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Blocks are hashed per chunk so a reader checks them as they stream by. */
export const BLOCK_CHUNK_BYTES = 1024 * 1024;
const BLOCKS_PER_CHUNK = BLOCK_CHUNK_BYTES / STORE_BLOCK_BYTES;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const sessionHeaderSchema = z.object({
  formatVersion: z.literal(2),
  kind: z.literal('session'),
  buildId: z.string().min(1),
  rootDiskSha256: sha256,
  memoryBytes: z.number().int().positive(),
  createdAt: z.string(),
  compression: z.enum(['zstd', 'gzip']),
  payloadBytes: z.number().int().nonnegative(),
  payloadSha256: sha256,
  rawBytes: z.number().int().nonnegative(),
  disk: z.object({
    diskBytes: z.number().int().positive(),
    blockBytes: z.literal(STORE_BLOCK_BYTES),
    blockCount: z.number().int().nonnegative(),
    indexBytes: z.number().int().positive(),
    indexSha256: sha256,
    /** folder: the blocks are in the session folder's block store; inline: they follow the index. */
    blocks: z.enum(['folder', 'inline']),
    /** inline only: sha256 of each BLOCK_CHUNK_BYTES of block data. */
    chunkSha256: z.array(sha256).optional(),
  }),
});

export type SessionHeader = z.infer<typeof sessionHeaderSchema>;
export type SessionMeta = Omit<SessionHeader, 'formatVersion' | 'kind' | 'payloadBytes' | 'payloadSha256' | 'disk'>;

export function isSessionFile(head: Uint8Array): boolean {
  return head.byteLength >= SESSION_FILE_MAGIC.length && SESSION_FILE_MAGIC.every((byte, i) => head[i] === byte);
}

/** Reads slot data for an inline export: 4 KiB per slot into `into`. */
export type SlotReader = (slot: number, into: Uint8Array) => void;

export interface SessionWriteInput {
  meta: SessionMeta;
  diskBytes: number;
  /** The v86 state, compressed as meta.compression says. */
  payload: Uint8Array;
  index: CommittedIndex;
  /** Given: a standalone file with the blocks inline, read through it (twice: hashes first, then data). */
  readSlot?: SlotReader;
}

/** The parts of a session file, in order, for DiskFolder.writeAtomic; the blocks are read as they are written. */
export async function* sessionFileParts(input: SessionWriteInput): AsyncGenerator<Uint8Array> {
  const { index, readSlot } = input;
  const inline = readSlot !== undefined;
  // An inline file refers to blocks by position: slot i is the i-th block that follows the index.
  const fileIndex: CommittedIndex = inline ? { ...index, slots: Uint32Array.from(index.blocks, (_, i) => i) } : index;
  const indexBytes = encodeIndex(fileIndex);
  const chunkSha256 = inline ? await blockChunkHashes(index, readSlot) : undefined;
  const header: SessionHeader = {
    formatVersion: 2,
    kind: 'session',
    ...input.meta,
    payloadBytes: input.payload.byteLength,
    payloadSha256: await sha256HexOf(input.payload),
    disk: {
      diskBytes: input.diskBytes,
      blockBytes: STORE_BLOCK_BYTES,
      blockCount: index.blocks.length,
      indexBytes: indexBytes.byteLength,
      indexSha256: await sha256HexOf(indexBytes),
      blocks: inline ? 'inline' : 'folder',
      ...(chunkSha256 ? { chunkSha256 } : {}),
    },
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(PREFIX_BYTES);
  prefix.set(SESSION_FILE_MAGIC);
  new DataView(prefix.buffer).setUint32(SESSION_FILE_MAGIC.length, headerBytes.byteLength, true);
  yield prefix;
  yield headerBytes;
  yield input.payload;
  yield indexBytes;
  if (readSlot) for (const chunk of blockChunks(index, readSlot)) yield chunk;
}

function* blockChunks(index: CommittedIndex, readSlot: SlotReader): Generator<Uint8Array> {
  for (let first = 0; first < index.slots.length; first += BLOCKS_PER_CHUNK) {
    const count = Math.min(BLOCKS_PER_CHUNK, index.slots.length - first);
    const chunk = new Uint8Array(count * STORE_BLOCK_BYTES);
    for (let i = 0; i < count; i++) readSlot(index.slots[first + i] ?? 0, chunk.subarray(i * STORE_BLOCK_BYTES, (i + 1) * STORE_BLOCK_BYTES));
    yield chunk;
  }
}

async function blockChunkHashes(index: CommittedIndex, readSlot: SlotReader): Promise<string[]> {
  const hashes: string[] = [];
  for (const chunk of blockChunks(index, readSlot)) hashes.push(await sha256HexOf(chunk));
  return hashes;
}

/** A session file whose header, payload and index checked out; inline blocks are checked as they are read. */
export interface OpenedSession {
  header: SessionHeader;
  payload: Uint8Array;
  index: CommittedIndex;
  /** Inline files: the blocks, in index order, each chunk verified; throws SessionDamaged on a bad chunk. */
  blocks(): AsyncGenerator<{ first: number; data: Uint8Array }>;
}

export class SessionDamaged extends Error {
  constructor(readonly problem: StateProblem) {
    super(problem.message);
    this.name = 'SessionDamaged';
  }
}

function damaged(code: StateProblemCode, message: string, detail: string): SessionDamaged {
  return new SessionDamaged({ code, message, detail });
}

async function bytesOf(file: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

/** Reads only the header (for listings and to decide how to open a file). */
export async function readSessionHeader(file: Blob): Promise<{ header: SessionHeader; payloadOffset: number }> {
  const prefix = await bytesOf(file, 0, PREFIX_BYTES);
  if (!isSessionFile(prefix) || prefix.byteLength < PREFIX_BYTES) throw damaged('not-a-state-file', 'This is not a tabdock session file (its first bytes are wrong).', `${file.size} bytes`);
  const headerLength = new DataView(prefix.buffer).getUint32(SESSION_FILE_MAGIC.length, true);
  if (headerLength > MAX_HEADER_BYTES) throw damaged('header-invalid', 'The session file is damaged: its header length is impossible.', `header length ${headerLength}`);
  if (file.size < PREFIX_BYTES + headerLength) throw damaged('truncated', 'The session file is cut short: it ends inside its header.', `${file.size} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await bytesOf(file, PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (error) {
    throw damaged('header-invalid', 'The session file is damaged: its header is not readable.', String(error));
  }
  const parsed = sessionHeaderSchema.safeParse(json);
  if (!parsed.success) {
    throw damaged('header-invalid', 'The session file was written by an incompatible version of tabdock, or is damaged.', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'));
  }
  return { header: parsed.data, payloadOffset: PREFIX_BYTES + headerLength };
}

/** Checks a session file against the image and returns its parts; throws SessionDamaged with a sentence. */
export async function openSessionFile(file: Blob, image: ImageIdentity & { diskBytes: number }): Promise<OpenedSession> {
  const { header, payloadOffset } = await readSessionHeader(file);
  const indexOffset = payloadOffset + header.payloadBytes;
  const blocksOffset = indexOffset + header.disk.indexBytes;
  const inlineBytes = header.disk.blocks === 'inline' ? header.disk.blockCount * STORE_BLOCK_BYTES : 0;
  const expectedBytes = blocksOffset + inlineBytes;
  if (file.size < expectedBytes) {
    throw damaged('truncated', `The session file is cut short (${file.size} of ${expectedBytes} bytes): an interrupted download or save.`, `header says ${expectedBytes} bytes`);
  }
  if (file.size > expectedBytes) throw damaged('header-invalid', 'The session file has extra bytes after its data: it is damaged.', `${file.size - expectedBytes} extra bytes`);
  if (header.buildId !== image.buildId || header.rootDiskSha256 !== image.rootDiskSha256 || header.disk.diskBytes !== image.diskBytes) {
    throw damaged(
      'other-build',
      'The session was saved on a different build of the VM image, so it cannot be resumed on this one.',
      `session: build ${header.buildId}, disk ${header.rootDiskSha256} (${header.disk.diskBytes} bytes); image: build ${image.buildId}, disk ${image.rootDiskSha256} (${image.diskBytes} bytes)`,
    );
  }
  const payload = await bytesOf(file, payloadOffset, indexOffset);
  const payloadSha256 = await sha256HexOf(payload);
  if (payloadSha256 !== header.payloadSha256) throw damaged('checksum-mismatch', 'The session file is damaged: the machine state does not match its checksum.', `sha256 ${payloadSha256}, header says ${header.payloadSha256}`);
  const indexBytes = await bytesOf(file, indexOffset, blocksOffset);
  const indexSha256 = await sha256HexOf(indexBytes);
  if (indexSha256 !== header.disk.indexSha256) throw damaged('checksum-mismatch', 'The session file is damaged: the disk index does not match its checksum.', `sha256 ${indexSha256}`);
  let index: CommittedIndex;
  try {
    index = decodeIndex(indexBytes, Math.ceil(header.disk.diskBytes / STORE_BLOCK_BYTES));
  } catch (error) {
    if (error instanceof IndexDamaged) throw damaged('header-invalid', 'The session file is damaged: its disk index is not valid.', error.message);
    throw error;
  }
  if (index.blocks.length !== header.disk.blockCount) throw damaged('header-invalid', 'The session file is damaged: the disk index and header disagree.', `${index.blocks.length} vs ${header.disk.blockCount} blocks`);
  const chunkHashes = header.disk.chunkSha256 ?? [];
  if (header.disk.blocks === 'inline' && chunkHashes.length !== Math.ceil(header.disk.blockCount / BLOCKS_PER_CHUNK)) {
    throw damaged('header-invalid', 'The session file is damaged: its block checksums are missing.', `${chunkHashes.length} chunk checksums`);
  }
  return {
    header,
    payload,
    index,
    async *blocks() {
      if (header.disk.blocks !== 'inline') return;
      for (let chunk = 0; chunk < chunkHashes.length; chunk++) {
        const start = blocksOffset + chunk * BLOCK_CHUNK_BYTES;
        const data = await bytesOf(file, start, Math.min(start + BLOCK_CHUNK_BYTES, blocksOffset + inlineBytes));
        const actual = await sha256HexOf(data);
        if (actual !== chunkHashes[chunk]) {
          throw damaged('checksum-mismatch', `The session file is damaged: disk data at ${chunk} MiB does not match its checksum.`, `chunk ${chunk}: sha256 ${actual}`);
        }
        yield { first: chunk * BLOCKS_PER_CHUNK, data };
      }
    },
  };
}
