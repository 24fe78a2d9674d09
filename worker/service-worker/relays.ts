// Which window relays the Service Worker's requests: on a preview origin, a preview shell opened for that port
// (`<scope>?port=8080&app=...`); without one, the app page itself (`<scope>`, `<scope>index.html`), which owns
// the VM. Pure functions over the clients' URLs, so routing is testable without a browser.

/** The slice of a WindowClient these functions read. */
export interface RelayCandidate {
  url: string;
  focused: boolean;
  visibilityState: DocumentVisibilityState;
}

type Relay = { kind: 'shell'; port: number; appOrigin: string } | { kind: 'app' };

function relayKind(url: string, scope: string): Relay | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = `${parsed.origin}${parsed.pathname}`;
  if (path !== scope && path !== `${scope}index.html`) return undefined;
  const port = parsed.searchParams.get('port');
  if (port === null) return { kind: 'app' };
  const app = parsed.searchParams.get('app') ?? '';
  if (!/^[0-9]{1,5}$/.test(port)) return undefined;
  return { kind: 'shell', port: Number(port), appOrigin: app };
}

/**
 * The relay for a request to `port`: shells for that port and app pages qualify, the focused one first, then a
 * visible one. Each tabdock tab has its own VM, so with several the one the user looks at answers. With none,
 * a shell opened for another port gets it, which refuses it with a page that says why (not-allowed).
 */
export function pickRelay<C extends RelayCandidate>(clients: readonly C[], scope: string, port: number): C | undefined {
  const kinds = clients.map((client) => ({ client, relay: relayKind(client.url, scope) }));
  const serving = kinds.filter(({ relay }) => relay !== undefined && (relay.kind === 'app' || relay.port === port));
  const relays = (serving.length > 0 ? serving : kinds.filter(({ relay }) => relay?.kind === 'shell')).map(({ client }) => client);
  return relays.find((client) => client.focused) ?? relays.find((client) => client.visibilityState === 'visible') ?? relays[0];
}

/**
 * Origins whose pages may post forms into previews: the Service Worker's own (the previews; the app too where
 * they share it) and the app origin each connected shell names.
 */
export function postingOrigins(clients: readonly RelayCandidate[], scope: string): string[] {
  const origins = new Set([new URL(scope).origin]);
  for (const client of clients) {
    const relay = relayKind(client.url, scope);
    // A shell whose app parameter is no http(s) URL connects to nobody; it names no origin.
    const app = relay?.kind === 'shell' ? httpOrigin(relay.appOrigin) : undefined;
    if (app) origins.add(app);
  }
  return [...origins];
}

function httpOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
