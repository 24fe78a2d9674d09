// Turns a lab's text (Markdown + YAML frontmatter) into a Lab, or into problems that name their line.
// Never throws: garbage in gives { ok: false, problems } out.
import { isMap, isSeq, isScalar, isPair, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { Marked, type Token, type Tokens, type TokensList } from 'marked';
import type { z } from 'zod';
import {
  MAX_LAB_CHARS,
  RUNNABLE_LANGUAGES,
  VERIFY_INFO_STRING,
  labFrontmatterSchema,
  type Lab,
  type LabCodeBlock,
  type LabParseResult,
  type LabProblem,
  type LabStep,
} from './lab-format.ts';
import { describeCharacter, findHiddenAnywhere, findHiddenInCommand, whyRefused } from './hidden-characters.ts';

/** How a fenced block's info string is read: `sh run` → runnable shell; `verify` → the step's check. */
export type FenceKind = { kind: 'verify' } | { kind: 'code'; language: string; runnable: boolean };

export function classifyFence(info: string | undefined): FenceKind {
  const words = (info ?? '').trim().split(/\s+/).filter((word) => word.length > 0);
  const language = words[0] ?? '';
  if (language === VERIFY_INFO_STRING && words.length === 1) return { kind: 'verify' };
  // `{run}` is accepted too, for authors used to Pandoc/Quarto-style attributes.
  const runnable = RUNNABLE_LANGUAGES.includes(language) && words.slice(1).some((word) => word === 'run' || word === '{run}');
  return { kind: 'code', language, runnable };
}

export function parseLab(source: unknown): LabParseResult {
  if (typeof source !== 'string' || source.trim().length === 0) {
    return fail({ code: 'empty', message: 'The lab is empty: it must start with a `---` frontmatter block holding at least `title:`.' });
  }
  if (source.length > MAX_LAB_CHARS) {
    return fail({
      code: 'too-large',
      message: `The lab is ${source.length} characters; the limit is ${MAX_LAB_CHARS}. Split it into smaller labs.`,
    });
  }
  try {
    return parseText(source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  } catch (error) {
    // yaml and marked are not documented to throw on any input; if one does, the author still gets a line-less
    // problem rather than a broken page.
    return fail({ code: 'yaml-syntax', message: `The lab could not be read (${String(error)}). Check the frontmatter and fences.` });
  }
}

function fail(...problems: LabProblem[]): LabParseResult {
  return { ok: false, problems };
}

function parseText(text: string): LabParseResult {
  const lines = text.split('\n');
  if (lines[0]?.trimEnd() !== '---') {
    return fail({
      code: 'no-frontmatter',
      message: 'A lab must start with a line `---`, then YAML frontmatter (title, description, ...), then another `---`.',
      line: 1,
    });
  }
  const closeIndex = lines.findIndex((line, index) => index > 0 && (line.trimEnd() === '---' || line.trimEnd() === '...'));
  if (closeIndex < 0) {
    return fail({ code: 'frontmatter-unclosed', message: 'The frontmatter opened on line 1 is never closed: add a line `---` after it.', line: 1 });
  }
  const hidden = hiddenCharacterProblems(text);
  const yamlText = lines.slice(1, closeIndex).join('\n');
  const frontmatter = parseFrontmatter(yamlText, 1);
  const body = lines.slice(closeIndex + 1).join('\n');
  const steps = parseBody(body, closeIndex + 1);
  const problems = [...hidden, ...(frontmatter.ok ? [] : frontmatter.problems), ...steps.problems].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0),
  );
  if (problems.length > 0 || !frontmatter.ok) return { ok: false, problems };
  return { ok: true, lab: { ...frontmatter.value, intro: steps.intro, steps: steps.steps, source: text } };
}

/** At most this many hidden characters are reported per lab; the author fixes them and sees the rest. */
const MAX_HIDDEN_PROBLEMS = 10;

/** Control and bidi characters anywhere in the file, each with its line and column. */
function hiddenCharacterProblems(text: string): LabProblem[] {
  return findHiddenAnywhere(text, MAX_HIDDEN_PROBLEMS).map((hit): LabProblem => {
    const before = text.slice(0, hit.index);
    const line = countNewlines(before) + 1;
    const column = hit.index - before.lastIndexOf('\n');
    return {
      code: 'hidden-character',
      message: `the invisible character ${describeCharacter(hit.codePoint)} at column ${column}: ${whyRefused(hit.kind)}. Remove it.`,
      line,
      column,
    };
  });
}

type FrontmatterResult =
  | { ok: true; value: ReturnType<typeof labFrontmatterSchema.parse> }
  | { ok: false; problems: LabProblem[] };

/** `lineOffset` is how many file lines precede the YAML text (the opening `---`). */
function parseFrontmatter(yamlText: string, lineOffset: number): FrontmatterResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Pick<LabProblem, 'line' | 'column'> => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + lineOffset, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        code: 'yaml-syntax' as const,
        message: `YAML syntax error in the frontmatter: ${error.message.split('\n')[0] ?? error.code}`,
        ...at(error.pos[0]),
      })),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return { ok: false, problems: [{ code: 'schema', message: 'The frontmatter is empty: it needs at least `title: ...`.', line: lineOffset + 1 }] };
  }
  const parsed = labFrontmatterSchema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => issueToProblem(issue, doc, at)) };
}

type ZodIssue = z.ZodError['issues'][number];

function issueToProblem(issue: ZodIssue, doc: Document, at: (offset: number) => Pick<LabProblem, 'line' | 'column'>): LabProblem {
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  const found = findNode(doc, path);
  let offset = found.node?.range?.[0] ?? 0;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const keyNode = isMap(found.node) ? found.node.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.key : undefined;
    if (isScalar(keyNode) && keyNode.range) offset = keyNode.range[0];
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: ` +
      `allowed are ${allowedKeys(path).join(', ')}`;
  } else if (!found.complete) {
    message = `${message} (missing in the mapping that starts here)`;
  }
  const where = formatPath(path);
  return { code: 'schema', message: where ? `${where}: ${message}` : message, ...at(offset) };
}

function allowedKeys(path: readonly (string | number)[]): string[] {
  return path.length === 0 ? Object.keys(labFrontmatterSchema.shape) : ['path', 'content', 'mode'];
}

/** `files[0].mode` from ['files', 0, 'mode']. */
function formatPath(path: readonly (string | number)[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

/** The YAML node at a zod issue path, or the deepest ancestor that exists (a missing key points at its map). */
function findNode(doc: Document, path: readonly (string | number)[]): { node: YamlNode | null; complete: boolean } {
  let node: unknown = doc.contents;
  for (const part of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part));
      next = pair?.value ?? undefined;
    } else if (isSeq(node) && typeof part === 'number') {
      next = node.items[part];
    }
    if (next === undefined || next === null) return { node: node as YamlNode | null, complete: false };
    node = next;
  }
  return { node: node as YamlNode | null, complete: true };
}

interface BodyResult {
  intro: string;
  steps: LabStep[];
  problems: LabProblem[];
}

const lexer = new Marked({ gfm: true });

/** Splits the Markdown body into an intro and `## ` steps. `lineOffset`: file lines before the body. */
function parseBody(body: string, lineOffset: number): BodyResult {
  const tokens: TokensList = lexer.lexer(body);
  const problems: LabProblem[] = [];
  const steps: LabStep[] = [];
  let intro = '';
  let current: { step: LabStep; verifyLine: number | null } | null = null;
  // Top-level token raws concatenate back to the body (marked's lexer keeps whitespace as 'space' tokens),
  // so a running offset gives each token's line.
  let line = lineOffset + 1;
  for (const token of tokens) {
    const tokenLine = line;
    line += countNewlines(token.raw);
    if (token.type === 'heading' && (token as Tokens.Heading).depth === 2) {
      if (current) steps.push(finishStep(current.step));
      current = { step: { title: (token as Tokens.Heading).text.trim(), markdown: '', blocks: [], verify: null, line: tokenLine }, verifyLine: null };
      continue;
    }
    // Intro blocks get Run buttons too, so every fenced block of the body is checked, wherever it is.
    problems.push(...invisibleInCode(token, tokenLine));
    if (!current) {
      if (token.type === 'code' && classifyFence((token as Tokens.Code).lang).kind === 'verify') {
        problems.push({ code: 'misplaced-verify', message: 'A `verify` block before the first `## ` step checks nothing: move it into a step.', line: tokenLine });
      }
      intro += token.raw;
      continue;
    }
    const step = current.step;
    if (token.type === 'code' && classifyFence((token as Tokens.Code).lang).kind === 'verify') {
      const command = (token as Tokens.Code).text.trim();
      if (current.verifyLine !== null) {
        problems.push({
          code: 'duplicate-verify',
          message: `Step "${step.title}" has a second \`verify\` block (the first is on line ${current.verifyLine}); join them with && into one.`,
          line: tokenLine,
        });
      } else if (command.length === 0) {
        problems.push({ code: 'empty-verify', message: `Step "${step.title}" has an empty \`verify\` block: put a shell command in it or remove it.`, line: tokenLine });
      }
      current.verifyLine ??= tokenLine;
      step.verify ??= command.length > 0 ? command : null;
      continue;
    }
    step.markdown += token.raw;
    const nestedVerifyLine = collectBlocks(token, tokenLine, step.blocks);
    if (nestedVerifyLine !== null) {
      problems.push({
        code: 'misplaced-verify',
        message: `Step "${step.title}" has a \`verify\` block inside a list or quote; put it at the top level of the step (not indented).`,
        line: nestedVerifyLine,
      });
    }
  }
  if (current) steps.push(finishStep(current.step));
  if (steps.length === 0) {
    problems.push({ code: 'no-steps', message: 'The lab has no steps: start each step with a `## ` heading after the frontmatter.', line: lineOffset + 1 });
  }
  return { intro: intro.trim(), steps, problems };
}

function finishStep(step: LabStep): LabStep {
  return { ...step, markdown: step.markdown.trim() };
}

/**
 * Fenced blocks anywhere inside a top-level token (lists, blockquotes), in document order. Returns the line
 * of a nested `verify` block (which would be ignored), or null.
 */
function collectBlocks(token: Token, tokenLine: number, into: LabCodeBlock[]): number | null {
  let nestedVerifyLine: number | null = null;
  lexer.walkTokens([token], (inner) => {
    if (inner.type !== 'code') return;
    const code = inner as Tokens.Code;
    const fence = classifyFence(code.lang);
    const line = fenceLineOf(code, token, tokenLine);
    if (fence.kind === 'verify') nestedVerifyLine ??= line;
    else into.push({ language: fence.language, code: code.text, runnable: fence.runnable, line });
  });
  return nestedVerifyLine;
}

/** The 1-based line of a fenced block's opening fence, for a block anywhere inside a top-level token. */
function fenceLineOf(code: Tokens.Code, token: Token, tokenLine: number): number {
  // Inside lists marked de-indents the block's raw, so look for its opening fence line instead.
  const fenceLine = code.raw.split('\n')[0]?.trim() ?? '';
  const before = fenceLine.length > 0 ? token.raw.indexOf(fenceLine) : -1;
  return tokenLine + (before > 0 ? countNewlines(token.raw.slice(0, before)) : 0);
}

/**
 * Zero-width, bidi-mark and other invisible characters inside fenced blocks (Run blocks, shown commands a
 * reader may copy, verify). Control and bidi-override characters are reported for the whole file already.
 */
function invisibleInCode(token: Token, tokenLine: number): LabProblem[] {
  const problems: LabProblem[] = [];
  lexer.walkTokens([token], (inner) => {
    if (inner.type !== 'code') return;
    const code = inner as Tokens.Code;
    const hit = findHiddenInCommand(code.text);
    if (!hit || hit.kind !== 'invisible') return;
    // An indented block (no fence) starts on its first line; a fenced one a line later.
    const fenced = /^\s*(?:`{3,}|~{3,})/.test(code.raw);
    const line = fenceLineOf(code, token, tokenLine) + (fenced ? 1 : 0) + countNewlines(code.text.slice(0, hit.index));
    const what = classifyFence(code.lang).kind === 'verify' ? 'This `verify` command' : 'This code block';
    problems.push({
      code: 'hidden-character',
      message: `${what} holds the invisible character ${describeCharacter(hit.codePoint)}; ${whyRefused(hit.kind)}. Remove it.`,
      line,
    });
  });
  return problems;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) count += 1;
  return count;
}
