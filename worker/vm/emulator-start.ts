// Making one emulator: the boot files it needs (all four for a cold boot; only the firmware for a restore, whose
// kernel is in the state's RAM), v86's options, v86.wasm with the JIT threshold as a global, and the JIT and
// main-loop settings applied at 'emulator-loaded', before the CPU runs its first instruction.
import { V86, type V86Options } from 'v86';
import { VmFailure, type EmulatorTuning, type JitStats } from '../shared/contract.ts';
import { BOOT_FILE_NAMES, type AssetSource, type BootFileName, type Manifest } from './assets.ts';
import type { StoreDisk } from './disk/v86-disk.ts';
import { restoreV86Options } from './snapshot/restore.ts';
import type { StartPlan } from './snapshot/start-plan.ts';
import { buildV86Options } from './v86-options.ts';
import { applyJitConfig, instrumentJit, JIT_THRESHOLD_EXPORT, TABDOCK_JIT_THRESHOLD, useSameThreadYield, wasmFnFor, withJitThresholdGlobal } from './v86-tuning.ts';

/** The emulator settings used unless BootOptions.tuning says otherwise; vm-images/README.md has the figures. */
export const DEFAULT_TUNING: Readonly<Required<EmulatorTuning>> = {
  jitThreshold: TABDOCK_JIT_THRESHOLD,
  jitSyncCompile: false,
  jitMaxPages: 3,
  jitMaxExtraBasicBlocks: 250,
  yield: 'helper',
  diskPrefetch: true,
};

/** What the platform says about running v86 (part of VmHostPlatform). */
export interface EmulatorPlatform {
  /** Where v86.wasm is: a URL in the browser, a file path in Node. */
  wasmPath: string;
  /** Extra or overriding v86 options (e.g. net_device.mtu). */
  v86Options?: Partial<V86Options>;
  /** The bytes at wasmPath, for a v86.wasm with another JIT threshold (v86-tuning.ts). */
  wasmBytes?: () => Promise<ArrayBuffer>;
  /** A browser worker: v86 there yields through a helper worker, which EmulatorTuning.yield can replace. */
  browserWorker?: boolean;
  /** Makes the emulator (unit tests pass a fake); `new V86` by default. */
  createEmulator?: (options: V86Options) => V86;
}

export interface EmulatorStartDeps {
  /** Boot file download progress, all files together. */
  download(loadedBytes: number, totalBytes: number): void;
  /** v86 made its devices and the settings are applied; the CPU has not run yet. Not called once discarded. */
  loaded(emulator: V86): void;
}

export interface EmulatorRequest {
  manifest: Manifest;
  files: Record<BootFileName, ArrayBuffer>;
  disk: StoreDisk;
  memoryBytes: number;
  plan: StartPlan;
  tuning: Required<EmulatorTuning>;
}

/** One emulator, as its owner keeps it: the JIT's figures and threshold, and the way to end it. */
export interface StartedEmulator {
  readonly emulator: V86;
  /** Settles on 'emulator-loaded' (a restore loads its state after that). */
  readonly loaded: Promise<void>;
  /** What v86's JIT did so far; undefined before it loaded or once discarded. */
  jitStats(): JitStats | undefined;
  /** v86's JIT threshold as a global (v86-tuning.ts withJitThresholdGlobal); undefined without wasmBytes. */
  jitThreshold(): WebAssembly.Global | undefined;
  /** Ends the emulator; its 'emulator-loaded', if still to come, is ignored. */
  discard(): Promise<void>;
}

export class EmulatorStart {
  private readonly createEmulator: (options: V86Options) => V86;

  constructor(
    private readonly platform: EmulatorPlatform,
    private readonly deps: EmulatorStartDeps,
  ) {
    this.createEmulator = platform.createEmulator ?? ((options) => new V86(options));
  }

  /** Why v86 cannot run here, or undefined when it can. */
  unsupported(): VmFailure | undefined {
    if (typeof WebAssembly !== 'undefined') return undefined;
    return new VmFailure({
      code: 'no-webassembly',
      message: 'This browser has WebAssembly turned off or unsupported, and the emulator needs it. Use a current Chrome, Firefox or Safari with WebAssembly enabled.',
    });
  }

  /** The files the plan needs in memory before the emulator exists, with download progress. */
  files(source: AssetSource, manifest: Manifest, plan: StartPlan): Promise<Record<BootFileName, ArrayBuffer>> {
    return plan.kind === 'restore' ? loadFirmware(source, manifest) : this.loadBootFiles(source, manifest);
  }

  create({ manifest, files, disk, memoryBytes, plan, tuning }: EmulatorRequest): StartedEmulator {
    const coldBootOptions = buildV86Options({ manifest, files, disk, memoryBytes, wasmPath: this.platform.wasmPath, overrides: this.platform.v86Options });
    const options = plan.kind === 'restore' ? restoreV86Options(coldBootOptions, plan.header) : coldBootOptions;
    const wasmBytes = this.platform.wasmBytes;
    let thresholdGlobal: WebAssembly.Global | undefined;
    if (wasmBytes) {
      // The threshold as a global: set from the tuning now, and changeable while the guest runs.
      options.wasm_fn = wasmFnFor(
        async () => withJitThresholdGlobal(await wasmBytes(), tuning.jitThreshold),
        (exports) => {
          const global = exports[JIT_THRESHOLD_EXPORT];
          if (global instanceof WebAssembly.Global) thresholdGlobal = global;
        },
      );
    }
    const emulator = this.createEmulator(options);
    let discarded = false;
    let stats: (() => JitStats) | undefined;
    const loaded = new Promise<void>((resolve) => {
      emulator.add_listener('emulator-loaded', () => {
        if (discarded) return;
        stats = this.tune(emulator, tuning);
        this.deps.loaded(emulator);
        resolve();
      });
    });
    return {
      emulator,
      loaded,
      jitStats: () => (discarded ? undefined : stats?.()),
      jitThreshold: () => thresholdGlobal,
      discard: async () => {
        discarded = true;
        await emulator.destroy();
      },
    };
  }

  /** The JIT and main-loop settings (v86-tuning.ts), before the CPU runs its first instruction. */
  private tune(emulator: V86, tuning: Required<EmulatorTuning>): () => JitStats {
    const stats = instrumentJit(emulator, tuning.jitSyncCompile);
    applyJitConfig(emulator, tuning);
    if (tuning.yield === 'channel' && this.platform.browserWorker) useSameThreadYield(emulator);
    return stats;
  }

  private async loadBootFiles(source: AssetSource, manifest: Manifest): Promise<Record<BootFileName, ArrayBuffer>> {
    const totalBytes = BOOT_FILE_NAMES.reduce((sum, name) => sum + manifest.files[name].bytes, 0);
    const loadedByFile = new Map<BootFileName, number>();
    const report = () => {
      let loadedBytes = 0;
      for (const bytes of loadedByFile.values()) loadedBytes += bytes;
      this.deps.download(loadedBytes, totalBytes);
    };
    const buffers = await Promise.all(
      BOOT_FILE_NAMES.map(async (name) => {
        const buffer = await source.loadFile(manifest.files[name], (loaded) => {
          loadedByFile.set(name, loaded);
          report();
        });
        loadedByFile.set(name, manifest.files[name].bytes);
        report();
        return [name, buffer] as const;
      }),
    );
    return Object.fromEntries(buffers) as Record<BootFileName, ArrayBuffer>;
  }
}

/** A restore needs only the BIOS images: the kernel and initrd are already in the state's RAM. */
export async function loadFirmware(source: AssetSource, manifest: Manifest): Promise<Record<BootFileName, ArrayBuffer>> {
  const [bios, vgaBios] = await Promise.all([source.loadFile(manifest.files.bios), source.loadFile(manifest.files.vgaBios)]);
  return { bios, vgaBios, kernel: new ArrayBuffer(0), initrd: new ArrayBuffer(0) };
}
