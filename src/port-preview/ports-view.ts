// The port-preview UI: a bar over the terminal listing published ports ("Port 8080 → Open"), and a panel
// beside the terminal that shows one port's page in an iframe, with Reload, New tab and Close.
import type { PublishedPort } from './published-ports.ts';

export interface PortsViewOptions {
  /** The terminal column: the bar goes on top of it. */
  terminalPane: HTMLElement;
  /** The row holding the panels: the preview panel is appended to it. */
  main: HTMLElement;
  /** The preview address of a port (`<base>port/8080/`). */
  urlFor(port: number): string;
  /** Resolves when the Service Worker serves previews; rejects with a sentence when it cannot. */
  ready: Promise<void>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class PortsView {
  private readonly bar = el('div', 'ports-bar');
  private readonly list = el('ul', 'ports-list');
  private readonly note = el('span', 'ports-note');
  private readonly panel = el('section', 'preview-panel');
  private readonly title = el('h2', 'preview-title');
  private readonly frame = el('iframe', 'preview-frame');
  private readonly newTab = el('a', 'preview-action', 'New tab');
  private openPort: number | undefined;
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
    const reload = el('button', 'preview-action', 'Reload');
    reload.type = 'button';
    reload.addEventListener('click', () => this.frame.contentWindow?.location.reload());
    this.newTab.target = '_blank';
    this.newTab.rel = 'noopener';
    const close = el('button', 'preview-action', 'Close');
    close.type = 'button';
    close.setAttribute('aria-label', 'Close the preview');
    close.addEventListener('click', () => this.close());
    const head = el('div', 'preview-head');
    head.append(this.title, reload, this.newTab, close);
    this.panel.append(head, this.frame);
    options.main.append(this.panel);

    options.ready.catch((reason: unknown) => {
      this.unavailable = reason instanceof Error ? reason.message : String(reason);
      this.note.textContent = this.unavailable;
    });
  }

  /** The current published ports; a preview whose port went away stays open (it shows the error page). */
  show(ports: readonly PublishedPort[]): void {
    this.list.replaceChildren(...ports.map((port) => this.item(port)));
    this.bar.hidden = ports.length === 0;
  }

  /** Opens a port's page in the panel once the Service Worker is ready. */
  async open(port: number): Promise<void> {
    try {
      await this.options.ready;
    } catch {
      return;
    }
    const url = this.options.urlFor(port);
    this.openPort = port;
    this.title.textContent = `Port ${port}`;
    this.newTab.href = url;
    this.frame.title = `Preview of port ${port}`;
    this.frame.src = url;
    this.panel.hidden = false;
  }

  close(): void {
    this.openPort = undefined;
    this.panel.hidden = true;
    this.frame.removeAttribute('src');
  }

  get openedPort(): number | undefined {
    return this.openPort;
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
    open.disabled = this.unavailable !== undefined;
    open.addEventListener('click', () => void this.open(port.hostPort));
    const tab = el('a', 'ports-tab', 'New tab');
    tab.href = this.options.urlFor(port.hostPort);
    tab.target = '_blank';
    tab.rel = 'noopener';
    tab.setAttribute('aria-label', `Open port ${port.hostPort} in a new tab`);
    const container = el('span', 'ports-container', `${port.container}:${port.containerPort}`);
    container.title = `container ${port.container}, its port ${port.containerPort}`;
    item.append(label, arrow, open, tab, container);
    return item;
  }
}
