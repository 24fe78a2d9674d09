// Shared by the VM test files: boots the real guest image once per file (TABDOCK_ASSETS overrides the
// directory) and runs commands through the agent, failing with the command's output when it exits non-zero.
import { expect } from 'vitest';
import type { ExecResult } from '../shared/contract.ts';
import type { VmHost } from '../vm/vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';

/**
 * Boot limit for tests. Generous on purpose: on a shared 2-core machine the boot has taken from 1 to over 5
 * minutes depending on what else runs; speed is the bench's business, a test only needs the boot to finish.
 */
export const TEST_BOOT_TIMEOUT_MS = 840_000;
/** For beforeAll: the boot limit plus slack to report a boot-timeout rather than a hook timeout. */
export const BOOT_HOOK_TIMEOUT_MS = TEST_BOOT_TIMEOUT_MS + 60_000;

/** Per command and per test: a `docker run` took 10 s on an idle machine and over 100 s on a loaded one. */
export const COMMAND_TIMEOUT_MS = 480_000;
export const TEST_TIMEOUT_MS = 900_000;

export async function bootTestVm(options: { cols?: number; rows?: number } = {}): Promise<VmHost> {
  const host = createNodeVmHost();
  await host.boot({ assetBase: process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: TEST_BOOT_TIMEOUT_MS, ...options });
  return host;
}

/** Runs a command and asserts exit 0, showing its output when it fails. */
export async function run(host: VmHost, command: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  const result: ExecResult = await host.exec(command, { timeoutMs });
  expect(result, `\`${command}\` failed:\n${result.output}`).toMatchObject({ exitCode: 0 });
  return result.output;
}
