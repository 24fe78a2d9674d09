// The bench's and the tests' window into a running VM, beside the VmApi: what v86's JIT did and its threshold
// (changeable while the guest runs), the disk image cache's counters, the after-restore figures, the boot
// timeline and guest notes, the emulator and its settings, and the raw serial bytes (the CLI's --verbose).
// VmHost owns one (`host.probe`); VmApi.diagnostics() is its diagnostics().
import type { V86 } from 'v86';
import type { EmulatorTuning, JitStats, VmDiagnostics } from '../shared/contract.ts';
import type { GuestNote, StageTiming } from './boot-timeline.ts';
import type { StoreDisk } from './disk/v86-disk.ts';
import type { StartedEmulator } from './emulator-start.ts';

export interface VmProbeDeps {
  /** The emulator of the start attempt running now. */
  started(): StartedEmulator | undefined;
  /** The guest disk of the running VM. */
  disk(): StoreDisk | undefined;
  afterRestore(): Pick<VmDiagnostics, 'diskPrefetch' | 'warmUp'>;
  tuning(): Readonly<Required<EmulatorTuning>>;
  stages(): readonly StageTiming[];
  notes(): readonly GuestNote[];
}

export class VmProbe {
  private readonly serialListeners = new Set<(byte: number) => void>();

  constructor(private readonly deps: VmProbeDeps) {}

  /** Raw ttyS0 bytes (kernel and init log); returns the unsubscribe. */
  onSerialByte(listener: (byte: number) => void): () => void {
    this.serialListeners.add(listener);
    return () => this.serialListeners.delete(listener);
  }

  /** The owner passes every serial byte through here. */
  serialByte(byte: number): void {
    for (const listener of this.serialListeners) listener(byte);
  }

  /** Stage timings of the current boot, including the guest's own uptime at each marker. */
  get timeline(): readonly StageTiming[] {
    return this.deps.stages();
  }

  /** The guest's informational timing points of the current boot. */
  get notes(): readonly GuestNote[] {
    return this.deps.notes();
  }

  /** The emulator settings in effect. */
  get tuning(): Readonly<Required<EmulatorTuning>> {
    return this.deps.tuning();
  }

  /** The emulator (make-snapshot reads its disk reads, a test its RAM); undefined before boot(). */
  get emulator(): V86 | undefined {
    return this.deps.started()?.emulator;
  }

  /** The guest disk of the running VM (block store figures for the bench and tests). */
  get disk(): StoreDisk | undefined {
    return this.deps.disk();
  }

  /** What v86's JIT did in the current emulator; undefined before it loaded. */
  jitStats(): JitStats | undefined {
    return this.deps.started()?.jitStats();
  }

  /** v86's JIT threshold in the running emulator; undefined before it loaded or without wasmBytes. */
  jitThreshold(): number | undefined {
    return this.deps.started()?.jitThreshold()?.value as number | undefined;
  }

  /** Changes v86's JIT threshold of the running emulator (bench experiments); false when it cannot. */
  setJitThreshold(threshold: number): boolean {
    const global = this.deps.started()?.jitThreshold();
    if (!global || !Number.isInteger(threshold) || threshold < 1) return false;
    global.value = threshold;
    return true;
  }

  diagnostics(): VmDiagnostics {
    const jit = this.jitStats();
    const diskImage = this.disk?.image.counters;
    return { ...(jit ? { jit } : {}), ...(diskImage ? { diskImage } : {}), ...this.deps.afterRestore() };
  }
}
