// The user's shell on hvc0 and the agent's edges in the real guest: typed input reaches bash, `stty size`
// follows resize, a big paste arrives intact (flow control), and exec timeouts report exec-timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../vm/vm-host.ts';
import { BOOT_HOOK_TIMEOUT_MS, COMMAND_TIMEOUT_MS, TEST_TIMEOUT_MS, bootTestVm, run } from './vm-test-boot.ts';

let host: VmHost;
let screen = '';
const decoder = new TextDecoder();

/** Waits until the console output (since `from`) matches, or fails with what was seen. */
async function waitForConsole(pattern: RegExp, from: number, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(screen.slice(from));
    if (match) return match[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`console never matched ${pattern}; it showed:\n${screen.slice(from).slice(-2000)}`);
}

/**
 * Presses Enter until a fresh prompt shows. After a snapshot restore the shell already sat at its prompt before
 * this file subscribed; on a cold boot, Enter pressed before bash opens hvc0 is dropped, so press it again.
 */
async function waitForPrompt(): Promise<void> {
  const deadline = Date.now() + COMMAND_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const from = screen.length;
    host.sendInput('\r');
    try {
      await waitForConsole(/root@tabdock:~# /, from, 5_000);
      return;
    } catch (error) {
      lastError = error; // no prompt yet: the shell may not have opened hvc0; press Enter again
    }
  }
  throw lastError;
}

beforeAll(async () => {
  host = await bootTestVm({ cols: 100, rows: 30 });
  host.subscribe((event) => {
    if (event.type === 'console') screen += decoder.decode(event.data, { stream: true });
  });
}, BOOT_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await host?.shutdown();
});

describe('interactive console (hvc0)', { timeout: TEST_TIMEOUT_MS }, () => {
  it('runs what the user types', async () => {
    // The shell starts after `ready`; input typed before it opens hvc0 is dropped by the tty (another opener,
    // the motd writer, closes it last). Type at the prompt, as a user does.
    await waitForPrompt();
    const from = screen.length;
    host.sendInput('echo $((6*7))\n');
    // Match the result line, not the echo of the typed command.
    await waitForConsole(/^42\r?$/m, from);
  });

  it('follows resize in stty size', async () => {
    host.resize(132, 43);
    const from = screen.length;
    host.sendInput('stty size\n');
    await waitForConsole(/^43 132\r?$/m, from);
  });

  it('delivers a 200 KB paste intact', async () => {
    // 3,200 numbered lines of 64 characters typed into `cat`, ended by Ctrl-D; the guest counts what arrived.
    const line = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
    const body = Array.from({ length: 3200 }, (_, i) => `${line.slice(0, 58)}${String(i).padStart(6, '0')}`).join('\n');
    const from = screen.length;
    host.sendInput("stty -echo; cat > /tmp/paste; stty echo; wc -c < /tmp/paste | sed 's/^/paste-bytes=/'\n");
    host.sendInput(`${body}\n\x04`);
    const reported = await waitForConsole(/paste-bytes=\d+/, from, COMMAND_TIMEOUT_MS);
    expect(reported).toBe(`paste-bytes=${body.length + 1}`);
    const tail = await run(host, 'tail -n 1 /tmp/paste');
    expect(tail.trim()).toBe(`${line.slice(0, 58)}003199`);
  });
});

describe('agent edges', { timeout: TEST_TIMEOUT_MS }, () => {
  it('passes exit codes and output of shell commands', async () => {
    const result = await host.exec('echo out; echo err >&2; exit 5', { timeoutMs: 30_000 });
    expect(result).toEqual({ exitCode: 5, output: expect.stringMatching(/out\n[\s\S]*err\n/) });
  });

  it('cuts output past 4 MiB and says so; runs in /root; leaves no files behind', async () => {
    const big = await host.exec("pwd; head -c 5000000 /dev/zero | tr '\\0' a", { timeoutMs: 120_000 });
    expect(big.output.startsWith('/root\naaaa')).toBe(true);
    expect(big.output).toMatch(/a\n\[tabdock-agent: output truncated at 4194304 bytes\]\n$/);
    expect(big.output.length).toBe(4 * 1024 * 1024 + '\n[tabdock-agent: output truncated at 4194304 bytes]\n'.length);
    // Each request's script and output files are removed once its reply is out; this request's own are still there,
    // beside the socket watch's two files (vm-images/config/tabdock-agent watch_sockets).
    const left = await host.exec('ls /run/tabdock-agent', { timeoutMs: 30_000 });
    const requestFiles = left.output.split('\n').filter((name) => name !== '' && name !== 'sockets-wanted' && name !== 'sockets-tick');
    expect(requestFiles, left.output).toHaveLength(2);
  });

  it('stops a command at its timeout with exec-timeout', async () => {
    await expect(host.exec('sleep 60', { timeoutMs: 3_000 })).rejects.toMatchObject({
      code: 'exec-timeout',
      message: expect.stringContaining('sleep 60'),
    });
  });
});
