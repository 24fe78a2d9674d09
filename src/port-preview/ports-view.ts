// The port-preview UI: a bar over the terminal listing published ports ("Port 8080 → Open"), and a panel
// beside the terminal that shows one port's page in an iframe, with Reload, New tab and Close. The frame loads
// only once the port answers (port-wait.ts); until then the panel says how long it has waited.
import { PortWaiter, type PortWaitState, type ProbeResult } from './port-wait.ts';
import { waitText } from './port-wait-text.ts';
import { PANEL_FRAME_NAME, type Previews } from './previews.ts';
import type { PublishedPort } from './published-ports.ts';
import { el } from '../dom.ts';

export interface PortsViewOptions {
  /** The terminal column: the bar goes on top of it. */
  terminalPane: HTMLElement;
  /** The row holding the panels: the preview panel is appended to it. */
  main: HTMLElement;
  /** Where and how previews open (previews.ts); rejects with a sentence when they cannot here. */
  previews: Promise<Previews>;
  /** One probe of a port through this tab's VM (port-probe.ts). */
  probe(port: number): Promise<ProbeResult>;
  /** How long the panel waits for a silent port before it says what to check. */
  waitLimitMs?: number;
}

export class PortsView {
  private readonly bar = el('div', 'ports-bar');
  private readonly list = el('ul', 'ports-list');
  private readonly note = el('span', 'ports-note');
  private readonly panel = el('section', 'preview-panel');
  private readonly title = el('h2', 'preview-title');
  private readonly warning = el('p', 'preview-warning');
  private readonly problem = el('p', 'preview-problem');
  private readonly waiting = el('div', 'preview-waiting');
  private readonly waitLine = el('p', 'preview-waiting-text');
  private readonly waitDetail = el('pre', 'preview-waiting-detail');
  private readonly retry = el('button', 'preview-action', 'Retry');
  private waiter: PortWaiter | undefined;
  private readonly frame = el('iframe', 'preview-frame');
  private readonly newTab = el('a', 'preview-action', 'New tab');
  private previews: Previews | undefined;
  private ports: readonly PublishedPort[] = [];
  private openPort: number | undefined;
  /** Counts opens, so a slow one that another overtook does not load its page. */
  private opening = 0;
  private unavailable: string | undefined;

  constructor(private readonly options: PortsViewOptions) {
    this.bar.setAttribute('role', 'region');
    this.bar.setAttribute('aria-label', 'Published ports');
    this.bar.hidden = true;
    this.bar.append(el('span', 'ports-label', 'Published ports'), this.list, this.note);
    options.terminalPane.prepend(this.bar);

    this.panel.hidden = true;
    this.panel.setAttribute('aria-labelledby', 'preview-title');
    this.title.id = 'preview-title';
    this.frame.name = PANEL_FRAME_NAME;
    const reload = el('button', 'preview-action', 'Reload');
    reload.type = 'button';
    reload.addEventListener('click', () => this.previews?.reloadPanel(this.frame));
    this.newTab.target = '_blank';
    this.newTab.addEventListener('click', (event) => this.openTabFrom(event, this.openPort));
    const close = el('button', 'preview-action', 'Close');
    close.type = 'button';
    close.setAttribute('aria-label', 'Close the preview');
    close.addEventListener('click', () => this.close());
    const head = el('div', 'preview-head');
    head.append(this.title, reload, this.newTab, close);
    this.warning.setAttribute('role', 'note');
    this.warning.hidden = true;
    this.problem.setAttribute('role', 'alert');
    this.problem.hidden = true;
    this.waiting.hidden = true;
    this.waitDetail.hidden = true;
    this.retry.type = 'button';
    this.retry.hidden = true;
    this.retry.addEventListener('click', () => {
      if (this.openPort !== undefined) void this.open(this.openPort);
    });
    this.waiting.append(this.waitLine, this.waitDetail, this.retry);
    this.panel.append(head, this.warning, this.problem, this.waiting, this.frame);
    options.main.append(this.panel);

    options.previews.then(
      (previews) => {
        this.previews = previews;
        if (previews.warning) {
          this.note.textContent = 'Previews run with tabdock’s own origin and rights';
          this.note.title = previews.warning;
          this.warning.textContent = previews.warning;
          this.warning.hidden = false;
        }
        this.show(this.ports);
      },
      (reason: unknown) => {
        this.unavailable = reason instanceof Error ? reason.message : String(reason);
        this.note.textContent = this.unavailable;
        this.show(this.ports);
      },
    );
  }

  /** The current published ports; a preview whose port went away stays open (it shows the error page). */
  show(ports: readonly PublishedPort[]): void {
    this.ports = ports;
    this.list.replaceChildren(...ports.map((port) => this.item(port)));
    this.bar.hidden = ports.length === 0;
  }

  /** Opens a port's page in the panel once its preview can load. */
  async open(port: number): Promise<void> {
    let previews: Previews;
    try {
      previews = await this.options.previews;
    } catch {
      return;
    }
    const attempt = ++this.opening;
    this.openPort = port;
    this.title.textContent = `Port ${port}`;
    this.newTab.href = previews.tabUrl(port);
    this.frame.title = `Preview of port ${port}`;
    this.frame.removeAttribute('src');
    this.problem.hidden = true;
    this.panel.hidden = false;
    // The relay gets ready while the port is probed; the frame loads when both are done.
    const prepared = previews.preparePanel(port);
    prepared.catch(() => undefined);
    const answered = await this.waitFor(port);
    if (attempt !== this.opening || !answered) return;
    let url: string;
    try {
      url = await prepared;
    } catch (error) {
      if (attempt !== this.opening) return;
      this.problem.textContent = error instanceof Error ? error.message : String(error);
      this.problem.hidden = false;
      return;
    }
    if (attempt !== this.opening) return;
    if (previews.frameSandbox === undefined) this.frame.removeAttribute('sandbox');
    else this.frame.setAttribute('sandbox', previews.frameSandbox);
    this.frame.src = url;
  }

  close(): void {
    this.opening++;
    this.waiter?.dispose();
    this.waiter = undefined;
    this.waiting.hidden = true;
    this.openPort = undefined;
    this.panel.hidden = true;
    this.frame.removeAttribute('src');
    this.previews?.closePanel();
  }

  get openedPort(): number | undefined {
    return this.openPort;
  }

  /** Probes `port` until it answers (true), or shows why it stopped: gave up, failed, or another open (false). */
  private async waitFor(port: number): Promise<boolean> {
    this.waiter?.dispose();
    const waiter = new PortWaiter({
      port,
      probe: (target) => this.options.probe(target),
      onChange: (state) => this.showWait(state),
      ...(this.options.waitLimitMs === undefined ? {} : { limitMs: this.options.waitLimitMs }),
    });
    this.waiter = waiter;
    const final = await waiter.settled;
    return final?.kind === 'answered';
  }

  private showWait(state: PortWaitState): void {
    const shown = waitText(state, this.ports.find((published) => published.hostPort === state.port));
    this.waiting.hidden = shown.text === undefined;
    this.waiting.setAttribute('role', shown.alert ? 'alert' : 'status');
    this.waiting.classList.toggle('preview-waiting-failed', shown.alert);
    this.waitLine.textContent = shown.text ?? '';
    this.waitDetail.textContent = shown.detail ?? '';
    this.waitDetail.hidden = shown.detail === undefined;
    this.retry.hidden = !shown.retry;
  }

  /** New tab goes through previews.openTab (a preview origin's tab needs this page's window); plain links otherwise. */
  private openTabFrom(event: MouseEvent, port: number | undefined): void {
    if (!this.previews || port === undefined) return;
    event.preventDefault();
    this.previews.openTab(port);
  }

  private item(port: PublishedPort): HTMLLIElement {
    const item = el('li', 'ports-item');
    item.dataset['port'] = String(port.hostPort);
    const label = el('span', 'ports-port', `Port ${port.hostPort}`);
    const arrow = el('span', 'ports-arrow', '→');
    arrow.setAttribute('aria-hidden', 'true');
    const open = el('button', 'ports-open', 'Open');
    open.type = 'button';
    open.setAttribute('aria-label', `Open port ${port.hostPort} (${port.container}) in the preview panel`);
    open.disabled = this.unavailable !== undefined || this.previews === undefined;
    open.addEventListener('click', () => void this.open(port.hostPort));
    const tab = el('a', 'ports-tab', 'New tab');
    if (this.previews) tab.href = this.previews.tabUrl(port.hostPort);
    tab.target = '_blank';
    tab.setAttribute('aria-label', `Open port ${port.hostPort} in a new tab`);
    tab.addEventListener('click', (event) => this.openTabFrom(event, port.hostPort));
    const container = el('span', 'ports-container', `${port.container}:${port.containerPort}`);
    container.title = `container ${port.container}, its port ${port.containerPort}`;
    item.append(label, arrow, open, tab, container);
    return item;
  }
}
