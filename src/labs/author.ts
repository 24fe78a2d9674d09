// Lab author mode: a textarea editor with a live preview, parse problems listed with line numbers (click one
// to jump to its line), a share link for the draft, and "Open in panel" to try the lab for real.
/// <reference types="vite/client" />
import './lab-panel.css';
import { authorHints, type AuthorHint } from './author-hints.ts';
import { formatLabProblem, type Lab, type LabProblem } from './lab-format.ts';
import { makeShareLink } from './lab-link.ts';
import { parseLab } from './parse-lab.ts';
import { renderLab } from './render-lab.ts';
import { el } from '../dom.ts';

export interface LabAuthorDeps {
  initialSource?: string;
  /** "Open in panel": the page shows the draft in the lab panel (LabPanelHandle.show). */
  onOpen?: (lab: Lab) => void;
  /** Preview Run buttons; absent means they only show what would run. */
  onRun?: (command: string) => void;
  copyText?: (text: string) => Promise<void>;
  pageHref?: () => string;
  /** Wait this long after the last keystroke before re-rendering. */
  debounceMs?: number;
  document?: Document;
}

export interface LabAuthorHandle {
  getSource(): string;
  setSource(source: string): void;
  /** Problems of the current text (empty when it is a valid lab). */
  problems(): readonly LabProblem[];
  dispose(): void;
}

export const DEFAULT_AUTHOR_DEBOUNCE_MS = 250;

export const NEW_LAB_TEMPLATE = `---
title: My lab
description: One line on what the reader will learn.
images: [busybox]
---
A few words of introduction.

## First step

Explain the step, then give the command:

\`\`\`sh run
docker run busybox echo hello
\`\`\`

\`\`\`verify
docker ps -a --format '{{.Image}}' | grep -q busybox
\`\`\`
`;

export function mountLabAuthor(container: HTMLElement, deps: LabAuthorDeps = {}): LabAuthorHandle {
  const doc = deps.document ?? container.ownerDocument;
  const root = el('div', 'lab-author', undefined, doc);
  const editor = el('div', 'lab-author-editor', undefined, doc);
  const textarea = el('textarea', '', undefined, doc);
  textarea.spellcheck = false;
  textarea.setAttribute('aria-label', 'Lab source (Markdown with YAML frontmatter)');
  textarea.value = deps.initialSource ?? NEW_LAB_TEMPLATE;
  const problemList = el('ul', 'lab-author-problems', undefined, doc);
  problemList.setAttribute('role', 'alert');
  const toolbar = el('div', 'lab-share', undefined, doc);
  const openButton = el('button', '', 'Open in panel', doc);
  const shareButton = el('button', '', 'Copy share link', doc);
  const note = el('span', 'lab-share-note', undefined, doc);
  note.setAttribute('role', 'status');
  toolbar.append(openButton, shareButton, note);
  editor.append(textarea, toolbar, problemList);
  const preview = el('div', 'lab-author-preview', undefined, doc);
  root.append(editor, preview);
  container.replaceChildren(root);

  let lastLab: Lab | null = null;
  let lastProblems: LabProblem[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  function refresh(): void {
    const result = parseLab(textarea.value);
    problemList.replaceChildren();
    if (result.ok) {
      lastLab = result.lab;
      lastProblems = [];
      problemList.append(el('li', 'lab-author-ok', `Valid lab: ${result.lab.steps.length} step(s).`, doc));
      preview.replaceChildren(renderLab(result.lab, { document: doc, onRun: (command) => deps.onRun?.(command) }).root);
    } else {
      // Keep the last good preview on screen while the author is mid-edit.
      lastLab = null;
      lastProblems = result.problems;
      for (const problem of result.problems) problemList.append(problemItem(problem));
    }
    // Hints do not block the lab; they say what probably does not do what the author meant.
    for (const hint of authorHints(textarea.value)) problemList.append(hintItem(hint));
    openButton.disabled = lastLab === null;
    shareButton.disabled = lastLab === null;
  }

  function hintItem(hint: AuthorHint): HTMLElement {
    const item = el('li', 'lab-author-hint', undefined, doc);
    const jump = el('button', '', `line ${hint.line}: hint: ${hint.message}`, doc);
    jump.title = `Go to line ${hint.line}`;
    jump.addEventListener('click', () => selectLine(hint.line));
    item.append(jump);
    return item;
  }

  function problemItem(problem: LabProblem): HTMLElement {
    const item = el('li', '', undefined, doc);
    if (problem.line === undefined) {
      item.textContent = problem.message;
      return item;
    }
    const jump = el('button', '', formatLabProblem(problem), doc);
    jump.title = `Go to line ${problem.line}`;
    jump.addEventListener('click', () => selectLine(problem.line ?? 1));
    item.append(jump);
    return item;
  }

  function selectLine(line: number): void {
    const lines = textarea.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    const end = start + (lines[line - 1]?.length ?? 0);
    textarea.focus();
    textarea.setSelectionRange(start, end);
  }

  const onInput = (): void => {
    clearTimeout(timer);
    timer = setTimeout(refresh, deps.debounceMs ?? DEFAULT_AUTHOR_DEBOUNCE_MS);
  };
  textarea.addEventListener('input', onInput);
  openButton.addEventListener('click', () => {
    if (lastLab) deps.onOpen?.(lastLab);
  });
  shareButton.addEventListener('click', () => {
    void (async () => {
      const href = deps.pageHref?.() ?? doc.defaultView?.location.href ?? 'https://localhost/';
      const link = await makeShareLink(textarea.value, { kind: 'inline' }, href);
      if (!link.ok) {
        note.textContent = link.error.message;
        return;
      }
      const copy = deps.copyText ?? ((text: string) => navigator.clipboard.writeText(text));
      try {
        await copy(link.value);
        note.textContent = 'Link copied.';
      } catch (error) {
        note.textContent = `Copy this link: ${link.value}`;
        console.warn('tabdock labs: clipboard write refused', error);
      }
    })();
  });
  refresh();

  return {
    getSource: () => textarea.value,
    setSource(source) {
      textarea.value = source;
      clearTimeout(timer);
      refresh();
    },
    problems: () => lastProblems,
    dispose() {
      clearTimeout(timer);
      root.remove();
    },
  };
}
