// Loads the lab a page address asks for: a bundled example, a lab fetched from a URL (with a size limit, a
// time limit and errors that say what to do), or a lab carried in the link itself. Never throws.
import { formatLabProblem, type Lab, type LabProblem } from './lab-format.ts';
import { parseLab } from './parse-lab.ts';
import { decodeLabPayload, MAX_LAB_BYTES, readLabRef, type LabLinkError, type LabOrigin, type LinkResult } from './lab-link.ts';
import { EXAMPLE_LABS, EXAMPLE_LAB_IDS } from './examples/index.ts';
import { readAtMost } from './read-at-most.ts';

export const DEFAULT_FETCH_TIMEOUT_MS = 15_000;

export interface LoadedLab {
  lab: Lab;
  origin: LabOrigin;
}

export type LoadLabResult =
  | { kind: 'none' }
  | { kind: 'loaded'; loaded: LoadedLab }
  /** `problems` is set when the text was fetched but is not a valid lab (line-numbered). */
  | { kind: 'error'; error: LabLinkError; problems?: LabProblem[] };

export interface FetchLabOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxBytes?: number;
}

/** The page's lab, from `?lab=` or `#lab=`; `{kind: 'none'}` when the address names none. */
export async function loadLabFromLocation(
  location: Pick<Location, 'search' | 'hash' | 'href'>,
  options: FetchLabOptions = {},
): Promise<LoadLabResult> {
  const ref = readLabRef(location, EXAMPLE_LAB_IDS);
  if (!ref.ok) return { kind: 'error', error: ref.error };
  switch (ref.value.kind) {
    case 'none':
      return { kind: 'none' };
    case 'example': {
      const id = ref.value.id;
      const example = EXAMPLE_LABS.find((candidate) => candidate.id === id);
      if (!example) return { kind: 'error', error: { code: 'bad-url', message: `There is no bundled lab called "${id}".` } };
      return fromSource(example.source, { kind: 'example', id }, `the bundled lab "${id}"`);
    }
    case 'url': {
      const url = ref.value.url;
      const text = await fetchLabSource(url, options);
      if (!text.ok) return { kind: 'error', error: text.error };
      return fromSource(text.value, { kind: 'url', url }, url);
    }
    case 'inline': {
      const text = await decodeLabPayload(ref.value.payload);
      if (!text.ok) return { kind: 'error', error: text.error };
      return fromSource(text.value, { kind: 'inline' }, 'the lab in this link');
    }
    default: {
      const unreachable: never = ref.value;
      return { kind: 'error', error: { code: 'link-malformed', message: `Unknown lab reference ${String(unreachable)}.` } };
    }
  }
}

/** Parses fetched or decoded text; problems become an 'invalid-lab' error listing the first few with lines. */
export function fromSource(source: string, origin: LabOrigin, where: string): LoadLabResult {
  const parsed = parseLab(source);
  if (parsed.ok) return { kind: 'loaded', loaded: { lab: parsed.lab, origin } };
  const shown = parsed.problems.slice(0, 5).map(formatLabProblem).join('\n');
  return {
    kind: 'error',
    error: {
      code: 'invalid-lab',
      message: `${capitalise(where)} is not a valid lab (${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}). Ask its author to fix it; the author mode shows each problem on its line.`,
      detail: shown,
    },
    problems: parsed.problems,
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** GETs a lab's text: no cookies, a time limit, a byte limit, and an error per way it can fail. */
export async function fetchLabSource(url: string, options: FetchLabOptions = {}): Promise<LinkResult<string>> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxBytes ?? MAX_LAB_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const host = hostOf(url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetchFn(url, { credentials: 'omit', redirect: 'follow', signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return timeoutError(url, timeoutMs);
      // fetch() rejects with a bare TypeError for DNS failures, offline, refused connections and CORS
      // refusals alike (Fetch standard, "network error"); the page cannot tell them apart.
      return failure('network', `Could not fetch the lab from ${host}: the server is unreachable, or it does not allow other sites to read the file (CORS). Check the URL, or host the .md file somewhere that sends Access-Control-Allow-Origin (GitHub raw files and gists do).`, `${url}\n${String(error)}`);
    }
    if (response.status === 404 || response.status === 410) {
      return failure('http-not-found', `There is no lab at ${url} (HTTP ${response.status}). Check the link for typos, or ask its author for a new one.`, url);
    }
    if (!response.ok) {
      return failure('http-status', `${host} answered HTTP ${response.status} ${response.statusText} for the lab. Try again later, or ask the lab's author.`, url);
    }
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel();
      return tooLarge(url, maxBytes);
    }
    if (!response.body) return failure('network', `${host} sent an empty answer for the lab. Reload to try again.`, url);
    const read = await readAtMost(response.body, maxBytes);
    if (read.kind === 'too-large') return tooLarge(url, maxBytes);
    if (read.kind === 'failed') {
      if (controller.signal.aborted) return timeoutError(url, timeoutMs);
      return failure('network', `The connection to ${host} broke while the lab was downloading. Reload to try again.`, `${url}\n${String(read.error)}`);
    }
    const bytes = read.bytes;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      return failure('not-a-lab', `The file at ${url} is not text, so it is not a lab. Link to the lab's .md file.`, String(error));
    }
    const start = text.trimStart().slice(0, 200).toLowerCase();
    if (start.startsWith('<!doctype') || start.startsWith('<html')) {
      return failure('not-a-lab', `${url} is a web page, not a lab file. Link to the raw .md file (on GitHub, the "Raw" button).`, text.slice(0, 200));
    }
    if (!text.replace(/^\uFEFF/, '').startsWith('---')) {
      return failure('not-a-lab', `The file at ${url} is not a lab: a lab starts with a \`---\` frontmatter line. Link to the lab's .md file.`, text.slice(0, 200));
    }
    return { ok: true, value: text };
  } finally {
    clearTimeout(timer);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function failure(code: LabLinkError['code'], message: string, detail?: string): { ok: false; error: LabLinkError } {
  return { ok: false, error: detail === undefined ? { code, message } : { code, message, detail } };
}

function tooLarge(url: string, maxBytes: number) {
  return failure('lab-too-large', `The file at ${url} is larger than ${maxBytes} bytes, too big for a lab. Link to the lab's .md file, or split the lab.`, url);
}

function timeoutError(url: string, timeoutMs: number) {
  return failure('timeout', `The lab at ${url} did not arrive within ${Math.round(timeoutMs / 1000)} s. Check your connection and reload.`, url);
}
