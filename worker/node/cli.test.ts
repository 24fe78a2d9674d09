// The CLI's answers that need no VM: help, bad flags, and a missing image named with the command to build it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function cli(...args: string[]) {
  return cliWithEnv({}, ...args);
}

function cliWithEnv(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'worker/node/cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run vm', () => {
  it('documents its options and the quit key in --help', () => {
    const { status, stdout } = cli('--help');
    expect(status).toBe(0);
    for (const flag of ['--exec', '--timeout', '--assets', '--memory', '--upstream', 'TABDOCK_UPSTREAM', '--registry', '--proxy', '--docker-socket', 'Ctrl-]']) {
      expect(stdout).toContain(flag);
    }
  });

  it('rejects a bad --upstream or TABDOCK_UPSTREAM with usage, before booting', () => {
    const flag = cli('--upstream', 'ftp://mirror.test', '--exec', 'true');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('--upstream: The upstream mirror must be a host name or an http:// or https:// address (got ftp://)');
    const env = cliWithEnv({ TABDOCK_UPSTREAM: 'not a host' }, '--exec', 'true');
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('--upstream: "not a host" is not a host name');
  });

  it('rejects a bad number with usage', () => {
    const { status, stderr } = cli('--memory', 'lots');
    expect(status).toBe(2);
    expect(stderr).toContain('--memory wants a positive number');
  });

  it('refuses a --docker-socket path that is a regular file, before booting', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tabdock-sock-'));
    try {
      const file = path.join(dir, 'not-a-socket');
      await writeFile(file, 'keep me');
      const { status, stderr } = cli('--docker-socket', file, '--exec', 'true');
      expect(status).toBe(2);
      expect(stderr).toContain('exists and is not a socket');
      expect(await readFile(file, 'utf8')).toBe('keep me');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the missing manifest and the build command, exiting 1', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'tabdock-empty-'));
    try {
      const { status, stderr } = cli('--assets', empty, '--exec', 'true');
      expect(status).toBe(1);
      expect(stderr).toContain('manifest.json is missing');
      expect(stderr).toContain('npm run images');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
