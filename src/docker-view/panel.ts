// The Docker view's DOM: the connection line, what is happening now (with per-layer pull progress), the
// architecture picture, the container, image, network and volume lists, and a logs pane. It renders a
// DockerViewState; everything it does goes back through PanelActions (index.ts talks to the VM).
import type { EngineImage } from '../../worker/shared/contract.ts';
import { ArchitecturePicture } from './architecture.ts';
import { layerLabel } from './commands.ts';
import { KeyedList, type RowSpec } from './keyed-list.ts';
import { el } from '../dom.ts';
import { buildContainerRow, buildImageRow, containerSignature, imageSignature, networkRow, volumeRow, type LayersState, type RowActions } from './rows.ts';
import type { ContainerView, DockerViewState } from './view-types.ts';

/** Rows per list before "Show more". */
const PAGE_SIZE = 50;
/** The logs pane keeps the newest characters only. */
const MAX_LOG_CHARS = 200_000;
const RECENT_ACTIVITY = 8;

export interface PanelActions extends RowActions {
  closeLogs(): void;
}

export class DockerPanel {
  readonly element: HTMLElement;
  private readonly connection = el('p', 'dv-connection');
  private readonly error = el('p', 'dv-error');
  private readonly now = el('p', 'dv-now');
  private readonly layerList = el('ul', 'dv-pull');
  private readonly log = el('ol', 'dv-log');
  private readonly trail = el('figcaption', 'dv-trail');
  private readonly picture: ArchitecturePicture;
  private readonly counts = new Map<string, HTMLElement>();
  private readonly containers: KeyedList;
  private readonly images: KeyedList;
  private readonly networks: KeyedList;
  private readonly volumes: KeyedList;
  private readonly filter = el('input', 'dv-filter');
  private readonly logsPane = el('section', 'dv-logs');
  private readonly logsTitle = el('h3', 'dv-logs-title');
  private readonly logsText = el('pre', 'dv-logs-text');
  private readonly layersByImage = new Map<string, LayersState>();
  private state: DockerViewState | undefined;

  /** `before`: the element the panel precedes in the DOM (the terminal pane), see mountDockerView. */
  constructor(
    parent: HTMLElement,
    private readonly actions: PanelActions,
    private readonly clock: () => number = () => Date.now(),
    before: Element | null = null,
  ) {
    this.element = el('aside', 'docker-view');
    this.element.id = 'docker-view';
    this.element.hidden = true;
    this.element.setAttribute('aria-labelledby', 'dv-title');
    const head = el('div', 'dv-head');
    const title = el('h2', 'dv-title', 'Docker');
    title.id = 'dv-title';
    // Opening the panel moves focus here, so keyboard users continue inside it rather than in the terminal
    // (which keeps Tab for the shell).
    title.tabIndex = -1;
    // Polite live regions without role="status": the header's status line is the page's one status.
    this.connection.setAttribute('aria-live', 'polite');
    head.append(title, this.connection);
    this.error.setAttribute('role', 'alert');
    this.error.hidden = true;

    const activity = this.section('Now', 'dv-activity');
    this.now.setAttribute('aria-live', 'polite');
    this.now.textContent = 'Nothing yet: run a docker command in the terminal.';
    this.layerList.setAttribute('aria-label', 'Layers of the current pull');
    const recent = el('details', 'dv-recent');
    recent.append(el('summary', '', 'Recent activity'), this.log);
    activity.append(this.now, this.layerList, recent);

    const figure = el('figure', 'dv-arch-figure');
    this.picture = new ArchitecturePicture((text) => (this.trail.textContent = text));
    this.trail.textContent = 'The parts the last command used light up here.';
    figure.append(this.picture.element, this.trail);

    const containers = this.section('Containers', 'dv-containers');
    this.filter.type = 'search';
    this.filter.placeholder = 'Filter by name or image';
    this.filter.setAttribute('aria-label', 'Filter containers by name or image');
    this.filter.addEventListener('input', () => this.renderLists());
    containers.append(this.filter);
    this.containers = new KeyedList(containers, 'Containers', PAGE_SIZE, 'containers');
    this.images = new KeyedList(this.section('Images', 'dv-images'), 'Images', PAGE_SIZE, 'images');
    this.networks = new KeyedList(this.section('Networks', 'dv-networks'), 'Networks', PAGE_SIZE, 'networks');
    this.volumes = new KeyedList(this.section('Volumes', 'dv-volumes'), 'Volumes', PAGE_SIZE, 'volumes');

    this.logsPane.hidden = true;
    this.logsTitle.id = 'dv-logs-title';
    this.logsPane.setAttribute('aria-labelledby', 'dv-logs-title');
    const closeLogs = el('button', 'dv-button', 'Close');
    closeLogs.type = 'button';
    closeLogs.setAttribute('aria-label', 'Close the logs');
    closeLogs.addEventListener('click', () => this.actions.closeLogs());
    this.logsText.tabIndex = 0;
    this.logsText.setAttribute('role', 'log');
    const logsHead = el('div', 'dv-logs-head');
    logsHead.append(this.logsTitle, closeLogs);
    this.logsPane.append(logsHead, this.logsText);
    this.logsPane.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      this.actions.closeLogs();
    });

    this.element.prepend(head, this.error, this.logsPane);
    this.element.insertBefore(figure, activity.nextSibling);
    parent.insertBefore(this.element, before);
  }

  get visible(): boolean {
    return !this.element.hidden;
  }

  setVisible(visible: boolean): void {
    this.element.hidden = !visible;
  }

  focus(): void {
    this.element.querySelector<HTMLElement>('#dv-title')?.focus();
  }

  render(state: DockerViewState): void {
    this.state = state;
    this.connection.textContent = connectionText(state);
    this.connection.dataset['state'] = state.connection.state;
    this.renderActivity(state);
    this.picture.play(state.lit);
    this.renderLists();
  }

  showError(message: string | undefined): void {
    this.error.hidden = message === undefined;
    this.error.textContent = message ?? '';
  }

  /** Image layers: asked for, arrived, failed, or hidden again (undefined). */
  setLayers(imageId: string, layers: LayersState | undefined): void {
    if (layers === undefined) this.layersByImage.delete(imageId);
    else this.layersByImage.set(imageId, layers);
    this.renderLists();
  }

  layersOf(imageId: string): LayersState | undefined {
    return this.layersByImage.get(imageId);
  }

  openLogs(name: string): void {
    this.logsTitle.textContent = `Logs of ${name}`;
    this.logsText.textContent = '';
    this.logsPane.hidden = false;
    this.logsText.focus();
  }

  appendLogs(text: string): void {
    const next = (this.logsText.textContent ?? '') + text;
    this.logsText.textContent = next.length > MAX_LOG_CHARS ? next.slice(-MAX_LOG_CHARS) : next;
    this.logsText.scrollTop = this.logsText.scrollHeight;
  }

  closeLogs(): void {
    this.logsPane.hidden = true;
  }

  dispose(): void {
    this.picture.dispose();
    this.element.remove();
  }

  private section(title: string, className: string): HTMLElement {
    const section = el('section', `dv-section ${className}`);
    const heading = el('h3', 'dv-section-title', title);
    heading.id = `${className}-title`;
    section.setAttribute('aria-labelledby', heading.id);
    const count = el('span', 'dv-count');
    heading.append(' ', count);
    this.counts.set(title, count);
    section.append(heading);
    this.element.append(section);
    return section;
  }

  private renderActivity(state: DockerViewState): void {
    const last = state.activity.at(-1);
    if (last) this.now.textContent = last.text;
    this.now.dataset['kind'] = last?.kind ?? '';
    const layers = [...state.layers.values()];
    this.layerList.replaceChildren(
      ...layers.map((layer) => {
        const item = el('li', 'dv-pull-layer');
        item.dataset['state'] = layer.state;
        const label = layerLabel(layer);
        const bar = el('progress', 'dv-progress');
        bar.max = layer.totalBytes || 1;
        bar.value = layer.state === 'downloading' || layer.state === 'waiting' || layer.state === 'failed' ? Math.min(layer.loadedBytes, bar.max) : bar.max;
        bar.setAttribute('aria-label', label);
        item.append(el('span', 'dv-pull-label', label), bar);
        return item;
      }),
    );
    this.log.replaceChildren(
      ...state.activity
        .slice(-RECENT_ACTIVITY)
        .reverse()
        .map((entry) => {
          const item = el('li', `dv-log-${entry.kind}`, entry.text);
          item.title = new Date(entry.atMs).toLocaleTimeString();
          return item;
        }),
    );
  }

  private renderLists(): void {
    const state = this.state;
    if (!state) return;
    const nowMs = this.clock();
    const all = [...state.containers.values()];
    const needle = this.filter.value.trim().toLowerCase();
    const containers = (needle ? all.filter((c) => c.name.toLowerCase().includes(needle) || c.image.toLowerCase().includes(needle)) : all).sort(byRunningThenNewest);
    this.count('Containers', needle ? `${containers.length} of ${all.length}` : `${all.length}`);
    this.containers.render(containers.map((c): RowSpec => ({ key: c.id, signature: containerSignature(c, nowMs), build: () => buildContainerRow(c, nowMs, this.actions) })));
    const images = [...state.images.values()].sort((a, b) => b.createdS - a.createdS);
    this.count('Images', `${images.length}`);
    this.images.render(
      images.map((image: EngineImage): RowSpec => {
        const layers = this.layersByImage.get(image.id);
        return { key: image.id, signature: imageSignature(image, nowMs, layers), build: () => buildImageRow(image, nowMs, layers, this.actions) };
      }),
    );
    const networks = [...state.networks.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.count('Networks', `${networks.length}`);
    this.networks.render(networks.map((n) => ({ key: n.id, ...networkRow(n, all) })));
    const volumes = [...state.volumes.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.count('Volumes', `${volumes.length}`);
    this.volumes.render(volumes.map((v) => ({ key: v.name, ...volumeRow(v, all) })));
  }

  private count(title: string, text: string): void {
    const count = this.counts.get(title);
    if (count) count.textContent = `(${text})`;
  }

  /** For tests: how many container rows were built so far. */
  get containerRowsBuilt(): number {
    return this.containers.builtRows;
  }
}

function byRunningThenNewest(a: ContainerView, b: ContainerView): number {
  const running = Number(b.state === 'running') - Number(a.state === 'running');
  return running !== 0 ? running : b.createdS - a.createdS || a.name.localeCompare(b.name);
}

function connectionText(state: DockerViewState): string {
  switch (state.connection.state) {
    case 'off':
      return 'Starts when the VM is running.';
    case 'connecting':
      return 'Connecting to the Docker daemon…';
    case 'connected':
      return 'Live from the Docker daemon';
    case 'waiting':
      return state.connection.message ?? 'Waiting for the Docker daemon…';
    default: {
      const unreachable: never = state.connection.state;
      return String(unreachable);
    }
  }
}
