// How this page opens previews: on an origin of their own (the preview shell relays for the panel and for each
// tab, preview-connection.ts), or, with none configured, on the app's own origin through its Service Worker
// (port-router.ts) with a visible warning. The ports bar and panel (ports-view.ts) use one interface for both.
import { PreviewConnection, type PreviewVm } from './preview-connection.ts';
import { portPageUrl, shellUrl, type PreviewOrigin } from './preview-origin.ts';
import { registerPreviewWorker, routePortRequests, unregisterPreviewWorker } from './port-router.ts';

export interface Previews {
  /** Shown in the bar and the panel while previews run with the app's origin. */
  readonly warning: string | undefined;
  /** The panel frame's sandbox attribute, where the frame is another origin. */
  readonly frameSandbox: string | undefined;
  /** Gets the panel ready for `port`; resolves with the address its frame loads, rejects with a sentence. */
  preparePanel(port: number): Promise<string>;
  closePanel(): void;
  reloadPanel(frame: HTMLIFrameElement): void;
  /** The address New tab links to. */
  tabUrl(port: number): string;
  /** Opens `port` in a tab of its own that reaches this tab's VM. */
  openTab(port: number): void;
  /** This page is going away. */
  dispose(): void;
}

/** No top navigation: a previewed page cannot replace tabdock's page (it is another origin, so it may try). */
export const PANEL_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';
/** The panel frame's name: the shell, same origin as the page in it, finds it by name to reload it. */
export const PANEL_FRAME_NAME = 'tabdock-preview-panel';
/** The relay frame loads a page and a Service Worker; a first visit on a busy machine takes seconds. */
const RELAY_READY_TIMEOUT_MS = 30_000;

export class OwnOriginPreviews implements Previews {
  readonly warning = undefined;
  readonly frameSandbox = PANEL_SANDBOX;
  private readonly relayFrame = document.createElement('iframe');
  private panel: PreviewConnection | undefined;
  private readonly tabs = new Set<PreviewConnection>();

  constructor(
    private readonly origin: Extract<PreviewOrigin, { kind: 'own' }>,
    private readonly vm: () => PreviewVm | undefined,
    host: HTMLElement,
  ) {
    // The panel's relay: a hidden shell page on the preview origin, in the same storage partition as the panel's
    // frame, so its Service Worker reaches this page through it.
    this.relayFrame.hidden = true;
    this.relayFrame.className = 'preview-relay';
    this.relayFrame.title = 'Port preview relay';
    this.relayFrame.setAttribute('aria-hidden', 'true');
    this.relayFrame.tabIndex = -1;
    this.relayFrame.addEventListener('load', () => this.panel?.offerNow());
    host.append(this.relayFrame);
    // Previews used to share this origin: drop that worker, or a link to <app>/port/8080/ would still run there.
    void unregisterPreviewWorker();
  }

  async preparePanel(port: number): Promise<string> {
    this.panel?.dispose();
    const connection = new PreviewConnection({
      previewOrigin: this.origin.origin,
      port,
      target: () => this.relayFrame.contentWindow,
      vm: this.vm,
      readyTimeoutMs: RELAY_READY_TIMEOUT_MS,
    });
    this.panel = connection;
    this.relayFrame.src = shellUrl(this.origin.base, port, location.origin, 'relay');
    await connection.ready;
    return portPageUrl(this.origin.base, port);
  }

  closePanel(): void {
    this.panel?.dispose();
    this.panel = undefined;
    this.relayFrame.removeAttribute('src');
  }

  reloadPanel(frame: HTMLIFrameElement): void {
    this.panel?.reloadFrame(frame.name);
  }

  tabUrl(port: number): string {
    return shellUrl(this.origin.base, port, location.origin, 'tab');
  }

  openTab(port: number): void {
    // With an opener relationship (no 'noopener'): this page keeps the tab's window to offer it a connection.
    // The shell drops its own reference to this page at once (shell.ts).
    const tab = window.open(this.tabUrl(port), '_blank');
    if (!tab) return;
    const connection = new PreviewConnection({ previewOrigin: this.origin.origin, port, target: () => (tab.closed ? null : tab), vm: this.vm });
    this.tabs.add(connection);
    const watch = setInterval(() => {
      if (!tab.closed) return;
      clearInterval(watch);
      connection.dispose();
      this.tabs.delete(connection);
    }, 1_000);
  }

  dispose(): void {
    this.closePanel();
    for (const tab of this.tabs) tab.dispose();
    this.tabs.clear();
  }
}

export class SharedOriginPreviews implements Previews {
  readonly frameSandbox = undefined;
  /** Rejects with a sentence when this browser cannot run the Service Worker here. */
  readonly ready: Promise<void>;

  constructor(
    readonly warning: string,
    private readonly appBase: string,
    vm: () => PreviewVm | undefined,
  ) {
    this.ready = registerPreviewWorker(appBase);
    this.ready.catch(() => undefined);
    routePortRequests(vm);
  }

  async preparePanel(port: number): Promise<string> {
    await this.ready;
    return portPageUrl(this.appBase, port);
  }

  closePanel(): void {
    // The same-origin worker needs nothing torn down per panel.
  }

  reloadPanel(frame: HTMLIFrameElement): void {
    frame.contentWindow?.location.reload();
  }

  tabUrl(port: number): string {
    return portPageUrl(this.appBase, port);
  }

  openTab(port: number): void {
    window.open(this.tabUrl(port), '_blank', 'noopener');
  }

  dispose(): void {
    // Requests stop with the page; the worker itself stays registered for the next visit.
  }
}
