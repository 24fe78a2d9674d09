// Stack links (issue #27, item 4): `?stack=<URL of a Compose file>`, the query of the old "Try in PWD" buttons.
// The file is fetched and checked, shown with its services, images and ports, and runs only when the reader
// presses Run (README "Stack links"); a bad link or file is explained and the terminal works as usual.
import './stack.css';
import { fetchStackFile } from './fetch-stack.ts';
import { parseStackFile } from './parse-stack.ts';
import { runStack, type StackRunDeps } from './run-stack.ts';
import { readStackRef } from './stack-link.ts';
import { renderStackPanel, type StackPanelState } from './stack-panel.ts';

export interface StackLinkOptions extends StackRunDeps {
  location: Pick<Location, 'search' | 'href' | 'origin'>;
  /** The CORS proxy in effect (Network settings), for hosts that send no CORS header. */
  proxyUrl(): string | undefined;
  /** fetch, or a stand-in (tests). */
  fetch?: typeof fetch;
}

export interface StackLink {
  /** The VM booted: Run may act. */
  vmStarted(): void;
  /** The VM stopped or restarts. */
  vmStopped(): void;
}

export function mountStackLink(pane: HTMLElement, options: StackLinkOptions): StackLink {
  const ref = readStackRef(options.location.search, options.location.href);
  const url = ref.ok && ref.value.kind === 'url' ? ref.value.url : undefined;
  if (ref.ok && url === undefined) return { vmStarted: () => undefined, vmStopped: () => undefined };
  const box = pane.ownerDocument.createElement('section');
  box.className = 'stack-panel';
  box.setAttribute('aria-label', 'Stack from a link');
  pane.prepend(box);
  let vmReady = false;
  let state: StackPanelState = ref.ok ? { kind: 'loading', url: url ?? '' } : { kind: 'error', error: ref.error };

  const show = (next: StackPanelState): void => {
    state = next;
    renderStackPanel(box, state, { run, dismiss: () => box.remove() });
  };

  async function run(): Promise<void> {
    // Only a click on the Run of a shown file gets here; it runs that file, as shown.
    if ((state.kind !== 'asking' && state.kind !== 'run-failed') || !vmReady) return;
    const { url: shownUrl, file } = state;
    show({ kind: 'placing', file });
    const outcome = await runStack(file, options);
    show(outcome.ok ? { kind: 'started', file, path: outcome.path } : { kind: 'run-failed', url: shownUrl, file, message: outcome.message, detail: outcome.detail, vmReady });
  }

  async function load(from: string): Promise<void> {
    const proxyUrl = options.proxyUrl();
    const text = await fetchStackFile(from, {
      pageOrigin: options.location.origin,
      ...(proxyUrl === undefined ? {} : { proxyUrl }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    if (!text.ok) return show({ kind: 'error', error: text.error });
    const file = parseStackFile(text.value, from);
    show(file.ok ? { kind: 'asking', url: from, file: file.value, vmReady } : { kind: 'error', error: file.error });
  }

  show(state);
  if (url !== undefined) void load(url);
  const setReady = (ready: boolean): void => {
    vmReady = ready;
    if (state.kind === 'asking' || state.kind === 'run-failed') show({ ...state, vmReady });
  };
  return { vmStarted: () => setReady(true), vmStopped: () => setReady(false) };
}
