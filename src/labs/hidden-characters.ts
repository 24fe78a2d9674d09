// Characters a lab may not hide in what it shows and runs (issue #24, item 9): terminal control characters (a
// Run block is typed into readline, where Ctrl-A, Ctrl-E, Ctrl-H edit the line, so `echo "curl ... | sh"` plus
// a few of them runs the curl) and invisible Unicode format characters (bidi overrides reorder what is shown,
// CVE-2021-42574 "Trojan Source"; zero-width ones hide text) in commands.

/**
 * 'control': C0 (except tab and newline), DEL and C1. 'bidi': embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069). Both are refused anywhere in a lab file. 'invisible': other characters that display as
 * nothing (zero-width, bidi marks, tags, fillers); refused in commands and code blocks only, since prose may
 * need them (an emoji joined with U+200D, a Persian word with U+200C, a right-to-left mark).
 */
export type HiddenCharacterKind = 'control' | 'bidi' | 'invisible';

export interface HiddenCharacter {
  kind: HiddenCharacterKind;
  codePoint: number;
  /** UTF-16 index in the searched text. */
  index: number;
}

const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/u;
// Default_Ignorable_Code_Point (Unicode's "render as nothing" property) without the variation selectors that
// emoji need (U+FE00-U+FE0F, U+E0100-U+E01EF); plus interlinear annotations and line/paragraph separators,
// which are not default-ignorable but are invisible or break a line without being a newline.
const INVISIBLE = /(?![\uFE00-\uFE0F\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}|[\uFFF9-\uFFFB\u2028\u2029]/u;

/** Refused anywhere in a lab file. */
const ANYWHERE = new RegExp(`${CONTROL.source}|${BIDI.source}`, 'gu');
/** Refused in anything that runs or is meant to be copied into a shell. */
const IN_COMMANDS = new RegExp(`${CONTROL.source}|${BIDI.source}|${INVISIBLE.source}`, 'gu');

function classify(char: string): HiddenCharacterKind {
  if (CONTROL.test(char)) return 'control';
  return BIDI.test(char) ? 'bidi' : 'invisible';
}

function findAll(text: string, pattern: RegExp, limit: number): HiddenCharacter[] {
  const found: HiddenCharacter[] = [];
  for (const match of text.matchAll(pattern)) {
    found.push({ kind: classify(match[0]), codePoint: match[0].codePointAt(0) ?? 0, index: match.index });
    if (found.length >= limit) break;
  }
  return found;
}

/** Control and bidi characters anywhere (the whole lab file), at most `limit` of them. */
export function findHiddenAnywhere(text: string, limit = Number.POSITIVE_INFINITY): HiddenCharacter[] {
  return findAll(text, ANYWHERE, limit);
}

/** The first control, bidi or invisible character in a command or code block, or null. */
export function findHiddenInCommand(text: string): HiddenCharacter | null {
  return findAll(text, IN_COMMANDS, 1)[0] ?? null;
}

const NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x1b: 'Escape',
  0x7f: 'Delete',
  0x00ad: 'soft hyphen',
  0x061c: 'Arabic letter mark',
  0x200b: 'zero width space',
  0x200c: 'zero width non-joiner',
  0x200d: 'zero width joiner',
  0x200e: 'left-to-right mark',
  0x200f: 'right-to-left mark',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override',
  0x2060: 'word joiner',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
  0xfeff: 'zero width no-break space',
};

/** "U+0001 (Ctrl-A)", "U+202E (right-to-left override)". */
export function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMES[codePoint] ?? (codePoint >= 0x01 && codePoint <= 0x1f ? `Ctrl-${String.fromCharCode(0x40 + codePoint)}` : undefined);
  return name === undefined ? hex : `${hex} (${name})`;
}

/** Why a character of this kind is refused, for problem messages. */
const WHY_REFUSED: Record<HiddenCharacterKind, string> = {
  control: 'a terminal acts on control characters (Ctrl-A, Ctrl-E, Ctrl-H edit the command line), so what runs would not be what is shown',
  bidi: 'it reorders how the text around it is displayed (the "Trojan Source" trick), so what is shown would not be what runs',
  invisible: 'it displays as nothing, so a command holding it is not what it looks like',
};

export function whyRefused(kind: HiddenCharacterKind): string {
  return WHY_REFUSED[kind];
}
