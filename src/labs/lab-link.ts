// Lab links: `?lab=<url or example id>` points at a lab, `#lab=<data>` carries a small lab inside the link.
// <data> is "1." + base64url(deflate-raw(UTF-8 text)). Every function returns a result; none throws.
// CompressionStream('deflate-raw') is built into browsers and Node 20, so no compression library is needed.
import { readAtMost } from './read-at-most.ts';


/** Longest `#lab=` payload we make or accept. Chat apps and QR codes choke well before browsers' URL limits. */
export const MAX_LINK_PAYLOAD_CHARS = 32_000;
/** Most bytes a link may inflate to (a deflate bomb stops here) and most bytes fetched for a `?lab=` URL. */
export const MAX_LAB_BYTES = 1024 * 1024;
const PAYLOAD_VERSION = '1.';

export type LabLinkErrorCode =
  | 'link-too-long'
  | 'link-malformed'
  | 'link-corrupt'
  | 'lab-too-large'
  | 'bad-url'
  | 'http-not-found'
  | 'http-status'
  | 'network'
  | 'timeout'
  | 'not-a-lab'
  | 'invalid-lab';

export interface LabLinkError {
  code: LabLinkErrorCode;
  /** A sentence that says what went wrong and what to do. */
  message: string;
  /** Raw detail: URL, status, the underlying exception. */
  detail?: string;
}

export type LinkResult<T> = { ok: true; value: T } | { ok: false; error: LabLinkError };

/** Where a lab came from; decides what Share produces. */
export type LabOrigin = { kind: 'url'; url: string } | { kind: 'example'; id: string } | { kind: 'inline' };

/** What a page address asks for. */
export type LabRef =
  | { kind: 'none' }
  | { kind: 'url'; url: string }
  | { kind: 'example'; id: string }
  | { kind: 'inline'; payload: string };

const EXAMPLE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function linkError(code: LabLinkErrorCode, message: string, detail?: string): { ok: false; error: LabLinkError } {
  return { ok: false, error: detail === undefined ? { code, message } : { code, message, detail } };
}

/** Reads `?lab=` (preferred) or `#lab=` from a location; `exampleIds` are the bundled labs' ids. */
export function readLabRef(location: Pick<Location, 'search' | 'hash' | 'href'>, exampleIds: readonly string[]): LinkResult<LabRef> {
  const fromQuery = new URLSearchParams(location.search).get('lab');
  if (fromQuery !== null && fromQuery.trim() !== '') {
    const value = fromQuery.trim();
    if (EXAMPLE_ID.test(value) && exampleIds.includes(value)) return { ok: true, value: { kind: 'example', id: value } };
    const url = resolveLabUrl(value, location.href);
    return url.ok ? { ok: true, value: { kind: 'url', url: url.value } } : url;
  }
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  const fromHash = new URLSearchParams(hash).get('lab');
  if (fromHash !== null && fromHash !== '') return { ok: true, value: { kind: 'inline', payload: fromHash } };
  return { ok: true, value: { kind: 'none' } };
}

/** An absolute http(s) URL for a lab; GitHub "blob" pages become their raw file, which GitHub serves with CORS. */
export function resolveLabUrl(value: string, baseHref: string): LinkResult<string> {
  let url: URL;
  try {
    url = new URL(value, baseHref);
  } catch (error) {
    return linkError('bad-url', `"${value}" is not a valid lab address. Use an http(s) URL of a lab's .md file.`, String(error));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return linkError('bad-url', `Labs load only over http(s), not ${url.protocol}. Use an https:// URL of the lab's .md file.`, value);
  }
  // https://github.com/OWNER/REPO/blob/REF/PATH → https://raw.githubusercontent.com/OWNER/REPO/REF/PATH
  const blob = url.hostname === 'github.com' ? /^\/([^/]+)\/([^/]+)\/blob\/(.+)$/.exec(url.pathname) : null;
  if (blob) return { ok: true, value: `https://raw.githubusercontent.com/${blob[1]}/${blob[2]}/${blob[3]}` };
  return { ok: true, value: url.href };
}

/** The `#lab=` payload for a lab's text. */
export async function encodeLabPayload(source: string): Promise<LinkResult<string>> {
  const compressed = await pipeThrough(new TextEncoder().encode(source), new CompressionStream('deflate-raw'), Number.POSITIVE_INFINITY);
  if (!compressed.ok) return compressed;
  const payload = PAYLOAD_VERSION + toBase64Url(compressed.value);
  if (payload.length > MAX_LINK_PAYLOAD_CHARS) {
    return linkError(
      'link-too-long',
      `This lab is too big to fit in a link (${payload.length} characters compressed, limit ${MAX_LINK_PAYLOAD_CHARS}). ` +
        'Publish the .md file at a URL (e.g. a GitHub repository or gist) and share ?lab=<that URL> instead.',
    );
  }
  return { ok: true, value: payload };
}

/** The lab text inside a `#lab=` payload. */
export async function decodeLabPayload(payload: string): Promise<LinkResult<string>> {
  if (payload.length > MAX_LINK_PAYLOAD_CHARS) {
    return linkError('link-too-long', `This lab link is too long (${payload.length} characters, limit ${MAX_LINK_PAYLOAD_CHARS}); ask its author for a ?lab=<URL> link.`);
  }
  if (!payload.startsWith(PAYLOAD_VERSION)) {
    return linkError('link-malformed', 'This lab link is not in a format this version of tabdock reads. Ask its author to share it again.', payload.slice(0, 40));
  }
  const bytes = fromBase64Url(payload.slice(PAYLOAD_VERSION.length));
  if (!bytes) return linkError('link-malformed', 'This lab link is damaged (it is not valid base64url). Copy the whole link again.', payload.slice(0, 40));
  const inflated = await pipeThrough(bytes, new DecompressionStream('deflate-raw'), MAX_LAB_BYTES);
  if (!inflated.ok) return inflated;
  try {
    return { ok: true, value: new TextDecoder('utf-8', { fatal: true }).decode(inflated.value) };
  } catch (error) {
    return linkError('link-corrupt', 'This lab link does not hold text. Copy the whole link again.', String(error));
  }
}

/**
 * The link to share for a lab: `?lab=<url>` when it came from a URL, `?lab=<id>` for bundled examples,
 * otherwise `#lab=<data>`. `pageHref` is the page's address; its own query and fragment are replaced.
 */
export async function makeShareLink(source: string, origin: LabOrigin, pageHref: string): Promise<LinkResult<string>> {
  const page = new URL(pageHref);
  page.search = '';
  page.hash = '';
  switch (origin.kind) {
    case 'url':
      page.searchParams.set('lab', origin.url);
      return { ok: true, value: page.href };
    case 'example':
      page.searchParams.set('lab', origin.id);
      return { ok: true, value: page.href };
    case 'inline': {
      const payload = await encodeLabPayload(source);
      if (!payload.ok) return payload;
      // base64url and '.' need no escaping in a fragment (RFC 3986 section 3.5).
      return { ok: true, value: `${page.href}#lab=${payload.value}` };
    }
    default: {
      const unreachable: never = origin;
      return linkError('link-malformed', `Unknown lab origin ${String(unreachable)}.`);
    }
  }
}

/** Feeds bytes through a (de)compression stream, refusing output beyond maxBytes. */
async function pipeThrough(input: Uint8Array, stream: CompressionStream | DecompressionStream, maxBytes: number): Promise<LinkResult<Uint8Array>> {
  const writer = stream.writable.getWriter();
  // The write side rejects too when the data is corrupt; the reader below reports that error, so here it is
  // only recorded to keep the rejection handled.
  let writeError: unknown = null;
  const writing = writer
    .write(input as Uint8Array<ArrayBuffer>)
    .then(() => writer.close())
    .catch((error: unknown) => {
      writeError = error;
    });
  const read = await readAtMost(stream.readable, maxBytes);
  if (read.kind === 'too-large') {
    return linkError('lab-too-large', `This lab link expands to more than ${MAX_LAB_BYTES} bytes, more than any lab may be. It was not opened.`);
  }
  if (read.kind === 'failed') {
    return linkError('link-corrupt', 'This lab link is damaged or cut off (its data does not decompress). Copy the whole link again.', String(read.error));
  }
  await writing;
  if (writeError !== null) {
    return linkError('link-corrupt', 'This lab link is damaged or cut off. Copy the whole link again.', String(writeError));
  }
  return { ok: true, value: read.bytes };
}

/** RFC 4648 section 5 (URL- and filename-safe alphabet), without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  const chunkSize = 0x8000;
  for (let index = 0; index < bytes.length; index += chunkSize) {
    binary += String.fromCharCode(...bytes.subarray(index, index + chunkSize));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Inverse of toBase64Url; null when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
    return bytes;
  } catch {
    // The alphabet and length were checked above, so atob failing means the text is not base64url after all.
    return null;
  }
}
