// @vitest-environment jsdom
// The lab panel, with a real POSIX shell on the test machine standing in for the guest: Run buttons execute
// their command there, verify commands check real files, setup writes real files.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountLabPanel, type LabPanelEvent } from './lab-panel.ts';
import { fromSource } from './load-lab.ts';
import { decodeLabPayload } from './lab-link.ts';
import type { ExecAnswer } from './step-check.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tabdock-lab-'));
  // Accepted check lists are remembered in localStorage; each test starts with none.
  localStorage.clear();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a command in /bin/sh, like VmApi.exec does in the guest. */
async function shell(command: string, timeoutMs: number): Promise<ExecAnswer> {
  const result = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: timeoutMs });
  return { exitCode: result.status ?? 124, output: `${result.stdout}${result.stderr}` };
}

function labSource(): string {
  return `---
title: Panel test
description: Touch a file.
files:
  - path: ${dir}/placed/hello.sh
    mode: "0750"
    content: |
      echo "it's placed"
setup:
  - cd ${dir} && echo ran > setup-ran
verifyTimeoutMs: 1000
---
Intro.

## Make the marker

\`\`\`sh run
touch ${dir}/marker
\`\`\`

\`\`\`verify
test -f ${dir}/marker
\`\`\`

## Read about it

No check here.

## Hang

\`\`\`verify
sleep 30
\`\`\`
`;
}

/** Clicks Accept on the panel's "This lab checks your work…" question, once it is on screen. */
async function acceptChecks(container: HTMLElement): Promise<void> {
  await vi.waitFor(() => expect(container.querySelector('.lab-consent-accept')).not.toBeNull());
  container.querySelector<HTMLButtonElement>('.lab-consent-accept')?.click();
  await vi.waitFor(() => expect(container.querySelector('.lab-consent-accepted')).not.toBeNull());
}

function mount(overrides: Partial<Parameters<typeof mountLabPanel>[1]> = {}) {
  const container = document.createElement('div');
  document.body.append(container);
  const events: LabPanelEvent[] = [];
  const copied: string[] = [];
  const panel = mountLabPanel(container, {
    onRun: (command) => execFileSync('/bin/sh', ['-c', command]),
    verifyStep: shell,
    copyText: async (text) => {
      copied.push(text);
    },
    pageHref: () => 'https://tabdock.example/?lab=old#x',
    autoCheckDelaysMs: [50],
    ...overrides,
  });
  panel.on((event) => events.push(event));
  const loaded = fromSource(labSource(), { kind: 'inline' }, 'test');
  panel.load(loaded);
  return { container, panel, events, copied };
}

const flush = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lab panel', () => {
  it('shows title, description, setup and steps; only checked steps get a Check button', () => {
    const { container } = mount();
    expect(container.querySelector('h1')?.textContent).toBe('Panel test');
    expect(container.querySelector('.lab-description')?.textContent).toBe('Touch a file.');
    expect(container.querySelector('.lab-setup-script')?.textContent).toContain(`${dir}/placed/hello.sh`);
    // The script carries the file base64-encoded; the list shows it readably.
    expect(container.querySelector('.lab-setup-file')?.textContent).toBe(`echo "it's placed"\n`);
    expect(container.querySelectorAll('.lab-step')).toHaveLength(3);
    expect(container.querySelectorAll('button.lab-check')).toHaveLength(2);
    expect(container.querySelectorAll('button.lab-run')).toHaveLength(1);
    expect(container.querySelector('.lab-progress')?.textContent).toBe('0 of 2 checked steps done');
  });

  it('a failed check says so; Run types the command and the automatic re-check turns the step done', async () => {
    const { container, panel, events } = mount();
    await acceptChecks(container);
    expect(await panel.checkStep(0)).toBe('failed');
    expect(container.querySelector('.lab-status')?.textContent).toBe('Not done yet');
    container.querySelector<HTMLButtonElement>('button.lab-run')?.click();
    expect(events).toContainEqual({ type: 'run', command: `touch ${dir}/marker`, stepIndex: 0 });
    await flush(300);
    expect(panel.statuses()[0]).toBe('done');
    expect(container.querySelector('.lab-status')?.className).toContain('lab-status-done');
    expect(events).toContainEqual({ type: 'step-done', stepIndex: 0, title: 'Make the marker' });
    expect(container.querySelector('.lab-progress')?.textContent).toBe('1 of 2 checked steps done');
  });

  it('a check that hangs ends as an error with a message naming the time limit', async () => {
    const { container, panel } = mount({ verifyStep: () => new Promise<ExecAnswer>(() => undefined) });
    await acceptChecks(container);
    const status = await panel.checkStep(2);
    expect(status).toBe('error');
    const message = container.querySelectorAll<HTMLElement>('.lab-step-message')[2];
    expect(message?.textContent).toContain('did not finish within 1 s');
    expect(message?.hidden).toBe(false);
  }, 10_000);

  it('a VM that is not running gives an error status that says so', async () => {
    const { container, panel, events } = mount({ verifyStep: () => Promise.reject(Object.assign(new Error('no vm'), { code: 'not-running' })) });
    await acceptChecks(container);
    expect(await panel.checkStep(0)).toBe('error');
    expect(events).toContainEqual(expect.objectContaining({ type: 'step-status', status: 'error', message: expect.stringContaining('not running') }));
  });

  it('recheck checks the current step only; checkAll marks every finished step and completes the lab', async () => {
    const source = labSource().replace(/## Hang[\s\S]*$/, '');
    const container = document.createElement('div');
    const events: LabPanelEvent[] = [];
    const panel = mountLabPanel(container, { onRun: () => undefined, verifyStep: shell });
    panel.on((event) => events.push(event));
    panel.load(fromSource(source, { kind: 'inline' }, 'test'));
    await acceptChecks(container);
    const checked: string[] = [];
    const countingBox = document.createElement('div');
    const counting = mountLabPanel(countingBox, {
      onRun: () => undefined,
      verifyStep: (command, timeoutMs) => {
        checked.push(command);
        return shell(command, timeoutMs);
      },
    });
    counting.load(fromSource(labSource(), { kind: 'inline' }, 'test'));
    await acceptChecks(countingBox);
    await counting.recheck();
    expect(checked).toEqual([`test -f ${dir}/marker`]);
    expect(counting.statuses()).toEqual(['failed', 'pending', 'pending']);
    execFileSync('/bin/sh', ['-c', `touch ${dir}/marker`]);
    await panel.checkAll();
    expect(panel.statuses()).toEqual(['done', 'pending']);
    expect(events).toContainEqual({ type: 'lab-complete', title: 'Panel test' });
  });

  it('a command that finishes while a check runs gets one more check after it, however many commands finish', async () => {
    const checked: string[] = [];
    let release: () => void = () => undefined;
    let holdNext = true;
    const box = document.createElement('div');
    const panel = mountLabPanel(box, {
      onRun: () => undefined,
      verifyStep: async (command, timeoutMs) => {
        checked.push(command);
        // The first check looks before the user's command has run, then is slow to report, as on a busy guest.
        const answer = await shell(command, timeoutMs);
        if (holdNext) {
          holdNext = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return answer;
      },
    });
    panel.load(fromSource(labSource(), { kind: 'inline' }, 'test'));
    await acceptChecks(box);
    const slow = panel.recheck();
    await flush(50);
    expect(panel.statuses()[0]).toBe('checking');
    execFileSync('/bin/sh', ['-c', `touch ${dir}/marker`]);
    const followUps = [panel.recheck(), panel.recheck(), panel.recheck()];
    release();
    await Promise.all([slow, ...followUps]);
    expect(panel.statuses()[0]).toBe('done');
    expect(checked).toEqual([`test -f ${dir}/marker`, `test -f ${dir}/marker`]);
  });

  it('Run setup writes the files with their mode and runs the setup commands, only when clicked', async () => {
    const { container, events } = mount();
    expect(() => statSync(`${dir}/placed/hello.sh`)).toThrow();
    container.querySelector<HTMLButtonElement>('button.lab-setup-run')?.click();
    await flush(500);
    expect(events).toContainEqual(expect.objectContaining({ type: 'setup-finished', ok: true }));
    expect(readFileSync(`${dir}/placed/hello.sh`, 'utf8')).toBe(`echo "it's placed"\n`);
    expect(statSync(`${dir}/placed/hello.sh`).mode & 0o777).toBe(0o750);
    expect(readFileSync(`${dir}/setup-ran`, 'utf8')).toBe('ran\n');
    expect(container.querySelector('.lab-setup-status')?.textContent).toBe('Setup done.');
  });

  it('Share copies a link that carries the same lab', async () => {
    const { container, copied } = mount();
    container.querySelector<HTMLButtonElement>('button.lab-share-button')?.click();
    await flush(100);
    expect(copied).toHaveLength(1);
    const link = new URL(copied[0] ?? '');
    expect(link.search).toBe('');
    const payload = new URLSearchParams(link.hash.slice(1)).get('lab') ?? '';
    expect(await decodeLabPayload(payload)).toEqual({ ok: true, value: labSource() });
    expect(container.querySelector('.lab-share-note')?.textContent).toBe('Link copied.');
  });

  it('shows load errors in an alert, with line-numbered problems', () => {
    const container = document.createElement('div');
    const panel = mountLabPanel(container, { onRun: () => undefined, verifyStep: shell });
    panel.load(fromSource('---\ntitle: T\nbogus: 1\n---\n## s\n', { kind: 'inline' }, 'the lab in this link'));
    const alert = container.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('The lab in this link is not a valid lab');
    expect(alert?.querySelector('pre')?.textContent).toContain('line 3: unknown key "bogus"');
  });
});
