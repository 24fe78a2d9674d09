// Which characters count as hidden: control and bidi characters anywhere, invisible ones in commands; tab,
// newline, emoji variation selectors and ordinary text never.
import { describe, expect, it } from 'vitest';
import { describeCharacter, findHiddenAnywhere, findHiddenInCommand } from './hidden-characters.ts';

describe('hidden characters', () => {
  it('finds every C0 control but tab and newline, DEL and C1, with their index', () => {
    const controls = Array.from({ length: 0x20 }, (_, code) => code).filter((code) => code !== 0x09 && code !== 0x0a);
    for (const code of [...controls, 0x7f, 0x80, 0x9b, 0x9f]) {
      expect(findHiddenAnywhere(`ab${String.fromCharCode(code)}c`), `U+${code.toString(16)}`).toEqual([{ kind: 'control', codePoint: code, index: 2 }]);
    }
    expect(findHiddenAnywhere('a\tb\nc ä € 😀')).toEqual([]);
  });

  it('finds bidi embeddings, overrides and isolates anywhere, but leaves marks and zero-width characters to prose', () => {
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(findHiddenAnywhere(String.fromCodePoint(code))).toEqual([{ kind: 'bidi', codePoint: code, index: 0 }]);
    }
    expect(findHiddenAnywhere('\u200b\u200c\u200d\u200e\u200f\u061c')).toEqual([]);
    expect(findHiddenAnywhere('\u0001\u0002\u0003', 2)).toHaveLength(2);
  });

  it('in commands, also finds zero-width, marks, fillers, tags and separators; emoji variation selectors pass', () => {
    for (const code of [0x00ad, 0x034f, 0x061c, 0x115f, 0x180e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2060, 0x2064, 0x3164, 0xfeff, 0xfff9, 0xe0001, 0xe0041]) {
      expect(findHiddenInCommand(`echo ${String.fromCodePoint(code)}x`), `U+${code.toString(16)}`).toEqual({ kind: 'invisible', codePoint: code, index: 5 });
    }
    expect(findHiddenInCommand('echo \u202e')).toMatchObject({ kind: 'bidi' });
    expect(findHiddenInCommand('printf "\\t\\x01"\techo ❤️ \u{E0100}ok\n')).toBeNull();
  });

  it('names characters the way a reader knows them', () => {
    expect(describeCharacter(0x01)).toBe('U+0001 (Ctrl-A)');
    expect(describeCharacter(0x08)).toBe('U+0008 (Ctrl-H)');
    expect(describeCharacter(0x1b)).toBe('U+001B (Escape)');
    expect(describeCharacter(0x202e)).toBe('U+202E (right-to-left override)');
    expect(describeCharacter(0xe0041)).toBe('U+E0041');
  });
});
