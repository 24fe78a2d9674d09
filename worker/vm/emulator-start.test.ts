// Making an emulator, against a fake V86 and a fake image: a cold boot loads all four boot files with progress, a
// restore only the firmware and gets the restore options, the owner hears of 'emulator-loaded' once the settings
// are applied, and a discarded emulator is destroyed and heard of no more.
import type { V86, V86Options } from 'v86';
import { describe, expect, it } from 'vitest';
import type { AssetFile, AssetSource, Manifest } from './assets.ts';
import type { StoreDisk } from './disk/v86-disk.ts';
import { DEFAULT_TUNING, EmulatorStart } from './emulator-start.ts';
import type { StartPlan } from './snapshot/start-plan.ts';
import type { StateHeader } from './snapshot/state-file.ts';

const file = (name: string, bytes: number): AssetFile => ({ file: name, bytes, sha256: '0'.repeat(64) });
const manifest: Manifest = {
  formatVersion: 1,
  buildId: 'build-1',
  createdAt: '2026-01-01T00:00:00Z',
  recommendedMemoryBytes: 512 * 1024 * 1024,
  cmdline: 'console=ttyS0',
  files: { bios: file('bios.bin', 10), vgaBios: file('vga.bin', 20), kernel: file('vmlinuz', 30), initrd: file('initrd', 40), rootDisk: file('root.ext4', 4096) },
};

function fakeSource(): AssetSource & { loaded: string[] } {
  const loaded: string[] = [];
  return {
    location: 'fake',
    loaded,
    loadManifest: () => Promise.resolve(manifest),
    async loadFile(entry, onProgress) {
      loaded.push(entry.file);
      onProgress?.(entry.bytes / 2, entry.bytes);
      return new ArrayBuffer(entry.bytes);
    },
    diskImage: (entry) => Promise.resolve({ url: entry.file, sizeBytes: entry.bytes }),
  };
}

class FakeEmulator {
  readonly listeners = new Map<string, Array<() => void>>();
  destroyed = false;
  constructor(readonly options: V86Options) {}
  add_listener(event: string, listener: () => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  fire(event: string): void {
    for (const listener of this.listeners.get(event) ?? []) listener();
  }
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
}

function start(platform: { wasmBytes?: () => Promise<ArrayBuffer> } = {}) {
  const made: FakeEmulator[] = [];
  const downloads: Array<[number, number]> = [];
  const loaded: V86[] = [];
  const createEmulator = (options: V86Options) => {
    const emulator = new FakeEmulator(options);
    made.push(emulator);
    return emulator as unknown as V86;
  };
  const emulators = new EmulatorStart(
    { wasmPath: '/v86.wasm', v86Options: { log_level: 1 as V86Options['log_level'] }, createEmulator, ...platform },
    { download: (loadedBytes, totalBytes) => downloads.push([loadedBytes, totalBytes]), loaded: (emulator) => loaded.push(emulator) },
  );
  return { emulators, made, downloads, loaded };
}

const coldBoot: StartPlan = { kind: 'cold-boot' };
const restore: StartPlan = { kind: 'restore', from: 'boot-snapshot', header: { memoryBytes: 256 * 1024 * 1024 } as StateHeader, state: new ArrayBuffer(8) };
const disk = {} as StoreDisk;

describe('EmulatorStart', () => {
  it('loads all four boot files for a cold boot, reporting progress over their total', async () => {
    const { emulators, downloads } = start();
    const source = fakeSource();
    const files = await emulators.files(source, manifest, coldBoot);
    expect(source.loaded.sort()).toEqual(['bios.bin', 'initrd', 'vga.bin', 'vmlinuz']);
    expect(files.kernel.byteLength).toBe(30);
    expect(downloads.at(-1)).toEqual([100, 100]);
    expect(downloads.every(([, total]) => total === 100)).toBe(true);
  });

  it('loads only the firmware for a restore', async () => {
    const { emulators, downloads } = start();
    const source = fakeSource();
    const files = await emulators.files(source, manifest, restore);
    expect(source.loaded.sort()).toEqual(['bios.bin', 'vga.bin']);
    expect(files.kernel.byteLength + files.initrd.byteLength).toBe(0);
    expect(downloads).toEqual([]);
  });

  it("gives a cold boot the kernel and the platform's options, a restore the state's memory and no autostart", async () => {
    const { emulators, made } = start();
    const files = await emulators.files(fakeSource(), manifest, coldBoot);
    emulators.create({ manifest, files, disk, memoryBytes: 1024, plan: coldBoot, tuning: { ...DEFAULT_TUNING } });
    emulators.create({ manifest, files, disk, memoryBytes: 1024, plan: restore, tuning: { ...DEFAULT_TUNING } });
    const [cold, restored] = made.map((emulator) => emulator.options);
    expect(cold).toMatchObject({ wasm_path: '/v86.wasm', cmdline: 'console=ttyS0', memory_size: 1024, autostart: true, log_level: 1 });
    expect(cold?.bzimage).toBeDefined();
    expect(cold?.wasm_fn).toBeUndefined();
    expect(restored).toMatchObject({ memory_size: 256 * 1024 * 1024, autostart: false, preserve_mac_from_state_image: true });
    expect(restored?.bzimage).toBeUndefined();
  });

  it('instantiates v86.wasm itself when the platform has its bytes (the JIT threshold global)', () => {
    const { emulators, made } = start({ wasmBytes: () => Promise.resolve(new ArrayBuffer(0)) });
    const started = emulators.create({ manifest, files: {} as never, disk, memoryBytes: 1024, plan: coldBoot, tuning: { ...DEFAULT_TUNING } });
    expect(typeof made[0]?.options.wasm_fn).toBe('function');
    expect(started.jitThreshold()).toBeUndefined();
  });

  it("tells the owner of 'emulator-loaded' once, and the JIT figures follow the emulator until it is discarded", async () => {
    const { emulators, made, loaded } = start();
    const started = emulators.create({ manifest, files: {} as never, disk, memoryBytes: 1024, plan: coldBoot, tuning: { ...DEFAULT_TUNING } });
    expect(started.jitStats()).toBeUndefined();
    made[0]!.fire('emulator-loaded');
    await started.loaded;
    expect(loaded).toEqual([started.emulator]);
    expect(started.jitStats()).toMatchObject({ modulesCompiled: 0 });
    await started.discard();
    expect(made[0]!.destroyed).toBe(true);
    expect(started.jitStats()).toBeUndefined();
  });

  it("ignores a discarded emulator's late 'emulator-loaded'", async () => {
    const { emulators, made, loaded } = start();
    const started = emulators.create({ manifest, files: {} as never, disk, memoryBytes: 1024, plan: restore, tuning: { ...DEFAULT_TUNING } });
    await started.discard();
    made[0]!.fire('emulator-loaded');
    expect(loaded).toEqual([]);
  });
});
