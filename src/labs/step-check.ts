// Runs a step's verify command through the injected exec dependency and turns the answer into a step status,
// with our own time limit on top (a hung VM call must not leave a step 'checking' forever).

/** A step's check state. 'failed': the command ran and exited non-zero. 'error': it could not run or hung. */
export type StepStatus = 'pending' | 'checking' | 'done' | 'failed' | 'error';

export interface ExecAnswer {
  exitCode: number;
  output: string;
}

/** What the page provides: run a shell command in the guest (VmApi.exec) and report its exit status. */
export type VerifyFn = (command: string, timeoutMs: number) => Promise<ExecAnswer>;

export interface CheckOutcome {
  status: Extract<StepStatus, 'done' | 'failed' | 'error'>;
  /** Shown under the step; empty when done. */
  message: string;
  output: string;
}

/** Extra time given to the VM to report its own 'exec-timeout' before we stop waiting. */
export const CHECK_GRACE_MS = 2_000;

export async function runCheck(verify: VerifyFn, command: string, timeoutMs: number): Promise<CheckOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs + CHECK_GRACE_MS);
  });
  try {
    const answer = await Promise.race([verify(command, timeoutMs), hung]);
    if (answer === 'hung') return timedOut(timeoutMs, '');
    if (answer.exitCode === 0) return { status: 'done', message: '', output: answer.output };
    return {
      status: 'failed',
      message: `Not done yet: the check exited with status ${answer.exitCode}. Follow the step, then press Check.`,
      output: answer.output,
    };
  } catch (error) {
    if (isCode(error, 'exec-timeout')) return timedOut(timeoutMs, errorDetail(error));
    if (isCode(error, 'not-running')) {
      return { status: 'error', message: 'The machine is not running, so the step cannot be checked. Start it, then press Check.', output: errorDetail(error) };
    }
    return {
      status: 'error',
      message: `The check could not run: ${error instanceof Error ? error.message : String(error)}. Press Check to try again.`,
      output: errorDetail(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function timedOut(timeoutMs: number, output: string): CheckOutcome {
  return {
    status: 'error',
    message: `The check did not finish within ${Math.round(timeoutMs / 1000)} s. The machine may be busy with a long command: wait for it to finish, then press Check.`,
    output,
  };
}

/** VmFailure (worker/shared/contract.ts) survives structured clone as an object with a `code`; match on that. */
function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === code;
}

function errorDetail(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'detail' in error && typeof (error as { detail: unknown }).detail === 'string') {
    return (error as { detail: string }).detail;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
