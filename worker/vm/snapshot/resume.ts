// Resuming a checked state in a new emulator and proving the guest came back, within a short bound, so a
// state v86 refuses or a guest that is dead after the restore falls back quickly instead of waiting out the
// boot timeout. VmHost drives it; v86 and timing specifics stay here.
import type { V86 } from 'v86';
import type { ExecResult, VmNotice } from '../../shared/contract.ts';
import { realTimers, type Timers } from '../console-pump.ts';
import { restoreIntoFreshEmulator } from '../v86-internals.ts';
import { afterRestoreCommand } from './restore.ts';
import type { StartPlan } from './start-plan.ts';

export type RestorePlan = Extract<StartPlan, { kind: 'restore' }>;

/**
 * How long a resumed guest has to answer the agent. The first exec after a restore took 6.7-9.9 s on this
 * 2-core machine under heavy load (v86 recompiles the guest's code after a restore: worker/vm/snapshot/README.md);
 * a cold boot takes minutes, so a dead restore is found long before the boot timeout would say so.
 */
export const RESTORE_CHECK_TIMEOUT_MS = 45_000;

/** Why a restore was given up; VmHost turns it into a notice and starts from the next source. */
export class RestoreFailed extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = 'RestoreFailed';
  }
}

/**
 * Loads the state into an emulator created with autostart off and starts it. v86 restores an `initial_state`
 * option inside its own async init, where a throw (bad state header, version mismatch: src/state.js
 * StateLoadError) becomes an unhandled rejection and 'emulator-loaded' never comes; calling restore_state
 * ourselves keeps the error.
 */
export async function loadState(emulator: V86, state: ArrayBuffer): Promise<void> {
  try {
    // The emulator is new and has not run: v86's zeroing of all its RAM first can be skipped (v86-internals.ts).
    await restoreIntoFreshEmulator(emulator, () => emulator.restore_state(state));
  } catch (error) {
    throw new RestoreFailed('The emulator could not load the saved state.', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
  await emulator.run();
}

export interface ResumeCheckInputs {
  plan: RestorePlan;
  /** Runs a command through the guest agent (which must already count as ready). */
  exec: (command: string, timeoutMs: number) => Promise<ExecResult>;
  /** Rejects when the serial console reports a failure (kernel panic ...) while the check runs. */
  guestFailure: Promise<never>;
  timeoutMs?: number;
  timers?: Timers;
}

/**
 * The guest agent must answer the after-restore fix-up (clock, DHCP renewal) within the bound. A reply with
 * any exit code proves the guest runs; no reply, an exec failure or a serial failure means the restore failed.
 */
export async function checkResumedGuest({
  plan,
  exec,
  guestFailure,
  timeoutMs = RESTORE_CHECK_TIMEOUT_MS,
  timers = realTimers,
}: ResumeCheckInputs): Promise<void> {
  let timer: unknown;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(
      () => reject(new RestoreFailed(`The resumed VM did not answer within ${Math.round(timeoutMs / 1000)} s.`, 'no reply from the guest agent after the restore')),
      timeoutMs,
    );
  });
  try {
    const printWelcome = plan.from === 'boot-snapshot' && !plan.header.welcome;
    await Promise.race([exec(afterRestoreCommand(printWelcome), timeoutMs), gaveUp, guestFailure]);
  } catch (error) {
    if (error instanceof RestoreFailed) throw error;
    const detail = error instanceof Error ? `${error.message}\n${(error as { detail?: string }).detail ?? ''}`.trim() : String(error);
    throw new RestoreFailed('The resumed VM stopped answering right after the restore.', detail);
  } finally {
    timers.clearTimeout(timer);
  }
}

/**
 * Starts from the first plan and, while restores fail, from the plan `stepDown` gives for the next source
 * (session > boot snapshot > cold boot). Any other failure (and a failed cold boot) is the caller's.
 */
export async function startWithFallback(
  first: StartPlan,
  attempt: (plan: StartPlan) => Promise<void>,
  stepDown: (failed: RestorePlan, failure: RestoreFailed) => Promise<StartPlan>,
): Promise<StartPlan> {
  let plan = first;
  for (;;) {
    try {
      await attempt(plan);
      return plan;
    } catch (error) {
      if (!(error instanceof RestoreFailed) || plan.kind !== 'restore') throw error;
      plan = await stepDown(plan, error);
    }
  }
}

/** The notice for a restore that failed after its checks passed, naming what happens next. */
export function restoreFailedNotice(from: RestorePlan['from'], failure: RestoreFailed): VmNotice {
  return from === 'session'
    ? {
        code: 'session-unusable',
        message: `Your saved session could not be resumed: ${failure.message} Started a clean VM instead; the saved file was kept so you can download it.`,
        detail: failure.detail,
      }
    : {
        code: 'snapshot-unusable',
        message: `The boot snapshot could not be resumed: ${failure.message} Booting from scratch instead, which takes about a minute.`,
        detail: failure.detail,
      };
}
