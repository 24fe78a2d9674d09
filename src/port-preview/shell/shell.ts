// The preview shell's page (built into the preview bundle, worker/service-worker/node/): registers the preview
// origin's Service Worker, takes the app's offer and relays for it (shell-relay.ts). In a tab of its own it also
// shows the container's page in a frame; in the app's panel it is a hidden helper beside the panel's frame.
import './shell.css';
import { parseShellParams, withPath, type ShellParams } from './shell-params.ts';
import { ShellRelay, type ShellState } from './shell-relay.ts';

/** Built next to this page (worker/service-worker/node/preview-bundle.ts). */
const SERVICE_WORKER_FILE = 'port-preview-sw.js';
/** A tab with no offer by then was not opened by tabdock's New tab (or its tabdock tab is gone). */
const OFFER_WAIT_MS = 10_000;
/** Same sandbox as the app's panel frame: no top navigation, so a page cannot replace the shell. */
const SITE_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';

function statusElement(): HTMLElement {
  const found = document.getElementById('status');
  if (!found) throw new Error('the preview shell page lacks #status');
  return found;
}

function show(text: string, tone: 'info' | 'error'): void {
  const status = statusElement();
  status.textContent = text;
  status.dataset['tone'] = tone;
  status.setAttribute('role', tone === 'error' ? 'alert' : 'status');
  status.hidden = false;
}

async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) throw new Error('This browser offers no Service Worker here, which previews need (open tabdock over https:// or on localhost).');
  const base = new URL('./', location.href);
  try {
    await navigator.serviceWorker.register(new URL(SERVICE_WORKER_FILE, base), { scope: base.href });
  } catch (error) {
    // Browsers that block storage for third-party frames refuse here when tabdock and its previews are two sites.
    throw new Error(`The browser refused the preview's Service Worker (${error instanceof Error ? error.message : String(error)}). Try New tab, or allow site data for ${location.origin}.`);
  }
  await navigator.serviceWorker.ready;
}

function showSite(params: ShellParams): void {
  const frame = document.createElement('iframe');
  frame.className = 'site';
  frame.title = `Port ${params.port}`;
  frame.setAttribute('sandbox', SITE_SANDBOX);
  frame.src = new URL(`port/${params.port}${params.path}`, new URL('./', location.href)).href;
  frame.addEventListener('load', () => {
    const page = sameOriginLocation(frame);
    if (!page) return;
    const prefix = new URL(`port/${params.port}`, new URL('./', location.href)).pathname;
    if (page.pathname.startsWith(`${prefix}/`)) history.replaceState(null, '', withPath(location.href, page.pathname.slice(prefix.length) + page.search));
    document.title = `${frame.contentDocument?.title || 'Preview'} (port ${params.port})`;
  });
  document.body.append(frame);
}

/** The frame's location while it shows a preview page; undefined once it went to another site. */
function sameOriginLocation(frame: HTMLIFrameElement): Location | undefined {
  try {
    return frame.contentWindow?.location.origin === location.origin ? frame.contentWindow.location : undefined;
  } catch {
    return undefined;
  }
}

function start(): void {
  const parsed = parseShellParams(location.href);
  if (!parsed.ok) {
    show(parsed.message, 'error');
    return;
  }
  const params = parsed.params;
  if (params.mode === 'tab') {
    // The app reaches this tab through the window it opened, not the other way: with no opener, nothing a
    // preview page runs here can navigate or message the app's tab (it could script the shell: same origin).
    window.opener = null;
  }
  let shown = false;
  const onState = (state: ShellState): void => {
    switch (state.kind) {
      case 'waiting':
        if (params.mode === 'tab') show('Connecting to tabdock…', 'info');
        return;
      case 'connected':
        return;
      case 'ready':
        statusElement().hidden = true;
        if (params.mode === 'tab' && !shown) {
          shown = true;
          showSite(params);
        }
        return;
      case 'failed':
        show(state.message, 'error');
        return;
      case 'closed':
        show('The tabdock tab that served this preview closed or reloaded; its VM no longer answers. Open the port again from tabdock.', 'error');
        return;
      default: {
        const unknown: never = state;
        throw new Error(`unknown shell state ${JSON.stringify(unknown)}`);
      }
    }
  };
  const relay = new ShellRelay({
    params,
    serviceWorker: registerServiceWorker(),
    onState,
    reloadFrame: (name) => reloadAppFrame(name),
  });
  window.addEventListener('message', (event) => relay.offered(event));
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('message', (event) => relay.request({ origin: location.origin, data: event.data, ports: event.ports }));
    navigator.serviceWorker.startMessages();
  }
  window.addEventListener('pagehide', () => relay.unloading());
  setTimeout(() => {
    if (params.mode === 'tab' && !shown && statusElement().dataset['tone'] === 'info') {
      show('No tabdock tab answered. A preview in a tab of its own reaches the VM through the tabdock tab that opened it: open it with New tab in tabdock (not by copying this address).', 'error');
    }
  }, OFFER_WAIT_MS);
}

/** The app's panel frame is this shell's sibling and shows a page of this origin, so the shell may reload it. */
function reloadAppFrame(name: string): void {
  try {
    const frame = window.parent === window ? undefined : (window.parent.frames as unknown as Record<string, Window | undefined>)[name];
    frame?.location.reload();
  } catch (error) {
    console.warn(`tabdock preview: could not reload the panel (${error instanceof Error ? error.message : String(error)})`);
  }
}

start();
