// Every bundled lab, played in the real guest: setup runs, each check FAILS before its step's commands run
// and PASSES after, so the checks are real and the commands do what the text says. One boot for all labs.
// Runnable blocks go through the agent (exec) rather than the terminal; the shell is the same /bin/sh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import { BOOT_HOOK_TIMEOUT_MS, bootTestVm, run } from '../../../worker/node/vm-test-boot.ts';
import { EXAMPLE_LABS } from './index.ts';
import { parseLab } from '../parse-lab.ts';
import { buildSetupScript } from '../lab-setup.ts';

/** Compose and first container starts are slow in the emulator; give commands room. */
const COMMAND_TIMEOUT_MS = 600_000;

let host: VmHost;
beforeAll(async () => {
  host = await bootTestVm();
}, BOOT_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await host?.shutdown();
});

describe.each(EXAMPLE_LABS.map((example) => [example.id, example.source] as const))('lab %s in the guest', (id, source) => {
  it('sets up, and every step turns its check from failing to passing', async () => {
    const parsed = parseLab(source);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const lab = parsed.lab;
    const started = Date.now();
    // How long checks take in the guest: the figure behind each lab's verifyTimeoutMs.
    const checkMs: number[] = [];
    const timedCheck = async (command: string) => {
      const checkStarted = Date.now();
      const result = await host.exec(command, { timeoutMs: COMMAND_TIMEOUT_MS });
      checkMs.push(Date.now() - checkStarted);
      return result;
    };
    await run(host, buildSetupScript(lab), COMMAND_TIMEOUT_MS);
    for (const [index, step] of lab.steps.entries()) {
      const label = `${id} step ${index + 1} "${step.title}"`;
      if (step.verify !== null) {
        const before = await timedCheck(step.verify);
        expect(before.exitCode, `${label}: check passed before the step's commands ran`).not.toBe(0);
      }
      for (const block of step.blocks.filter((candidate) => candidate.runnable)) {
        const result = await host.exec(block.code, { timeoutMs: COMMAND_TIMEOUT_MS });
        // Some blocks demonstrate a failure on purpose (e.g. a name that does not resolve); they still exit 0.
        expect(result, `${label}: \`${block.code}\` failed:\n${result.output}`).toMatchObject({ exitCode: 0 });
      }
      if (step.verify !== null) {
        const after = await timedCheck(step.verify);
        expect(after, `${label}: check still fails after the step's commands:\n${after.output}`).toMatchObject({ exitCode: 0 });
      }
    }
    console.log(
      `lab ${id}: ${((Date.now() - started) / 1000).toFixed(0)} s in the guest; checks took ` +
        `${checkMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (limit ${lab.verifyTimeoutMs / 1000} s)`,
    );
  }, 3_600_000);
});
