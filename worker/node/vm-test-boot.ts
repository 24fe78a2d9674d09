// Shared by the VM test files: boots the real guest image once per file (TABDOCK_ASSETS overrides the
// directory) and runs commands through the agent, failing with the command's output when it exits non-zero.
import { expect } from 'vitest';
import type { ExecResult } from '../contract.ts';
import type { VmHost } from '../vm-host.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';

export async function bootTestVm(options: { cols?: number; rows?: number } = {}): Promise<VmHost> {
  const host = createNodeVmHost();
  await host.boot({ assetBase: process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: 300_000, ...options });
  return host;
}

/** Runs a command and asserts exit 0, showing its output when it fails. */
export async function run(host: VmHost, command: string, timeoutMs = 180_000): Promise<string> {
  const result: ExecResult = await host.exec(command, { timeoutMs });
  expect(result, `\`${command}\` failed:\n${result.output}`).toMatchObject({ exitCode: 0 });
  return result.output;
}
