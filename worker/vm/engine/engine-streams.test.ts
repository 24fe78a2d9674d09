import { describe, expect, it } from 'vitest';
import { JsonLineDecoder, LogStreamDecoder } from './engine-streams.ts';

const enc = (text: string) => new TextEncoder().encode(text);

function frame(stream: number, text: string): Uint8Array {
  const payload = enc(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

describe('JsonLineDecoder', () => {
  it('joins lines split across chunks, including inside a UTF-8 character', () => {
    const decoder = new JsonLineDecoder();
    const bytes = enc('{"Type":"container","name":"caf\u00e9"}\n{"a":');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    expect(decoder.push(bytes.subarray(0, cut))).toEqual([]);
    expect(decoder.push(bytes.subarray(cut))).toEqual([{ kind: 'json', value: { Type: 'container', name: 'café' } }]);
    expect(decoder.push(enc('1}\n\n'))).toEqual([{ kind: 'json', value: { a: 1 } }]);
  });

  it('gives a line that is not JSON as text, and a last line without newline at the end', () => {
    const decoder = new JsonLineDecoder();
    expect(decoder.push(enc('not json\n{"x":2}'))).toEqual([{ kind: 'text', text: 'not json' }]);
    expect(decoder.end()).toEqual([{ kind: 'json', value: { x: 2 } }]);
  });

  it('cuts a runaway line instead of growing without bound', () => {
    const decoder = new JsonLineDecoder(1000);
    const out = decoder.push(enc('x'.repeat(1500)));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'text', text: expect.stringContaining('1500 characters without a line break') });
  });
});

describe('LogStreamDecoder', () => {
  it('splits multiplexed frames into stdout and stderr, across chunk boundaries', () => {
    const decoder = new LogStreamDecoder(true);
    const bytes = new Uint8Array([...frame(1, 'out line\n'), ...frame(2, 'err line\n')]);
    expect(decoder.push(bytes.subarray(0, 5))).toEqual([]);
    expect(decoder.push(bytes.subarray(5, 20))).toEqual([{ stream: 'stdout', text: 'out line\n' }]);
    expect(decoder.push(bytes.subarray(20))).toEqual([{ stream: 'stderr', text: 'err line\n' }]);
  });

  it('passes a TTY container raw stream through as stdout', () => {
    expect(new LogStreamDecoder(false).push(enc('\x1b[1mhi\r\n'))).toEqual([{ stream: 'stdout', text: '\x1b[1mhi\r\n' }]);
  });
});
