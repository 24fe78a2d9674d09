// `?stack=` links: the Play with Docker query, read into a URL or a sentence that says what is wrong.
import { describe, expect, it } from 'vitest';
import { readStackRef } from './stack-link.ts';

const PAGE = 'https://tabdock.example/';

describe('readStackRef', () => {
  it('reads the URL the old "Try in PWD" buttons carry; no query means no stack', () => {
    expect(readStackRef('?stack=https://raw.githubusercontent.com/acme/app/main/docker-compose.yml', PAGE)).toEqual({
      ok: true,
      value: { kind: 'url', url: 'https://raw.githubusercontent.com/acme/app/main/docker-compose.yml' },
    });
    expect(readStackRef('', PAGE)).toEqual({ ok: true, value: { kind: 'none' } });
    expect(readStackRef('?lab=docker-basics', PAGE)).toEqual({ ok: true, value: { kind: 'none' } });
  });

  it('turns a GitHub page link into its raw file', () => {
    expect(readStackRef('?stack=https%3A%2F%2Fgithub.com%2Facme%2Fapp%2Fblob%2Fmain%2Fstack.yml', PAGE)).toEqual({
      ok: true,
      value: { kind: 'url', url: 'https://raw.githubusercontent.com/acme/app/main/stack.yml' },
    });
  });

  it('refuses an empty, non-http, credential-carrying or overlong link with a sentence', () => {
    for (const search of ['?stack=', '?stack=javascript:alert(1)', '?stack=file:///etc/passwd', '?stack=https://user:pw@example.com/c.yml', `?stack=https://example.com/${'a'.repeat(2_100)}`, '?stack=http://[::1']) {
      const result = readStackRef(search, PAGE);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('bad-link');
        expect(result.error.message.length).toBeGreaterThan(20);
      }
    }
  });
});
