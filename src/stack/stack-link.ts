// `?stack=<URL of a Compose file>`: the query the old "Try in PWD" buttons carry
// (https://labs.play-with-docker.com/?stack=...), read from the page's address. Never throws.
import { stackError, type StackResult } from './stack-errors.ts';

/** Longer links are refused: nothing legitimate needs more, and the address is shown to the reader. */
export const MAX_STACK_URL_CHARS = 2_000;

export type StackRef = { kind: 'none' } | { kind: 'url'; url: string };

export function readStackRef(search: string, baseHref: string): StackResult<StackRef> {
  const value = new URLSearchParams(search).get('stack');
  if (value === null) return { ok: true, value: { kind: 'none' } };
  const text = value.trim();
  if (text === '') {
    return stackError('bad-link', 'This stack link names no Compose file: it needs `?stack=<URL of a docker-compose.yml>`. Ask its author for the full link.');
  }
  if (text.length > MAX_STACK_URL_CHARS) {
    return stackError('bad-link', `This stack link is too long (${text.length} characters, limit ${MAX_STACK_URL_CHARS}). Ask its author for a link to the Compose file.`);
  }
  let url: URL;
  try {
    url = new URL(text, baseHref);
  } catch (error) {
    return stackError('bad-link', `"${text.slice(0, 200)}" is not a valid address. A stack link is ?stack=<http(s) URL of a Compose file>.`, String(error));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return stackError('bad-link', `Stack files load only over http(s), not ${url.protocol}. Link to the raw Compose file over https://.`, text.slice(0, 200));
  }
  if (url.username !== '' || url.password !== '') {
    return stackError('bad-link', 'This stack link carries a user name or password in its address; tabdock does not send them. Link to a public Compose file.', url.host);
  }
  // https://github.com/OWNER/REPO/blob/REF/PATH → the raw file, which GitHub serves with CORS.
  const blob = url.hostname === 'github.com' ? /^\/([^/]+)\/([^/]+)\/blob\/(.+)$/.exec(url.pathname) : null;
  if (blob) return { ok: true, value: { kind: 'url', url: `https://raw.githubusercontent.com/${blob[1]}/${blob[2]}/${blob[3]}` } };
  return { ok: true, value: { kind: 'url', url: url.href } };
}
