// Which requests the port-preview Service Worker answers, and how URLs map between the page's address space
// (`<app base>port/8080/css/site.css`) and the container's (`/css/site.css` on guest port 8080). Pure
// functions over URL strings. The page must not import this (a shared chunk would give the SW an import).

export type PortRoute =
  /** Send `target` (path and query) to `port` in the guest. */
  | { kind: 'guest'; port: number; target: string }
  /** `port/8080` without the slash: redirect, so the page's relative links resolve under `port/8080/`. */
  | { kind: 'redirect'; location: string }
  | { kind: 'invalid'; message: string };

const PORT_PREFIX = 'port/';

/** The app's own pages, never routed to a container even when a preview page links to them. */
function isAppPage(url: string, scope: string): boolean {
  const path = url.split(/[?#]/)[0] ?? url;
  return path === scope || path === `${scope}index.html`;
}

/**
 * `url` is the request's URL, `scope` the Service Worker's scope (the app's base URL, ending in '/'), and
 * `referrer` the request's referrer. Returns undefined for every request the Service Worker must leave alone.
 */
export function routeRequest(url: string, scope: string, referrer: string): PortRoute | undefined {
  const previewBase = `${scope}${PORT_PREFIX}`;
  if (url.startsWith(previewBase)) {
    const rest = url.slice(previewBase.length).split('#')[0] ?? '';
    const match = /^([0-9]{1,5})(\/[^]*|\?[^]*)?$/.exec(rest);
    if (!match) return { kind: 'invalid', message: `"${rest.split(/[/?]/)[0] ?? ''}" is not a port number: preview addresses look like port/8080/.` };
    const port = Number(match[1]);
    if (port < 1 || port > 65535) return { kind: 'invalid', message: `${port} is not a TCP port number (1-65535).` };
    const tail = match[2] ?? '';
    if (!tail.startsWith('/')) return { kind: 'redirect', location: `${previewBase}${port}/${tail}` };
    return { kind: 'guest', port, target: tail };
  }
  // A root-relative link in a preview page (`/style.css`) leaves port/8080/; its referrer says where it came from.
  const from = referrer.startsWith(previewBase) ? /^([0-9]{1,5})\//.exec(referrer.slice(previewBase.length)) : null;
  const origin = new URL(scope).origin;
  if (from && url.startsWith(`${origin}/`) && !isAppPage(url, scope)) {
    const port = Number(from[1]);
    if (port >= 1 && port <= 65535) return { kind: 'guest', port, target: url.slice(origin.length).split('#')[0] ?? '/' };
  }
  return undefined;
}

/**
 * A redirect's Location as the page must see it: the container's own absolute paths and its localhost URLs
 * move under `port/<port>/`; relative references and other sites stay as they are.
 */
export function previewLocation(location: string, port: number, scope: string): string {
  const base = `${scope}${PORT_PREFIX}${port}`;
  if (location.startsWith('/') && !location.startsWith('//')) return `${base}${location}`;
  const match = /^https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::([0-9]+))?(\/[^]*)?$/i.exec(location);
  if (match && Number(match[1] ?? '80') === port) return `${base}${match[2] ?? '/'}`;
  return location;
}
