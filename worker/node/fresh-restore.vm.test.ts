// The restore shortcut in v86-internals.ts (restoreIntoFreshEmulator: v86's zeroing of all guest RAM before a
// restore is cut to the part a new emulator's init wrote) against the real v86 and the image's boot snapshot:
// the assumption it rests on holds for this v86, and the RAM it leaves is byte for byte what v86's own restore
// leaves. No guest boots here: the emulators are created, restored and compared without running.
import { V86, type V86Options } from 'v86';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFirmware } from '../vm/emulator-start.ts';
import { restoreV86Options } from '../vm/snapshot/restore.ts';
import { StartPlanner } from '../vm/snapshot/start-plan.ts';
import { buildV86Options } from '../vm/v86-options.ts';
import { FRESH_RAM_WRITTEN_BYTES, restoreIntoFreshEmulator, type V86CpuRam } from '../vm/v86-internals.ts';
import type { DiskImageRef } from '../vm/assets.ts';
import { MemoryBlockFile } from '../vm/disk/block-file.ts';
import { BlockStore } from '../vm/disk/block-store.ts';
import { ImageCache } from '../vm/disk/image-cache.ts';
import { StoreDisk } from '../vm/disk/v86-disk.ts';
import { FileAssetSource } from './file-assets.ts';
import { DEFAULT_ASSET_DIR, fileImageSource, v86WasmPath } from './node-platform.ts';

const assetBase = process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR;
const emulators: V86[] = [];

afterAll(async () => {
  for (const emulator of emulators) await emulator.destroy();
});

/** Each emulator gets its own disk: a block store in memory over the image file. */
function memoryDisk(ref: DiskImageRef): StoreDisk {
  return new StoreDisk(new BlockStore({ diskBytes: ref.sizeBytes, file: new MemoryBlockFile() }), new ImageCache(fileImageSource(ref.url, ref.sizeBytes)));
}

async function bootSnapshot(): Promise<{ options: () => V86Options; state: ArrayBuffer }> {
  const source = new FileAssetSource(assetBase);
  const manifest = await source.loadManifest();
  const sessions = { planFile: () => Promise.resolve(undefined), planSaved: () => Promise.resolve('none' as const) };
  const plan = await new StartPlanner({ source, manifest, resume: { kind: 'boot-snapshot' }, sessions, notify: (notice) => expect.fail(`unexpected notice: ${notice.message}`) }).first();
  if (plan.kind !== 'restore') throw new Error(`${assetBase} has no usable boot snapshot: run \`npm run images\``);
  const [files, disk] = await Promise.all([loadFirmware(source, manifest), source.diskImage(manifest.files.rootDisk)]);
  const header = plan.header;
  const options = () => restoreV86Options(buildV86Options({ manifest, files, disk: memoryDisk(disk), memoryBytes: header.memoryBytes, wasmPath: v86WasmPath() }), header);
  return { options, state: plan.state };
}

/** A new emulator, created as VmHost creates one for a restore (autostart off), once v86 has initialised it. */
async function newEmulator(options: () => V86Options): Promise<{ emulator: V86; ram: () => Uint8Array }> {
  const emulator = new V86(options());
  emulators.push(emulator);
  await new Promise<void>((resolve) => emulator.add_listener('emulator-loaded', () => resolve()));
  const cpu = (emulator as unknown as { v86: { cpu: V86CpuRam } }).v86.cpu;
  // Read anew each time: a view of WebAssembly memory is detached when the memory grows (zstd decode does).
  return { emulator, ram: () => cpu.mem8 };
}

/** The offset of the first non-zero byte at or after `from`, or -1. */
function firstNonZero(bytes: Uint8Array, from: number): number {
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset + from, (bytes.byteLength - from) / 8);
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== 0n) return from + i * 8;
  }
  return -1;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const chunk = 64 * 1024 * 1024;
  for (let offset = 0; offset < a.byteLength; offset += chunk) {
    const left = Buffer.from(a.buffer, a.byteOffset + offset, Math.min(chunk, a.byteLength - offset));
    const right = Buffer.from(b.buffer, b.byteOffset + offset, Math.min(chunk, b.byteLength - offset));
    if (!left.equals(right)) {
      for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return offset + i;
    }
  }
  return -1;
}

describe('restoring into a fresh emulator', () => {
  it('leaves guest RAM byte-identical to v86 zeroing all of it first', { timeout: 300_000 }, async () => {
    const { options, state } = await bootSnapshot();

    const fresh = await newEmulator(options);
    // The assumption: a new emulator's RAM is zero above what init wrote (the BIOS copies below 1 MiB).
    expect(firstNonZero(fresh.ram(), FRESH_RAM_WRITTEN_BYTES)).toBe(-1);
    expect(firstNonZero(fresh.ram(), 0)).toBeGreaterThanOrEqual(0);
    await restoreIntoFreshEmulator(fresh.emulator, () => fresh.emulator.restore_state(state));

    const reference = await newEmulator(options);
    await reference.emulator.restore_state(state);

    expect(fresh.ram().byteLength).toBe(reference.ram().byteLength);
    expect(firstDifference(fresh.ram(), reference.ram())).toBe(-1);
  });
});
