// The link codec: round trips, and damaged, cut, oversized or hostile links give typed errors, never exceptions.
import { describe, expect, it } from 'vitest';
import {
  decodeLabPayload,
  encodeLabPayload,
  fromBase64Url,
  makeShareLink,
  MAX_LINK_PAYLOAD_CHARS,
  readLabRef,
  resolveLabUrl,
  toBase64Url,
} from './lab-link.ts';
import { EXAMPLE_LABS } from './examples/index.ts';

const LAB = '---\ntitle: Tiny\n---\n## Step\n```sh run\necho "héllo ✓"\n```\n';

async function payloadOf(source: string): Promise<string> {
  const encoded = await encodeLabPayload(source);
  if (!encoded.ok) throw new Error(encoded.error.message);
  return encoded.value;
}

/** deflate-raw of arbitrary bytes, made with the same platform stream the codec uses. */
async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('lab link payload', () => {
  it('round-trips a lab, including non-ASCII text', async () => {
    const payload = await payloadOf(LAB);
    expect(payload).toMatch(/^1\.[A-Za-z0-9_-]+$/);
    expect(await decodeLabPayload(payload)).toEqual({ ok: true, value: LAB });
  });

  it.each(EXAMPLE_LABS.map((example) => [example.id, example.source] as const))('round-trips the bundled lab %s', async (_id, source) => {
    expect(await decodeLabPayload(await payloadOf(source))).toEqual({ ok: true, value: source });
  });

  it('rejects a truncated link as corrupt or malformed', async () => {
    const payload = await payloadOf(EXAMPLE_LABS[0]?.source ?? LAB);
    for (const cut of [3, 10, Math.floor(payload.length / 2), payload.length - 4]) {
      const result = await decodeLabPayload(payload.slice(0, cut));
      expect(result.ok, `cut at ${cut}`).toBe(false);
      if (!result.ok) expect(['link-corrupt', 'link-malformed']).toContain(result.error.code);
    }
  });

  it('rejects a wrong version, bad characters and non-deflate data', async () => {
    expect(await decodeLabPayload('2.abc')).toMatchObject({ ok: false, error: { code: 'link-malformed' } });
    expect(await decodeLabPayload('1.ab$c')).toMatchObject({ ok: false, error: { code: 'link-malformed' } });
    expect(await decodeLabPayload('1.' + toBase64Url(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x00])))).toMatchObject({
      ok: false,
      error: { code: 'link-corrupt' },
    });
  });

  it('rejects an overlong link before decoding it', async () => {
    const result = await decodeLabPayload('1.' + 'A'.repeat(MAX_LINK_PAYLOAD_CHARS));
    expect(result).toMatchObject({ ok: false, error: { code: 'link-too-long' } });
  });

  it('stops a deflate bomb at the size limit', async () => {
    const bomb = await deflate(new Uint8Array(8 * 1024 * 1024));
    const payload = '1.' + toBase64Url(bomb);
    expect(payload.length).toBeLessThan(MAX_LINK_PAYLOAD_CHARS);
    expect(await decodeLabPayload(payload)).toMatchObject({ ok: false, error: { code: 'lab-too-large' } });
  });

  it('rejects bytes that are not UTF-8', async () => {
    const payload = '1.' + toBase64Url(await deflate(new Uint8Array([0xc3, 0x28, 0xff])));
    expect(await decodeLabPayload(payload)).toMatchObject({ ok: false, error: { code: 'link-corrupt' } });
  });

  it('refuses to encode a lab too big for a link, and says what to do instead', async () => {
    // Random text does not compress, so this is far past the link limit.
    const noise = crypto.getRandomValues(new Uint8Array(60_000));
    const text = '---\ntitle: Big\n---\n## s\n' + Array.from(noise, (byte) => String.fromCharCode(33 + (byte % 90))).join('');
    const result = await encodeLabPayload(text);
    expect(result).toMatchObject({ ok: false, error: { code: 'link-too-long' } });
    if (!result.ok) expect(result.error.message).toContain('?lab=');
  });

  it('base64url round-trips every byte value and rejects impossible lengths', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, index) => index);
    expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
    expect(fromBase64Url('abcde')).toBeNull();
    expect(fromBase64Url('ab+/')).toBeNull();
  });

  it('fuzz: random payloads never throw and always settle to a typed result', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%$ ';
    let state = 12345;
    const next = (): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state;
    };
    for (let round = 0; round < 200; round += 1) {
      let payload = round % 3 === 0 ? '' : '1.';
      const length = next() % 200;
      for (let index = 0; index < length; index += 1) payload += alphabet[next() % alphabet.length];
      const result = await decodeLabPayload(payload);
      if (!result.ok) expect(result.error.message.length, payload).toBeGreaterThan(10);
      else expect(typeof result.value).toBe('string');
    }
  });
});

describe('lab references and share links', () => {
  const page = 'https://tabdock.example/app/?x=1#old';
  const at = (href: string) => {
    const url = new URL(href);
    return { href: url.href, search: url.search, hash: url.hash };
  };

  it('reads ?lab= URLs, bundled example ids and #lab= payloads', () => {
    expect(readLabRef(at('https://t.example/?lab=docker-basics'), ['docker-basics'])).toEqual({
      ok: true,
      value: { kind: 'example', id: 'docker-basics' },
    });
    expect(readLabRef(at('https://t.example/app/?lab=labs/x.md'), [])).toEqual({
      ok: true,
      value: { kind: 'url', url: 'https://t.example/app/labs/x.md' },
    });
    expect(readLabRef(at('https://t.example/#lab=1.abc'), [])).toEqual({ ok: true, value: { kind: 'inline', payload: '1.abc' } });
    expect(readLabRef(at('https://t.example/'), [])).toEqual({ ok: true, value: { kind: 'none' } });
    expect(readLabRef(at('https://t.example/?lab=javascript:alert(1)'), [])).toMatchObject({ ok: false, error: { code: 'bad-url' } });
  });

  it('turns GitHub blob pages into raw file URLs', () => {
    expect(resolveLabUrl('https://github.com/o/r/blob/main/labs/a.md', page)).toEqual({
      ok: true,
      value: 'https://raw.githubusercontent.com/o/r/main/labs/a.md',
    });
  });

  it('shares a URL lab as ?lab=, an example by id, and an inline lab as #lab= that decodes back', async () => {
    expect(await makeShareLink(LAB, { kind: 'url', url: 'https://h.example/a.md' }, page)).toEqual({
      ok: true,
      value: 'https://tabdock.example/app/?lab=https%3A%2F%2Fh.example%2Fa.md',
    });
    expect(await makeShareLink(LAB, { kind: 'example', id: 'docker-basics' }, page)).toEqual({
      ok: true,
      value: 'https://tabdock.example/app/?lab=docker-basics',
    });
    const inline = await makeShareLink(LAB, { kind: 'inline' }, page);
    if (!inline.ok) throw new Error(inline.error.message);
    const ref = readLabRef(at(inline.value), []);
    if (!ref.ok || ref.value.kind !== 'inline') throw new Error('expected an inline lab reference');
    expect(await decodeLabPayload(ref.value.payload)).toEqual({ ok: true, value: LAB });
  });
});
