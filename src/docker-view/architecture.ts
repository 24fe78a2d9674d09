// The architecture picture: an inline SVG of the client, the REST API, the daemon, the registry and what the
// daemon manages (images, containers, networks, volumes). The parts an event involves light up one after the
// other, in the order the view state lists them, so `docker run -d -p 8080:80 nginx` visibly goes client ->
// API -> daemon -> registry -> images -> containers -> networks.
import type { ArchPart } from './describe-event.ts';
import type { LitPart } from './view-types.ts';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Time between two parts lighting up, and how long each stays lit. */
const STEP_MS = 280;
const GLOW_MS = 1_600;

interface Box {
  part: ArchPart;
  label: string;
  sub: string;
  x: number;
  y: number;
}

const W = 76;
const H = 38;
const BOXES: readonly Box[] = [
  { part: 'client', label: 'Client', sub: 'docker CLI', x: 6, y: 8 },
  { part: 'api', label: 'REST API', sub: '/v1.41/…', x: 96, y: 8 },
  { part: 'daemon', label: 'Daemon', sub: 'dockerd', x: 186, y: 8 },
  { part: 'registry', label: 'Registry', sub: 'pull layers', x: 276, y: 8 },
  { part: 'images', label: 'Images', sub: 'read-only layers', x: 6, y: 96 },
  { part: 'containers', label: 'Containers', sub: 'writable layer', x: 96, y: 96 },
  { part: 'networks', label: 'Networks', sub: 'bridge, ports', x: 186, y: 96 },
  { part: 'volumes', label: 'Volumes', sub: 'kept data', x: 276, y: 96 },
];

const LINKS: ReadonlyArray<[ArchPart, ArchPart]> = [
  ['client', 'api'],
  ['api', 'daemon'],
  ['daemon', 'registry'],
  ['daemon', 'images'],
  ['daemon', 'containers'],
  ['daemon', 'networks'],
  ['daemon', 'volumes'],
];

export const PART_LABELS: Record<ArchPart, string> = {
  client: 'client',
  api: 'REST API',
  daemon: 'daemon',
  registry: 'registry',
  images: 'images',
  containers: 'containers',
  networks: 'networks',
  volumes: 'volumes',
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

export class ArchitecturePicture {
  readonly element: SVGSVGElement;
  private readonly parts = new Map<ArchPart, SVGGElement>();
  private readonly timers = new Map<ArchPart, ReturnType<typeof setTimeout>>();
  private lastSeq = 0;
  private queue: ArchPart[] = [];
  private stepTimer: ReturnType<typeof setTimeout> | undefined;
  /** The parts of the last command, in order, for the text alternative. */
  private trail: ArchPart[] = [];

  constructor(private readonly onTrail: (description: string) => void) {
    this.element = svg('svg', { viewBox: '0 0 358 142', class: 'dv-arch', role: 'img', 'aria-labelledby': 'dv-arch-title' });
    const title = svg('title', { id: 'dv-arch-title' });
    title.textContent = 'How Docker works: the client calls the daemon through its REST API; the daemon pulls images from a registry and runs containers with networks and volumes. The parts the last command used light up.';
    this.element.append(title);
    const centre = (box: Box) => ({ x: box.x + W / 2, y: box.y + H / 2 });
    for (const [from, to] of LINKS) {
      const a = BOXES.find((b) => b.part === from);
      const b = BOXES.find((box) => box.part === to);
      if (!a || !b) continue;
      const start = centre(a);
      const end = centre(b);
      const horizontal = a.y === b.y;
      this.element.append(
        svg('line', {
          class: 'dv-arch-link',
          x1: horizontal ? a.x + W : start.x,
          y1: horizontal ? start.y : a.y + H,
          x2: horizontal ? b.x : end.x,
          y2: horizontal ? end.y : b.y,
        }),
      );
    }
    for (const box of BOXES) {
      const group = svg('g', { class: 'dv-arch-part', 'data-part': box.part });
      group.append(svg('rect', { x: box.x, y: box.y, width: W, height: H, rx: 6 }));
      const label = svg('text', { x: box.x + W / 2, y: box.y + 16, class: 'dv-arch-label' });
      label.textContent = box.label;
      const sub = svg('text', { x: box.x + W / 2, y: box.y + 30, class: 'dv-arch-sub' });
      sub.textContent = box.sub;
      group.append(label, sub);
      this.parts.set(box.part, group);
      this.element.append(group);
    }
  }

  /** Lights the parts not played yet, one after the other. */
  play(lit: readonly LitPart[]): void {
    const fresh = lit.filter((entry) => entry.seq > this.lastSeq);
    if (fresh.length === 0) return;
    this.lastSeq = fresh[fresh.length - 1]?.seq ?? this.lastSeq;
    this.queue.push(...fresh.map((entry) => entry.part));
    if (this.stepTimer === undefined) this.step();
  }

  dispose(): void {
    clearTimeout(this.stepTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
  }

  private step(): void {
    const part = this.queue.shift();
    if (part === undefined) {
      this.stepTimer = undefined;
      return;
    }
    if (part === 'client') this.trail = [];
    if (this.trail.at(-1) !== part) this.trail.push(part);
    this.onTrail(this.trail.map((p) => PART_LABELS[p]).join(' → '));
    const group = this.parts.get(part);
    if (group) {
      for (const other of this.parts.values()) other.classList.remove('is-current');
      group.classList.add('is-lit', 'is-current');
      clearTimeout(this.timers.get(part));
      this.timers.set(
        part,
        setTimeout(() => group.classList.remove('is-lit', 'is-current'), GLOW_MS),
      );
    }
    // A long backlog (a burst of events) plays faster rather than lagging behind the terminal.
    this.stepTimer = setTimeout(() => this.step(), this.queue.length > 8 ? STEP_MS / 4 : STEP_MS);
  }
}
