// One start attempt's hold on an emulator: the emulator itself, the consoles and the network attached to it, and a
// saved session's disk plan. VmHost keeps the attempt running now; dropping it detaches everything that was
// attached, then ends the emulator.
import type { V86 } from 'v86';
import type { VmFailure } from '../shared/contract.ts';
import type { SessionDiskPlan } from './disk/vm-disk.ts';
import type { StartedEmulator } from './emulator-start.ts';
import type { ConsoleAttachment } from './guest-consoles.ts';
import type { NetworkAttachment } from './net/index.ts';

export class StartAttempt {
  /** Attached at 'emulator-loaded'. */
  network: NetworkAttachment | undefined;

  constructor(
    readonly started: StartedEmulator,
    private readonly consoles: ConsoleAttachment,
    /** A saved session's store: moved aside when the attempt fails. */
    readonly disk: SessionDiskPlan | undefined,
  ) {}

  get emulator(): V86 {
    return this.started.emulator;
  }

  /** Detaches the network and the consoles (their agent calls fail with `reason`), then ends the emulator. */
  async drop(reason: VmFailure): Promise<void> {
    this.network?.detach();
    this.network = undefined;
    this.consoles.detach(reason);
    await this.started.discard();
  }
}
