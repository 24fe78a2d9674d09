import { describe, expect, it } from 'vitest';
import { authorHints } from './author-hints.ts';

describe('authorHints', () => {
  it('flags an inline verify line, in its usual spellings, with its line number', () => {
    const source = ['---', 'title: T', '---', '## Step', 'Run it.', 'verify: docker ps | grep web', '- **Verify:** `test -f /x`', ''].join('\n');
    expect(authorHints(source)).toEqual([
      { line: 6, message: expect.stringContaining('"verify: docker ps | grep web" is shown as text and never runs') },
      { line: 7, message: expect.stringContaining('"verify: test -f /x"') },
    ]);
    expect(authorHints(source)[0]?.message).toContain('```verify');
  });

  it('leaves fenced blocks, the frontmatter and prose mentioning verify alone', () => {
    const source = ['---', 'verify: not here', '---', '## Step', '```sh', 'verify: inside code', '```', '```verify', 'test -f /x', '```', 'We verify: that is all.'].join('\n');
    expect(authorHints(source)).toEqual([]);
  });
});
