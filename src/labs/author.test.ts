// @vitest-environment jsdom
// Author mode: live preview, problems with line numbers that jump to their line, open and share a draft.
import { describe, expect, it } from 'vitest';
import { mountLabAuthor, NEW_LAB_TEMPLATE } from './author.ts';
import type { Lab } from './lab-format.ts';

const flush = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lab author mode', () => {
  it('starts from a valid template with a preview', () => {
    const container = document.createElement('div');
    const author = mountLabAuthor(container);
    expect(author.getSource()).toBe(NEW_LAB_TEMPLATE);
    expect(author.problems()).toEqual([]);
    expect(container.querySelector('.lab-author-preview h2')?.textContent).toContain('First step');
    expect(container.querySelectorAll('.lab-author-preview button.lab-run')).toHaveLength(1);
  });

  it('lists problems with their line and jumps to the line on click', () => {
    const container = document.createElement('div');
    document.body.append(container);
    const author = mountLabAuthor(container);
    author.setSource('---\ntitle: T\ncolour: red\n---\n## s\n');
    expect(author.problems()).toEqual([expect.objectContaining({ line: 3 })]);
    const jump = container.querySelector<HTMLButtonElement>('.lab-author-problems button');
    expect(jump?.textContent).toMatch(/^line 3: unknown key "colour"/);
    jump?.click();
    const textarea = container.querySelector('textarea');
    expect(textarea?.value.slice(textarea.selectionStart, textarea.selectionEnd)).toBe('colour: red');
    expect(container.querySelector<HTMLButtonElement>('button')?.disabled).toBe(true);
  });

  it('shows a hidden control character in a Run block as a problem on its line, and keeps the draft from opening', () => {
    const container = document.createElement('div');
    const author = mountLabAuthor(container);
    author.setSource('---\ntitle: T\n---\n## s\n\n```sh run\necho "curl x | sh"\u0001\u0004\u0005\u0008\n```\n');
    const first = container.querySelector<HTMLButtonElement>('.lab-author-problems button');
    expect(first?.textContent).toMatch(/^line 7: the invisible character U\+0001 \(Ctrl-A\) at column 19: a terminal acts on control characters/);
    expect(author.problems()).toHaveLength(4);
    expect(container.querySelector<HTMLButtonElement>('.lab-share button')?.disabled).toBe(true);
  });

  it('hints that an inline verify: line is text, and points at the verify block, without blocking the lab', () => {
    const container = document.createElement('div');
    document.body.append(container);
    const author = mountLabAuthor(container);
    author.setSource('---\ntitle: T\n---\n## One\n\nverify: test -f /tmp/x\n');
    expect(author.problems()).toEqual([]);
    const hint = container.querySelector<HTMLButtonElement>('.lab-author-hint button');
    expect(hint?.textContent).toMatch(/^line 6: hint: "verify: test -f \/tmp\/x" is shown as text and never runs/);
    expect(hint?.textContent).toContain('```verify');
    hint?.click();
    const textarea = container.querySelector('textarea');
    expect(textarea?.value.slice(textarea.selectionStart, textarea.selectionEnd)).toBe('verify: test -f /tmp/x');
    expect(container.querySelector('.lab-author-ok')?.textContent).toBe('Valid lab: 1 step(s).');
  });

  it('re-parses after typing pauses, and opens the draft in the panel', async () => {
    const container = document.createElement('div');
    const opened: Lab[] = [];
    const author = mountLabAuthor(container, { debounceMs: 10, onOpen: (lab) => opened.push(lab) });
    const textarea = container.querySelector('textarea');
    if (!textarea) throw new Error('no textarea');
    textarea.value = NEW_LAB_TEMPLATE.replace('title: My lab', 'title: Edited');
    textarea.dispatchEvent(new Event('input'));
    await flush(50);
    expect(author.problems()).toEqual([]);
    Array.from(container.querySelectorAll('button')).find((button) => button.textContent === 'Open in panel')?.click();
    expect(opened.map((lab) => lab.title)).toEqual(['Edited']);
  });
});
