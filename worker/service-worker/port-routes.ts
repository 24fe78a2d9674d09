// Which requests the port-preview Service Worker answers, and how URLs map between the preview's address space
// (`<scope>port/8080/css/site.css`; the scope is the preview origin's base, or the app's without one) and the
// container's (`/css/site.css` on guest port 8080). Pure functions over URL strings.

export type PortRoute =
  /** Send `target` (path and query) to `port` in the guest. */
  | { kind: 'guest'; port: number; target: string }
  /**
   * `port/8080` without the slash, or a page's root-relative link or form (`/about`) leaving `port/8080/`:
   * redirect (307 keeps a form's method and body), so the page's own relative links resolve under it.
   */
  | { kind: 'redirect'; location: string }
  | { kind: 'invalid'; message: string };

const PORT_PREFIX = 'port/';

/**
 * `url` is the request's URL, `scope` the Service Worker's scope (ending in '/'), `referrer` the request's
 * referrer, `navigation` whether it loads a document. Returns undefined for every request the Service Worker
 * must leave alone.
 */
export function routeRequest(url: string, scope: string, referrer: string, navigation = false): PortRoute | undefined {
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
  // That includes `/` and `/index.html` even where the app or the preview shell lives: a container's Home link
  // means the container's home.
  const from = referrer.startsWith(previewBase) ? /^([0-9]{1,5})\//.exec(referrer.slice(previewBase.length)) : null;
  const origin = new URL(scope).origin;
  if (from && url.startsWith(`${origin}/`)) {
    const port = Number(from[1]);
    const target = url.slice(origin.length).split('#')[0] ?? '/';
    if (port < 1 || port > 65535) return undefined;
    // A document the guest serves at `/about` must live at port/8080/about: its own relative links and the
    // referrer of everything it loads then lead back to the port.
    if (navigation) return { kind: 'redirect', location: `${previewBase}${port}${target}` };
    return { kind: 'guest', port, target };
  }
  return undefined;
}

/**
 * Refuses a document request with a body (a form's POST) that another site started: cross-site request
 * forgery against the container's server. Only the preview's own pages and the app may post into it; a
 * request without a referrer (a page that sends none) is refused as well, since it cannot be told apart.
 */
export function isForeignPost(method: string, navigation: boolean, referrer: string, allowedOrigins: readonly string[]): boolean {
  if (!navigation || method === 'GET' || method === 'HEAD') return false;
  let origin: string;
  try {
    origin = new URL(referrer).origin;
  } catch {
    return true;
  }
  return !allowedOrigins.includes(origin);
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
