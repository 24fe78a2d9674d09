// File transfer commands run against a real bash, base64 and dd on this machine (the guest has the same GNU
// tools): a file round-trips byte for byte across chunk boundaries, a full disk and a missing file give their
// errors, and names are checked. Only the "which directory is the shell in" probe is answered by the fake.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecResult } from '../../worker/shared/contract.ts';
import {
  chunkRanges,
  decodeBase64,
  DOWNLOAD_CHUNK_BYTES,
  downloadFile,
  encodeBase64,
  FileTransferError,
  guestFileName,
  shellQuote,
  UPLOAD_CHUNK_BYTES,
  uploadFile,
  WORKING_DIRECTORY_COMMAND,
  type GuestExec,
} from './guest-files.ts';

let scriptCount = 0;

async function bash(command: string): Promise<ExecResult> {
  // Like the agent: the command is written to a script file that bash runs (an upload chunk is larger than
  // one argv string may be), and stdout and stderr are both returned.
  const script = path.join(tmpdir(), `tabdock-files-script-${process.pid}-${scriptCount++}.sh`);
  await writeFile(script, command);
  return new Promise((resolve) => {
    execFile('bash', [script], { maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      void rm(script, { force: true });
      resolve({ output: stdout + stderr, exitCode: error ? Number(error.code ?? 1) : 0 });
    });
  });
}

/** toEqual walks typed arrays element by element, which takes minutes for megabytes; Buffer.equals does not. */
function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength));
}

function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
  return bytes;
}

let dir: string;
let commands: string[];
let exec: GuestExec;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tabdock-files-'));
  commands = [];
  exec = (command) => {
    commands.push(command);
    return command === WORKING_DIRECTORY_COMMAND ? Promise.resolve({ output: `${dir}\n`, exitCode: 0 }) : bash(command);
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('encoding helpers', () => {
  it('round-trips every byte value through base64 and quotes any name for bash', async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(encodeBase64(all))).toEqual(all);
    const name = `it's a "name" $(x) \`y\``;
    expect((await bash(`printf %s ${shellQuote(name)}`)).output).toBe(name);
  });

  it('cuts sizes into covering chunks, one empty chunk for an empty file', () => {
    expect(chunkRanges(0, 10)).toEqual([{ offset: 0, length: 0 }]);
    expect(chunkRanges(25, 10)).toEqual([
      { offset: 0, length: 10 },
      { offset: 10, length: 10 },
      { offset: 20, length: 5 },
    ]);
  });

  it('keeps the last part of a dropped name and refuses unusable ones', () => {
    expect(guestFileName('notes.txt')).toBe('notes.txt');
    expect(guestFileName('C:\\Users\\me\\a b.txt')).toBe('a b.txt');
    expect(() => guestFileName('..')).toThrow(FileTransferError);
    expect(() => guestFileName('dir/')).toThrow(/cannot be used as a file name/);
  });
});

describe('uploadFile', () => {
  it('places a multi-chunk file byte for byte in the shell directory and reports progress', async () => {
    const bytes = patterned(2 * UPLOAD_CHUNK_BYTES + 1234);
    const progress: number[] = [];
    const placed = await uploadFile(exec, 'data.bin', bytes, (done) => progress.push(done));
    expect(placed).toBe(`${dir}/data.bin`);
    expect(sameBytes(await readFile(placed), bytes)).toBe(true);
    expect(progress).toEqual([0, UPLOAD_CHUNK_BYTES, 2 * UPLOAD_CHUNK_BYTES, bytes.length]);
    expect(commands.filter((command) => command.startsWith('base64 -d'))).toHaveLength(3);
  });

  it('writes empty files and names with quotes and spaces', async () => {
    expect(new Uint8Array(await readFile(await uploadFile(exec, 'empty', new Uint8Array(0))))).toEqual(new Uint8Array(0));
    const odd = await uploadFile(exec, "it's here.txt", new TextEncoder().encode('hello\n'));
    expect(await readFile(odd, 'utf8')).toBe('hello\n');
  });

  it('says the disk is full, before sending anything, when df reports too little space', async () => {
    const full: GuestExec = (command) => (command.startsWith('df ') ? Promise.resolve({ output: '100\n', exitCode: 0 }) : exec(command, 1000));
    const upload = uploadFile(full, 'big.bin', patterned(5000));
    await expect(upload).rejects.toMatchObject({ code: 'guest-disk-full', message: expect.stringMatching(/disk is full.*drop the file again/) });
    expect(commands.some((command) => command.startsWith('base64 -d'))).toBe(false);
  });

  it('says the disk is full when a write hits ENOSPC, and leaves no partial file', async () => {
    const enospc: GuestExec = (command) =>
      command.startsWith('base64 -d') ? Promise.resolve({ output: 'base64: write error: No space left on device\n', exitCode: 1 }) : exec(command, 1000);
    await expect(uploadFile(enospc, 'big.bin', patterned(5000))).rejects.toMatchObject({ code: 'guest-disk-full' });
    expect((await bash(`ls -A ${shellQuote(dir)}`)).output).toBe('');
  });
});

describe('downloadFile', () => {
  it('reads a multi-chunk file byte for byte, by absolute and by relative path', async () => {
    const bytes = patterned(DOWNLOAD_CHUNK_BYTES + 4321);
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'out.bin'), bytes);
    const progress: number[] = [];
    const relative = await downloadFile(exec, 'sub/out.bin', (done) => progress.push(done));
    expect(relative.path).toBe(`${dir}/sub/out.bin`);
    expect(sameBytes(relative.bytes, bytes)).toBe(true);
    expect(progress).toEqual([0, DOWNLOAD_CHUNK_BYTES, bytes.length]);
    expect(sameBytes((await downloadFile(exec, `${dir}/sub/out.bin`)).bytes, bytes)).toBe(true);
  });

  it('gives clear errors for a missing file, a directory and an empty path', async () => {
    await expect(downloadFile(exec, 'nope.txt')).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining(`There is no file ${dir}/nope.txt`) });
    await expect(downloadFile(exec, dir)).rejects.toMatchObject({ code: 'not-a-file' });
    await expect(downloadFile(exec, '  ')).rejects.toMatchObject({ code: 'bad-name' });
  });

  it('reads an empty file', async () => {
    await writeFile(path.join(dir, 'empty'), '');
    expect((await downloadFile(exec, 'empty')).bytes).toEqual(new Uint8Array(0));
  });
});
