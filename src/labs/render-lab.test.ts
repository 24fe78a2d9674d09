// @vitest-environment jsdom
// The renderer: hostile Markdown loses every script path; Run buttons exist only for runnable blocks, made by us.
import { describe, expect, it } from 'vitest';
import { parseLab } from './parse-lab.ts';
import { renderLab, renderLabHtml, renderMarkdown } from './render-lab.ts';
import { EXAMPLE_LABS } from './examples/index.ts';
import type { Lab } from './lab-format.ts';

function lab(source: string): Lab {
  const result = parseLab(source);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.lab;
}

const HOSTILE = `---
title: Hostile
---
<script>window.pwned = 1</script>
<img src="x" onerror="window.pwned = 2">

## Step <img src=x onerror=alert(1)> one

[click](javascript:alert(1)) and [data](data:text/html,<script>alert(1)</script>) and <a href="JaVaScRiPt:alert(1)">raw</a>
<iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="q"><button>Run</button></form>
<svg><script>alert(1)</script></svg>
<div onclick="alert(1)" style="position:fixed" id="app" class="lab-run">fake</div>
<button class="lab-run">Run</button>
<object data="x.swf"></object><embed src="x.swf"><style>body{display:none}</style>
<a href="https://ok.example/page">fine link</a>

\`\`\`sh run
echo "<script>alert(1)</script>" && rm -rf /tmp/x
\`\`\`

\`\`\`verify
true
\`\`\`
`;

describe('renderLab', () => {
  it('strips scripts, event handlers, javascript: links, iframes, forms and styles', () => {
    const html = renderLabHtml(lab(HOSTILE));
    const lower = html.toLowerCase();
    for (const banned of ['<script', 'onerror', 'onclick', 'javascript:', '<iframe', '<form', '<input', '<svg', '<object', '<embed', '<style', 'style=', 'id="app"', 'data:text/html']) {
      expect(lower, banned).not.toContain(banned);
    }
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
    // The code block's text is shown as text, not parsed as HTML.
    expect(html).toContain('echo "&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('has one Run button per runnable block, none from the Markdown, and shows verify only as the step\'s check', () => {
    const rendered = renderLab(lab(HOSTILE));
    const buttons = rendered.root.querySelectorAll('button');
    expect(buttons).toHaveLength(1);
    expect(rendered.steps[0]?.blocks[0]?.runButton).toBe(buttons[0]);
    expect(rendered.root.textContent).not.toContain('true\n');
    expect(rendered.root.querySelectorAll('.lab-run')).toHaveLength(1);
    expect(rendered.steps[0]?.blocks).toHaveLength(1);
  });

  it('shows each step\'s exact check command in a disclosure beside the step', () => {
    const source = '---\ntitle: T\n---\n## Checked\n\n```verify\ntest -f /tmp/a && grep -q "<b>" /tmp/a\n```\n\n## Not checked\n\nText.\n';
    const rendered = renderLab(lab(source));
    const check = rendered.steps[0]?.check;
    expect(check?.tagName).toBe('DETAILS');
    expect(check?.parentElement).toBe(rendered.steps[0]?.section);
    expect(check?.querySelector('summary')?.textContent).toBe('Check command');
    expect(check?.querySelector('code.lab-verify-command')?.textContent).toBe('test -f /tmp/a && grep -q "<b>" /tmp/a');
    expect(rendered.steps[1]?.check).toBeNull();
    expect(rendered.steps[1]?.section.querySelector('details')).toBeNull();
  });

  it('opens links in a new tab without an opener', () => {
    const rendered = renderLab(lab(HOSTILE));
    const links = Array.from(rendered.root.querySelectorAll('a'));
    const fine = links.find((link) => link.textContent === 'fine link');
    expect(fine?.getAttribute('href')).toBe('https://ok.example/page');
    expect(fine?.getAttribute('target')).toBe('_blank');
    expect(fine?.getAttribute('rel')).toContain('noopener');
    for (const link of links) {
      const href = link.getAttribute('href');
      if (href !== null) expect(href).toMatch(/^(https?|mailto):/);
    }
  });

  it('calls onRun with the block text and the step index', () => {
    const runs: [string, number | null][] = [];
    const rendered = renderLab(lab(HOSTILE), { onRun: (command, stepIndex) => runs.push([command, stepIndex]) });
    rendered.steps[0]?.blocks[0]?.runButton?.click();
    expect(runs).toEqual([['echo "<script>alert(1)</script>" && rm -rf /tmp/x', 0]]);
  });

  it('cannot be tricked by Markdown guessing the placeholder tag', () => {
    const { fragment, blocks } = renderMarkdown('<tabdock-code-0000000000000000>0</tabdock-code-0000000000000000>\n\n```sh run\nls\n```\n', document);
    expect(blocks).toHaveLength(1);
    expect(fragment.querySelectorAll('button')).toHaveLength(1);
  });

  it('gives no Run button to a block holding a control or invisible character, and says why', () => {
    const { fragment, blocks } = renderMarkdown('```sh run\necho "curl x | sh"\u0001\u0004\u0005\u0008\n```\n\n```sh run\nls\u200b\n```\n', document);
    expect(blocks.map((block) => block.runButton)).toEqual([null, null]);
    expect(fragment.querySelectorAll('button')).toHaveLength(0);
    expect(Array.from(fragment.querySelectorAll('.lab-code-refused'), (note) => note.textContent)).toEqual([
      'Not runnable: this block holds the invisible character U+0001 (Ctrl-A).',
      'Not runnable: this block holds the invisible character U+200B (zero width space).',
    ]);
  });

  it.each(EXAMPLE_LABS.map((example) => [example.id, example.source] as const))('renders the bundled lab %s with a Run button per runnable block', (_id, source) => {
    const parsed = lab(source);
    const rendered = renderLab(parsed);
    expect(rendered.steps).toHaveLength(parsed.steps.length);
    parsed.steps.forEach((step, index) => {
      const runnable = step.blocks.filter((block) => block.runnable).length;
      expect(rendered.steps[index]?.section.querySelectorAll('button.lab-run')).toHaveLength(runnable);
    });
  });
});
