// Where port previews live. Container pages must not run with the app's origin (they could read saved sessions
// in OPFS, rewrite settings in localStorage, script the terminal), so they get an origin of their own: the one
// VITE_TABDOCK_PREVIEW_URL names at build time, or the one `npm start` / `npm run dev` serve (port-preview.json,
// worker/service-worker/node/vite-plugin.ts). Without either, previews fall back to the app's origin, visibly.
import * as z from 'zod/mini';

export type PreviewOrigin =
  /** Previews load from `base` (ends in '/'; the preview bundle, dist/preview/, is served there). */
  | { kind: 'own'; base: string; origin: string }
  /** Previews share the app's origin; `reason` says why and what that means, for the user to see. */
  | { kind: 'shared'; reason: string };

const RIGHTS = 'so a page it shows could read your saved sessions and settings and type into the terminal';

/**
 * Checks one configured preview URL against the app's address. Undefined when nothing is configured; a
 * 'shared' answer with the reason when the value cannot work.
 */
export function previewOriginFrom(value: string | undefined, appHref: string, source: string): PreviewOrigin | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const app = new URL(appHref);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: 'shared', reason: `Previews run with tabdock's own origin: ${source} "${text}" is not an absolute URL, ${RIGHTS}.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { kind: 'shared', reason: `Previews run with tabdock's own origin: ${source} must be an http(s) URL, not "${text}", ${RIGHTS}.` };
  }
  if (url.origin === app.origin) {
    return { kind: 'shared', reason: `Previews run with tabdock's own origin: ${source} names this page's own origin (${app.origin}), ${RIGHTS}. Previews need another host or port.` };
  }
  if (app.protocol === 'https:' && url.protocol === 'http:') {
    return { kind: 'shared', reason: `Previews run with tabdock's own origin: ${source} is http:// while this page is https://, which browsers block, ${RIGHTS}.` };
  }
  const base = `${url.origin}${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}`;
  return { kind: 'own', base, origin: url.origin };
}

const discoverySchema = z.strictObject({ previewUrl: z.string().check(z.maxLength(2_000)) });

export interface ResolveOptions {
  /** VITE_TABDOCK_PREVIEW_URL, as built in. */
  setting: string | undefined;
  /** The app's base URL (where index.html is). */
  appBase: string;
  /** fetch, or a stand-in (tests). */
  fetch: (url: string) => Promise<Response>;
}

/** The build's setting first; else what the dev or preview server says; else the app's origin, with the reason. */
export async function resolvePreviewOrigin(options: ResolveOptions): Promise<PreviewOrigin> {
  const built = previewOriginFrom(options.setting, options.appBase, 'VITE_TABDOCK_PREVIEW_URL');
  if (built) return built;
  const served = await serverPreviewUrl(options);
  const fromServer = previewOriginFrom(served, options.appBase, 'the server\'s port-preview.json');
  if (fromServer) return fromServer;
  return {
    kind: 'shared',
    reason: `Previews run with tabdock's own origin: no preview origin is configured (VITE_TABDOCK_PREVIEW_URL, README "Port preview"), ${RIGHTS}. Open only containers you trust.`,
  };
}

/** `npm start` and `npm run dev` answer port-preview.json; static hosts have none (404, or their index page). */
async function serverPreviewUrl(options: ResolveOptions): Promise<string | undefined> {
  let response: Response;
  try {
    response = await options.fetch(new URL('port-preview.json', options.appBase).href);
  } catch (error) {
    console.info(`tabdock: no port-preview.json (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
  if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const parsed = discoverySchema.safeParse(await response.json().catch(() => undefined));
  return parsed.success ? parsed.data.previewUrl : undefined;
}

export type ShellMode = 'relay' | 'tab';

/** The preview shell's address for one port (src/port-preview/shell/shell-params.ts reads it). */
export function shellUrl(base: string, port: number, appOrigin: string, mode: ShellMode): string {
  const url = new URL(base);
  url.searchParams.set('port', String(port));
  url.searchParams.set('app', appOrigin);
  url.searchParams.set('mode', mode);
  return url.href;
}

/** A port's pages on the preview origin (or the app's), as the panel's frame loads them. */
export function portPageUrl(base: string, port: number): string {
  return `${base}port/${port}/`;
}
