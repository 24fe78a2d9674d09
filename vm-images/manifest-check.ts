// Checks a built guest folder (public/vm/) against its manifest.json: every file exists with the recorded
// size and sha256, and its name carries the first 8 hex digits of that hash. Used by the unit test and as
// a CLI: `npx tsx vm-images/manifest-check.ts public/vm`.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_FILE_ROLES = ['bios', 'vgaBios', 'kernel', 'initrd', 'rootDisk'] as const;
export type ManifestFileRole = (typeof MANIFEST_FILE_ROLES)[number];

export interface ManifestFileEntry {
  file: string;
  bytes: number;
  sha256: string;
}

export interface GuestManifest {
  formatVersion: 1;
  buildId: string;
  createdAt: string;
  recommendedMemoryBytes: number;
  cmdline: string;
  files: Record<ManifestFileRole, ManifestFileEntry>;
  versions: Record<string, string>;
}

export type ManifestProblem =
  | { code: 'manifest-unreadable'; message: string }
  | { code: 'manifest-field'; field: string; message: string }
  | { code: 'file-missing'; role: ManifestFileRole; message: string }
  | { code: 'file-size'; role: ManifestFileRole; message: string }
  | { code: 'file-hash'; role: ManifestFileRole; message: string }
  | { code: 'file-name'; role: ManifestFileRole; message: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Shape checks only; returns the problems found (empty when the manifest is well formed). */
export function checkManifestShape(value: unknown): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const field = (name: string, message: string) => problems.push({ code: 'manifest-field', field: name, message });
  if (!isRecord(value)) return [{ code: 'manifest-field', field: '', message: 'manifest.json is not a JSON object; rebuild with npm run images.' }];
  if (value.formatVersion !== 1) field('formatVersion', 'formatVersion must be 1; this checker knows no other format.');
  if (typeof value.buildId !== 'string' || !SHA256_HEX.test(value.buildId)) field('buildId', 'buildId must be a sha256 hex string.');
  if (typeof value.createdAt !== 'string' || Number.isNaN(Date.parse(value.createdAt))) field('createdAt', 'createdAt must be an ISO date.');
  if (typeof value.recommendedMemoryBytes !== 'number' || value.recommendedMemoryBytes < 64 * 1024 * 1024)
    field('recommendedMemoryBytes', 'recommendedMemoryBytes must be a number of bytes (at least 64 MiB).');
  if (typeof value.cmdline !== 'string' || !value.cmdline.includes('console=ttyS0')) field('cmdline', 'cmdline must be the kernel command line with console=ttyS0.');
  if (!isRecord(value.versions)) field('versions', 'versions must map package names to versions.');
  const files = value.files;
  if (!isRecord(files)) {
    field('files', 'files must map bios, vgaBios, kernel, initrd and rootDisk to file entries.');
    return problems;
  }
  for (const role of MANIFEST_FILE_ROLES) {
    const entry = files[role];
    if (!isRecord(entry) || typeof entry.file !== 'string' || typeof entry.bytes !== 'number' || typeof entry.sha256 !== 'string' || !SHA256_HEX.test(entry.sha256)) {
      field(`files.${role}`, `files.${role} must be {file, bytes, sha256}.`);
    }
  }
  return problems;
}

/** Reads DIR/manifest.json and verifies every file it names. Hashes whole files (the disk is 8 GiB sparse). */
export async function checkGuestFolder(dir: string): Promise<ManifestProblem[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch (error) {
    return [{ code: 'manifest-unreadable', message: `Cannot read ${join(dir, 'manifest.json')} (${String(error)}); run npm run images.` }];
  }
  const problems = checkManifestShape(parsed);
  if (problems.length > 0) return problems;
  const manifest = parsed as GuestManifest;
  for (const role of MANIFEST_FILE_ROLES) {
    const entry = manifest.files[role];
    const path = join(dir, entry.file);
    let sizeBytes: number;
    try {
      sizeBytes = (await stat(path)).size;
    } catch (error) {
      problems.push({ code: 'file-missing', role, message: `${entry.file} (${role}) is missing from ${dir} (${String(error)}); rebuild with npm run images.` });
      continue;
    }
    if (sizeBytes !== entry.bytes) {
      problems.push({ code: 'file-size', role, message: `${entry.file} has ${sizeBytes} bytes, the manifest says ${entry.bytes}; rebuild.` });
    }
    const actual = await sha256File(path);
    if (actual !== entry.sha256) {
      problems.push({ code: 'file-hash', role, message: `${entry.file} hashes to ${actual}, the manifest says ${entry.sha256}; rebuild.` });
    }
    if (!entry.file.includes(`.${entry.sha256.slice(0, 8)}.`)) {
      problems.push({ code: 'file-name', role, message: `${entry.file} does not carry its hash prefix ${entry.sha256.slice(0, 8)}; caches could serve stale content.` });
    }
  }
  return problems;
}

if (process.argv[1]?.endsWith('manifest-check.ts')) {
  const dir = process.argv[2] ?? 'public/vm';
  const problems = await checkGuestFolder(dir);
  for (const problem of problems) console.error(`${problem.code}: ${problem.message}`);
  console.log(problems.length === 0 ? `${dir}: manifest and files agree` : `${dir}: ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
