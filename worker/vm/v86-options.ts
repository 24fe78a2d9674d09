// The v86 constructor options for the tabdock guest, built from the manifest and the loaded files. Kept apart
// from VmHost so the choices (and why) sit in one small place.
import type { V86Options } from 'v86';
import type { BootFileName, Manifest } from './assets.ts';
import type { V86DiskBuffer } from './disk/v86-disk.ts';

export interface V86OptionInputs {
  manifest: Manifest;
  files: Record<BootFileName, ArrayBuffer>;
  /** The root disk: the block store over the lazily read image (worker/vm/disk/), in place of v86's own buffers. */
  disk: V86DiskBuffer;
  memoryBytes: number;
  wasmPath: string;
  overrides?: Partial<V86Options> | undefined;
}

export function buildV86Options({ manifest, files, disk, memoryBytes, wasmPath, overrides }: V86OptionInputs): V86Options {
  return {
    wasm_path: wasmPath,
    bios: { buffer: files.bios },
    vga_bios: { buffer: files.vgaBios },
    bzimage: { buffer: files.kernel },
    initrd: { buffer: files.initrd },
    cmdline: manifest.cmdline,
    // v86's starter takes any `hda` object with get, set and load as the disk buffer itself (src/browser/starter.js).
    hda: disk as unknown as V86Options['hda'],
    memory_size: memoryBytes,
    // No screen is shown; the VGA only has to exist for the BIOS.
    vga_memory_size: 2 * 1024 * 1024,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    // `true` creates the device without a DOM adapter (v86.d.ts types only the adapter form).
    virtio_console: true as unknown as V86Options['virtio_console'],
    net_device: { type: 'virtio', relay_url: 'fetch' },
    log_level: 0 as V86Options['log_level'],
    ...overrides,
  };
}
