// One list row per container, image, network and volume of the Docker view, with the buttons a row offers.
// Rows are rebuilt whole when their signature changes (keyed-list.ts), so builders are plain functions.
import type { EngineAction, EngineImage, EngineLayer, EngineNetwork, EngineVolume } from '../../worker/shared/contract.ts';
import { describeState, formatBytes, formatDuration } from './commands.ts';
import { shortId } from './describe-event.ts';
import type { ContainerView } from './view-types.ts';
import { el } from '../dom.ts';

export interface RowActions {
  act(action: EngineAction, name: string): void;
  openPort(port: number): void;
  logs(id: string, name: string): void;
  toggleLayers(image: EngineImage): void;
}

/** Layers of an image as the row shows them: not asked, on their way, there, or why not. */
export type LayersState = { kind: 'loading' } | { kind: 'loaded'; layers: EngineLayer[] } | { kind: 'failed'; message: string };

function button(label: string, accessibleName: string, focusKey: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', 'dv-button', label);
  b.type = 'button';
  b.setAttribute('aria-label', accessibleName);
  b.dataset['focus'] = focusKey;
  b.addEventListener('click', onClick);
  return b;
}

export function containerSignature(c: ContainerView, nowMs: number): string {
  return JSON.stringify([c.name, c.image, c.state, c.exitCode, c.health, describeState(c, nowMs), c.ports, c.networks, c.mounts]);
}

export function buildContainerRow(c: ContainerView, nowMs: number, actions: RowActions): HTMLElement {
  const row = el('li', 'dv-item');
  row.dataset['state'] = c.state;
  const head = el('div', 'dv-item-head');
  head.append(el('span', 'dv-name', c.name), el('span', 'dv-badge', describeState(c, nowMs)));
  row.append(head, el('div', 'dv-meta', c.image));
  const published = c.ports.filter((p) => p.publicPort !== undefined);
  // IPv4 and IPv6 bindings of one port are listed twice by dockerd: show each port once.
  const seen = new Set<string>();
  for (const port of published) {
    const key = `${port.publicPort}/${port.protocol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const line = el('div', 'dv-port');
    line.append(el('span', '', `port ${port.publicPort} → ${port.privatePort}/${port.protocol}`));
    if (port.protocol === 'tcp' && port.publicPort !== undefined && c.state === 'running') {
      const publicPort = port.publicPort;
      line.append(button('Open', `Open port ${publicPort} of ${c.name} in the preview`, `open-${publicPort}`, () => actions.openPort(publicPort)));
    }
    row.append(line);
  }
  const addresses = c.networks.map((n) => (n.ipAddress ? `${n.network} ${n.ipAddress}` : n.network));
  if (addresses.length > 0) row.append(el('div', 'dv-meta', `network: ${addresses.join(', ')}`));
  const volumes = c.mounts.map((m) => `${m.name ?? m.source} → ${m.destination}`);
  if (volumes.length > 0) row.append(el('div', 'dv-meta', `mounts: ${volumes.join(', ')}`));
  const buttons = el('div', 'dv-actions');
  if (c.state === 'running' || c.state === 'restarting' || c.state === 'paused') {
    buttons.append(button('Stop', `Stop ${c.name}`, 'stop', () => actions.act({ kind: 'container-stop', id: c.id }, c.name)));
  } else {
    buttons.append(button('Start', `Start ${c.name}`, 'start', () => actions.act({ kind: 'container-start', id: c.id }, c.name)));
  }
  buttons.append(button('Logs', `Logs of ${c.name}`, 'logs', () => actions.logs(c.id, c.name)));
  if (c.state !== 'running' && c.state !== 'restarting' && c.state !== 'paused') {
    buttons.append(button('Remove', `Remove ${c.name}`, 'remove', () => actions.act({ kind: 'container-remove', id: c.id, force: false }, c.name)));
  }
  row.append(buttons);
  return row;
}

export function imageName(image: EngineImage): string {
  return image.tags[0] ?? `<none> ${shortId(image.id)}`;
}

export function imageSignature(image: EngineImage, nowMs: number, layers: LayersState | undefined): string {
  return JSON.stringify([image.tags, image.sizeBytes, formatDuration(nowMs - image.createdS * 1000), layers]);
}

export function buildImageRow(image: EngineImage, nowMs: number, layers: LayersState | undefined, actions: RowActions): HTMLElement {
  const row = el('li', 'dv-item');
  const name = imageName(image);
  const head = el('div', 'dv-item-head');
  head.append(el('span', 'dv-name', name), el('span', 'dv-badge', formatBytes(image.sizeBytes)));
  row.append(head, el('div', 'dv-meta', `${image.tags.slice(1).join(', ')}${image.tags.length > 1 ? ' · ' : ''}created ${formatDuration(nowMs - image.createdS * 1000)} ago`));
  const buttons = el('div', 'dv-actions');
  const toggle = button(layers ? 'Hide layers' : 'Layers', `Layers of ${name}`, 'layers', () => actions.toggleLayers(image));
  toggle.setAttribute('aria-expanded', String(layers !== undefined));
  buttons.append(toggle, button('Remove', `Remove image ${name}`, 'remove', () => actions.act({ kind: 'image-remove', id: image.tags[0] ?? image.id }, name)));
  row.append(buttons);
  if (layers?.kind === 'loading') row.append(el('div', 'dv-meta', 'Asking the daemon for the layers…'));
  if (layers?.kind === 'failed') row.append(el('div', 'dv-meta dv-bad', layers.message));
  if (layers?.kind === 'loaded') {
    const list = el('ol', 'dv-layers-list');
    list.setAttribute('aria-label', `Layers of ${name}, newest first`);
    for (const layer of layers.layers) {
      const step = layer.createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').trim() || '(no command)';
      list.append(el('li', '', `${formatBytes(layer.sizeBytes)} · ${step.length > 120 ? `${step.slice(0, 117)}…` : step}`));
    }
    row.append(list);
  }
  return row;
}

export function networkRow(network: EngineNetwork, containers: readonly ContainerView[]): { signature: string; build: () => HTMLElement } {
  const attached = containers
    .flatMap((c) => c.networks.filter((n) => n.networkId === network.id || n.network === network.name).map((n) => (n.ipAddress ? `${c.name} ${n.ipAddress}` : c.name)))
    .sort();
  const meta = `${network.driver}${network.subnet ? ` · ${network.subnet}` : ''}`;
  return {
    signature: JSON.stringify([network.name, meta, attached]),
    build: () => {
      const row = el('li', 'dv-item');
      const head = el('div', 'dv-item-head');
      head.append(el('span', 'dv-name', network.name), el('span', 'dv-badge', meta));
      row.append(head, el('div', 'dv-meta', attached.length > 0 ? `attached: ${attached.join(', ')}` : 'no containers attached'));
      return row;
    },
  };
}

export function volumeRow(volume: EngineVolume, containers: readonly ContainerView[]): { signature: string; build: () => HTMLElement } {
  const users = containers.flatMap((c) => c.mounts.filter((m) => m.name === volume.name).map((m) => `${c.name} at ${m.destination}`)).sort();
  const name = /^[0-9a-f]{64}$/.test(volume.name) ? `${volume.name.slice(0, 12)} (anonymous)` : volume.name;
  return {
    signature: JSON.stringify([name, volume.driver, users]),
    build: () => {
      const row = el('li', 'dv-item');
      const head = el('div', 'dv-item-head');
      head.append(el('span', 'dv-name', name), el('span', 'dv-badge', volume.driver));
      row.append(head, el('div', 'dv-meta', users.length > 0 ? `mounted by ${users.join(', ')}` : 'not mounted'));
      return row;
    },
  };
}
