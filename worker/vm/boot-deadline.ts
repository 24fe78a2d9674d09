// The wait for 'ready' and the boot's deadline. Each start attempt waits anew (the guest's ready marker, or a
// restore that is live, settles it; a failure rejects it). The deadline runs from the first attempt until the
// VM is ready, over every attempt between, so a restore that falls back gets no fresh boot timeout.
import type { VmFailure } from '../shared/contract.ts';

export class BootDeadline {
  private settle: { resolve: () => void; reject: (error: VmFailure) => void } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `expired` runs once when the deadline passes before ready() or fail(). */
  constructor(private readonly expired: (timeoutMs: number) => void) {}

  /**
   * A start attempt waits for 'ready' from here. The deadline starts unless one runs: at the boot's first
   * attempt, or at the first one after a VM that was ready lost its restore.
   */
  attempt(timeoutMs: number): Promise<void> {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.expired(timeoutMs);
    }, timeoutMs);
    return new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  /** The VM is ready: the attempt's wait ends and the deadline is off. */
  ready(): void {
    this.stop();
    this.settle?.resolve();
  }

  /** The boot failed (or the VM was shut down): the attempt's wait rejects with it. */
  fail(error: VmFailure): void {
    this.stop();
    this.settle?.reject(error);
    this.settle = undefined;
  }

  /** The attempt was dropped: nothing waits for its 'ready' any more; the deadline runs on. */
  forgetAttempt(): void {
    this.settle = undefined;
  }

  /** The deadline is off (ready, failed, stopped). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
