import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { guestCpuLine, guestCpuTasks, parseGuestCpuOutput } from './guest-cpu.ts';

describe('guestCpuLine', () => {
  it('times only the work, in microseconds, in a line bash runs', () => {
    const line = guestCpuLine({ name: 'bashLoop', prepare: 'x=1', work: 'sleep 0.2', cleanup: 'unset x', description: '' }, 'cpu-t');
    const output = execFileSync('bash', ['-c', line], { encoding: 'utf8' });
    const us = parseGuestCpuOutput(output, 'cpu-t');
    expect(us).toBeGreaterThanOrEqual(200_000);
    expect(us).toBeLessThan(5_000_000);
  });

  it('finds the biggest layer of a test-image archive and cleans up after each task', () => {
    // The real archive the image build makes is not needed: one with a small and a big layer is enough.
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    execFileSync('bash', ['-c', `cd ${dir} && head -c 1000 /dev/urandom > ${'a'.repeat(64)}.tar && head -c 50000 /dev/urandom > ${'b'.repeat(64)}.tar && echo {} > manifest.json && tar -cf preload.tar *.tar manifest.json`]);
    for (const task of guestCpuTasks(`${dir}/preload.tar`)) {
      const output = execFileSync('bash', ['-c', guestCpuLine(task, `cpu-${task.name}`)], { encoding: 'utf8' });
      expect(parseGuestCpuOutput(output, `cpu-${task.name}`)).toBeGreaterThan(0);
    }
    expect(execFileSync('bash', ['-c', 'ls /dev/shm/tabdock-bench-* 2>/dev/null | wc -l'], { encoding: 'utf8' }).trim()).toBe('0');
    execFileSync('rm', ['-rf', dir]);
  });

  it('refuses output without its marker', () => {
    expect(() => parseGuestCpuOutput('bash: sha256sum: command not found\n', 'cpu-sha256')).toThrow(/no "cpu-sha256=" line/);
  });
});
