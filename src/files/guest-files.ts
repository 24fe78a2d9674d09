// Copies files into and out of the guest through the guest agent (VmApi.exec on hvc1), so no guest change is
// needed: uploads go as base64 here-documents in chunks appended to a partial file that is renamed when
// complete; downloads read byte ranges with dd and come back base64-encoded (the agent caps output at 4 MiB).
import { decodeBase64, encodeBase64 } from '../../worker/shared/base64.ts';
import type { ExecResult } from '../../worker/shared/contract.ts';
import { shellQuote } from '../shell-quote.ts';

export { decodeBase64, encodeBase64 } from '../../worker/shared/base64.ts';
export { shellQuote } from '../shell-quote.ts';

/** Runs a command through the guest agent; the page's VmClient.exec fits. */
export type GuestExec = (command: string, timeoutMs: number) => Promise<ExecResult>;

/**
 * Raw bytes per upload request. The agent's bash reads each request line byte by byte (`read -r` on a tty)
 * and the line carries the chunk base64-encoded twice (here-document, then the request), so lines stay
 * around 170 KB.
 */
export const UPLOAD_CHUNK_BYTES = 96 * 1024;
/** Raw bytes per download request: 2 MiB of base64 output, half the agent's 4 MiB output cap. */
export const DOWNLOAD_CHUNK_BYTES = 1536 * 1024;
/** Per request; a chunk takes a few seconds on a loaded machine. */
const CHUNK_TIMEOUT_MS = 120_000;
const PART_SUFFIX = '.tabdock-part';

export type FileTransferErrorCode = 'guest-disk-full' | 'not-found' | 'not-a-file' | 'bad-name' | 'transfer-failed';

export class FileTransferError extends Error {
  constructor(
    readonly code: FileTransferErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'FileTransferError';
  }
}

export type TransferProgress = (doneBytes: number, totalBytes: number) => void;

/** Byte ranges covering `sizeBytes` in chunks; one empty range for an empty file, so it still gets written. */
export function chunkRanges(sizeBytes: number, chunkBytes: number): { offset: number; length: number }[] {
  if (sizeBytes === 0) return [{ offset: 0, length: 0 }];
  const ranges: { offset: number; length: number }[] = [];
  for (let offset = 0; offset < sizeBytes; offset += chunkBytes) ranges.push({ offset, length: Math.min(chunkBytes, sizeBytes - offset) });
  return ranges;
}

/** A dropped file's name as a guest file name: the last path part, or an error saying what is wrong. */
export function guestFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  if (base === '' || base === '.' || base === '..' || base.includes('\0')) {
    throw new FileTransferError('bad-name', `"${name}" cannot be used as a file name in the guest; rename the file and drop it again.`);
  }
  return base;
}

/**
 * The directory of the user's shell: the newest bash on hvc0 (a nested `bash` the user started wins), read
 * from /proc/<pid>/cwd; /root (the shell's start directory) when no shell runs there.
 */
export const WORKING_DIRECTORY_COMMAND = 'p=$(pgrep -n -t hvc0 -x bash) && readlink "/proc/$p/cwd" || echo /root';

/** Writes one chunk: `>` for the first, `>>` after it; base64 -d fails loudly (ENOSPC) when the disk is full. */
export function uploadChunkCommand(partPath: string, chunk: Uint8Array, first: boolean): string {
  return `base64 -d ${first ? '>' : '>>'} ${shellQuote(partPath)} <<'TABDOCK_EOF'\n${encodeBase64(chunk)}\nTABDOCK_EOF`;
}

/** Prints `file <bytes>`, `dir` or `missing` for a path (relative paths are taken from `directory`). */
export function statCommand(path: string, directory: string): string {
  const q = shellQuote(path);
  return `cd ${shellQuote(directory)} 2>/dev/null; if [ -d ${q} ]; then echo dir; elif [ -f ${q} ]; then echo "file $(stat -c %s ${q})"; else echo missing; fi`;
}

export function downloadChunkCommand(path: string, directory: string, offset: number, length: number): string {
  return `cd ${shellQuote(directory)} 2>/dev/null; dd if=${shellQuote(path)} iflag=skip_bytes,count_bytes skip=${offset} count=${length} bs=64K status=none | base64 -w0`;
}

function isDiskFull(output: string): boolean {
  return /No space left on device|Disk quota exceeded/i.test(output);
}

function diskFullError(fileName: string, directory: string, detail: string): FileTransferError {
  return new FileTransferError(
    'guest-disk-full',
    `The guest's disk is full, so ${fileName} was not placed in ${directory}. Free space in the guest (for example \`docker system prune\` or removing files), then drop the file again.`,
    detail,
  );
}

async function runChecked(exec: GuestExec, command: string, what: string): Promise<string> {
  const result = await exec(command, CHUNK_TIMEOUT_MS);
  if (result.exitCode !== 0) throw new FileTransferError('transfer-failed', `${what} failed in the guest (exit code ${result.exitCode}).`, result.output);
  return result.output;
}

export async function guestWorkingDirectory(exec: GuestExec): Promise<string> {
  const output = (await runChecked(exec, WORKING_DIRECTORY_COMMAND, 'Finding the shell\'s directory')).trim();
  return output.startsWith('/') ? output : '/root';
}

/** Places `bytes` as `<shell's directory>/<name>`; returns the guest path. An existing file is replaced. */
export async function uploadFile(exec: GuestExec, name: string, bytes: Uint8Array, onProgress?: TransferProgress): Promise<string> {
  const fileName = guestFileName(name);
  const directory = await guestWorkingDirectory(exec);
  const target = `${directory.replace(/\/$/, '')}/${fileName}`;
  const partPath = `${target}${PART_SUFFIX}`;
  // Refuse up front when the free space reported by df cannot hold the file (the base64 -d error is the
  // backstop: df's figure can change while the upload runs).
  const free = Number((await runChecked(exec, `df -P -B1 ${shellQuote(directory)} | awk 'NR==2 {print $4}'`, 'Checking free space')).trim());
  if (Number.isFinite(free) && free < bytes.byteLength) {
    throw diskFullError(fileName, directory, `${bytes.byteLength} bytes needed, ${free} free in ${directory}`);
  }
  onProgress?.(0, bytes.byteLength);
  let first = true;
  for (const { offset, length } of chunkRanges(bytes.byteLength, UPLOAD_CHUNK_BYTES)) {
    const result = await exec(uploadChunkCommand(partPath, bytes.subarray(offset, offset + length), first), CHUNK_TIMEOUT_MS);
    first = false;
    if (result.exitCode !== 0) {
      await exec(`rm -f ${shellQuote(partPath)}`, CHUNK_TIMEOUT_MS).catch(() => undefined);
      if (isDiskFull(result.output)) throw diskFullError(fileName, directory, result.output);
      throw new FileTransferError('transfer-failed', `Writing ${fileName} in the guest failed (exit code ${result.exitCode}); nothing was placed.`, result.output);
    }
    onProgress?.(offset + length, bytes.byteLength);
  }
  await runChecked(exec, `mv -f ${shellQuote(partPath)} ${shellQuote(target)}`, `Renaming ${fileName}`);
  return target;
}

/** Reads a guest file (absolute, or relative to the user's shell directory). */
export async function downloadFile(exec: GuestExec, path: string, onProgress?: TransferProgress): Promise<{ path: string; bytes: Uint8Array }> {
  const wanted = path.trim();
  if (wanted === '') throw new FileTransferError('bad-name', 'Type the path of a file in the guest, for example /etc/os-release.');
  const directory = await guestWorkingDirectory(exec);
  const shown = wanted.startsWith('/') ? wanted : `${directory.replace(/\/$/, '')}/${wanted}`;
  const kind = (await runChecked(exec, statCommand(wanted, directory), `Looking up ${shown}`)).trim();
  if (kind === 'missing') throw new FileTransferError('not-found', `There is no file ${shown} in the guest. Check the path (\`ls\` in the terminal) and try again.`);
  if (kind === 'dir') throw new FileTransferError('not-a-file', `${shown} is a directory; pick a file inside it, or pack it first (\`tar czf dir.tgz ${wanted}\`).`);
  const sizeBytes = Number(/^file (\d+)$/.exec(kind)?.[1] ?? NaN);
  if (!Number.isFinite(sizeBytes)) throw new FileTransferError('transfer-failed', `Could not read the size of ${shown}.`, kind);
  const bytes = new Uint8Array(sizeBytes);
  onProgress?.(0, sizeBytes);
  for (const { offset, length } of sizeBytes === 0 ? [] : chunkRanges(sizeBytes, DOWNLOAD_CHUNK_BYTES)) {
    const chunk = decodeBase64((await runChecked(exec, downloadChunkCommand(wanted, directory, offset, length), `Reading ${shown}`)).trim());
    if (chunk.byteLength !== length) {
      throw new FileTransferError('transfer-failed', `${shown} changed while it was being read (got ${chunk.byteLength} bytes at offset ${offset}, expected ${length}); try again.`);
    }
    bytes.set(chunk, offset);
    onProgress?.(offset + length, sizeBytes);
  }
  return { path: shown, bytes };
}
