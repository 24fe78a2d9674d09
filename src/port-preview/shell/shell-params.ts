// The preview shell's address: `<preview base>?port=8080&app=<app origin>&mode=relay|tab[&path=/x]`, written by
// the app (src/port-preview/preview-origin.ts) and read here. `relay` is the panel's hidden helper frame; `tab`
// is a preview in a tab of its own, which shows the container's page in a frame and remembers its path.

export type ShellMode = 'relay' | 'tab';

export interface ShellParams {
  port: number;
  /** The only origin whose offer the shell takes, and the only one it answers. */
  appOrigin: string;
  mode: ShellMode;
  /** Where in the container's site a tab opens (origin-form, `/` by default). */
  path: string;
}

export type ShellParamsResult = { ok: true; params: ShellParams } | { ok: false; message: string };

const OPEN_AGAIN = 'Open the preview from tabdock (Published ports: Open or New tab).';

export function parseShellParams(href: string): ShellParamsResult {
  const url = new URL(href);
  const query = url.searchParams;
  const port = query.get('port') ?? '';
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return { ok: false, message: `This address names no container port ("${port.slice(0, 20)}"). ${OPEN_AGAIN}` };
  }
  let appOrigin: string;
  try {
    const app = new URL(query.get('app') ?? '');
    if (app.protocol !== 'https:' && app.protocol !== 'http:') throw new Error(app.protocol);
    appOrigin = app.origin;
  } catch {
    return { ok: false, message: `This address does not say which tabdock page it belongs to. ${OPEN_AGAIN}` };
  }
  if (appOrigin === url.origin) {
    return { ok: false, message: `The preview origin is tabdock's own origin (${appOrigin}); previews need an origin of their own (README "Port preview").` };
  }
  const mode = query.get('mode') === 'relay' ? 'relay' : 'tab';
  const path = query.get('path') ?? '/';
  return { ok: true, params: { port: Number(port), appOrigin, mode, path: /^\/(?!\/)[\x21-\x7e]*$/.test(path) ? path : '/' } };
}

/** The shell's own address with another `path`, so reloading a tab comes back to the page it showed. */
export function withPath(href: string, path: string): string {
  const url = new URL(href);
  url.searchParams.set('path', path);
  return url.href;
}
