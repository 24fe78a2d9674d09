// The lab format: a Markdown file with YAML frontmatter. This file holds the frontmatter schema (zod), the
// parsed lab's types and the error union shared by the parser, the link codec and the panel.
// Authoring guide: src/labs/README.md.
import { z } from 'zod';
import { describeCharacter, findHiddenInCommand, whyRefused } from './hidden-characters.ts';

/** A lab source bigger than this is refused (fetched, pasted or carried in a link). */
export const MAX_LAB_CHARS = 256 * 1024;
/** Default and bounds for one verify command's time limit. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 10_000;
export const MIN_VERIFY_TIMEOUT_MS = 1_000;
export const MAX_VERIFY_TIMEOUT_MS = 120_000;

/**
 * Fenced blocks whose info string starts with one of these languages and contains the word `run`
 * (```sh run, ```bash run) get a Run button. A block whose info string is exactly `verify` is the step's check.
 */
export const RUNNABLE_LANGUAGES: readonly string[] = ['sh', 'bash', 'shell', 'console'];
export const VERIFY_INFO_STRING = 'verify';

// Image references as the docker CLI accepts them: [registry/]name[:tag][@digest], lower-case path parts.
// Source: distribution/reference grammar (reference/regexp.go), simplified to what a lab needs.
const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Strings that end up in the setup script the reader is shown, then run: no hidden characters (issue #24). */
function refuseHiddenCharacters(value: string, ctx: z.RefinementCtx): void {
  const hit = findHiddenInCommand(value);
  if (hit) ctx.addIssue({ code: 'custom', message: `holds the invisible character ${describeCharacter(hit.codePoint)}; ${whyRefused(hit.kind)}. Remove it.` });
}

const fileSchema = z.strictObject({
  path: z
    .string({ error: 'expected a string, e.g. /root/lab/Dockerfile' })
    .regex(/^\/[^\0]*[^/]$/, { error: 'expected an absolute file path in the guest, e.g. /root/lab/Dockerfile' })
    .refine((path) => !path.split('/').includes('..'), { error: 'must not contain ".." parts' })
    .superRefine(refuseHiddenCharacters),
  content: z.string({ error: 'expected a string (use a YAML block scalar: `content: |`)' }),
  // A string, so 0755 is not read by YAML as the decimal number 755 (YAML 1.2 has no 0-prefixed octal).
  mode: z
    .string({ error: 'expected a quoted octal string such as "0755"' })
    .regex(/^0?[0-7]{3}$/, { error: 'expected a quoted octal string such as "0755"' })
    .optional(),
});

export const labFrontmatterSchema = z.strictObject({
  title: z.string({ error: 'required: one short line of text' }).trim().min(1, { error: 'must not be empty' }).max(120),
  description: z.string({ error: 'expected a string' }).max(2000).optional(),
  images: z
    .array(z.string().regex(IMAGE_REF, { error: 'expected an image reference such as busybox or tabdock/httpd:latest' }), {
      error: 'expected a list of image references, e.g. [busybox]',
    })
    .max(20)
    .default([]),
  setup: z.array(z.string({ error: 'expected one shell command (a string)' }).min(1).superRefine(refuseHiddenCharacters), { error: 'expected a list of shell commands' }).max(50).default([]),
  files: z.array(fileSchema, { error: 'expected a list of {path, content, mode?}' }).max(50).default([]),
  verifyTimeoutMs: z
    .number({ error: 'expected a number of milliseconds' })
    .int()
    .min(MIN_VERIFY_TIMEOUT_MS)
    .max(MAX_VERIFY_TIMEOUT_MS)
    .default(DEFAULT_VERIFY_TIMEOUT_MS),
});

export type LabFrontmatter = z.infer<typeof labFrontmatterSchema>;
export type LabFile = z.infer<typeof fileSchema>;

/** One fenced code block of a step, in document order. */
export interface LabCodeBlock {
  /** Language from the info string ('' when none). */
  language: string;
  code: string;
  /** True for ```sh run and friends: the panel gives it a Run button. */
  runnable: boolean;
  /** 1-based line of the opening fence in the lab file. */
  line: number;
}

export interface LabStep {
  /** The `## ` heading's text (inline Markdown). */
  title: string;
  /** The step's Markdown after its heading, verify block removed. */
  markdown: string;
  blocks: LabCodeBlock[];
  /** Shell command whose exit status 0 marks the step done; null when the step has no check. */
  verify: string | null;
  /** 1-based line of the step's heading. */
  line: number;
}

export interface Lab extends LabFrontmatter {
  /** Markdown between the frontmatter and the first step. */
  intro: string;
  steps: LabStep[];
  /** The original text, kept for sharing and for the author mode. */
  source: string;
}

export type LabErrorCode =
  | 'empty'
  | 'too-large'
  | 'no-frontmatter'
  | 'frontmatter-unclosed'
  | 'yaml-syntax'
  | 'schema'
  | 'no-steps'
  | 'duplicate-verify'
  | 'empty-verify'
  | 'misplaced-verify'
  /** A control, bidi or invisible character where it could make what runs differ from what is shown. */
  | 'hidden-character';

/** One problem found in a lab source; `line` is 1-based in the whole file when known. */
export interface LabProblem {
  code: LabErrorCode;
  /** A sentence that says what is wrong and how to fix it. */
  message: string;
  line?: number;
  column?: number;
}

export type LabParseResult = { ok: true; lab: Lab } | { ok: false; problems: LabProblem[] };

/** "line 12: title is required" — how problems are shown in the author mode and load errors. */
export function formatLabProblem(problem: LabProblem): string {
  return problem.line === undefined ? problem.message : `line ${problem.line}: ${problem.message}`;
}
