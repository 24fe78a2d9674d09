// The Docker view's state, as a pure reducer: list snapshots from the Engine API, then the daemon's /events and
// the registry shim's layer progress applied one by one. Events say most of what changes; where they cannot
// (ports and addresses after a start, an image's size after a pull) the state asks for a list to be fetched again
// (`stale`), and a snapshot never undoes an event that arrived after it was asked for.
import type { EngineContainer, EngineEventMessage, EngineImage, EngineNetwork, EngineVolume, LayerProgress, EngineConnectionState } from '../../worker/shared/contract.ts';
import { describeEvent, rawEventText, splitAction, type ArchPart } from './describe-event.ts';
import { TABDOCK_INTERNAL_LABEL } from '../../worker/shared/engine-contract.ts';
import { applyContainerEvent, applyNetworkEvent, applyVolumeEvent, without } from './event-effects.ts';
import { LIST_KINDS, type ActivityEntry, type ContainerView, type DockerViewState, type LayerView, type ListKind } from './view-types.ts';

export type ViewAction =
  | { kind: 'connection'; state: EngineConnectionState | 'off'; message?: string }
  /** `askedAtSeq`: the state's seq when the list was requested. */
  | { kind: 'snapshot'; list: 'containers'; items: EngineContainer[]; askedAtSeq: number; atMs: number }
  | { kind: 'snapshot'; list: 'images'; items: EngineImage[]; askedAtSeq: number; atMs: number }
  | { kind: 'snapshot'; list: 'networks'; items: EngineNetwork[]; askedAtSeq: number; atMs: number }
  | { kind: 'snapshot'; list: 'volumes'; items: EngineVolume[]; askedAtSeq: number; atMs: number }
  | { kind: 'events'; events: EngineEventMessage[]; atMs: number }
  | { kind: 'raw'; text: string; atMs: number }
  | { kind: 'layers'; layers: LayerProgress[]; atMs: number }
  /** The controller is fetching these lists now. */
  | { kind: 'fetching'; lists: ListKind[] };

const MAX_ACTIVITY = 50;
const MAX_LIT = 24;
/** After this long without events, the next one starts a new "command": the client and API light first. */
const NEW_COMMAND_GAP_MS = 3_000;
/**
 * A layer of another repository, or of the same one after this long with no layer reports, starts a new pull
 * when the listed layers have all finished. Without the pause a pull's own layers could wipe each other: dockerd
 * may start a layer's request only after a smaller one has already finished (seen with a 1.1 MB base layer
 * whose first bytes came after a 0.5 MB layer was done).
 */
const NEW_PULL_GAP_MS = 10_000;

export function initialViewState(): DockerViewState {
  return {
    connection: { state: 'off' },
    containers: new Map(),
    images: new Map(),
    networks: new Map(),
    volumes: new Map(),
    layers: new Map(),
    lastLayerAtMs: -Infinity,
    activity: [],
    lit: [],
    stale: new Set(),
    removed: new Map(),
    hidden: new Set(),
    seq: 0,
    lastEventAtMs: -Infinity,
  };
}

export function reduce(state: DockerViewState, action: ViewAction): DockerViewState {
  switch (action.kind) {
    case 'connection':
      return action.message === undefined
        ? { ...state, connection: { state: action.state } }
        : { ...state, connection: { state: action.state, message: action.message } };
    case 'fetching': {
      const stale = new Set(state.stale);
      for (const list of action.lists) stale.delete(list);
      return { ...state, stale };
    }
    case 'snapshot':
      return applySnapshot(state, action);
    case 'events':
      return action.events.reduce((next, event) => applyEvent(next, event, action.atMs), state);
    case 'raw':
      return addActivity({ ...state, seq: state.seq + 1 }, { text: action.text, kind: 'raw', atMs: action.atMs });
    case 'layers':
      return applyLayers(state, action.layers, action.atMs);
    default: {
      const unreachable: never = action;
      throw new Error(`unknown view action ${JSON.stringify(unreachable)}`);
    }
  }
}

function applySnapshot(state: DockerViewState, action: Extract<ViewAction, { kind: 'snapshot' }>): DockerViewState {
  switch (action.list) {
    case 'containers': {
      const containers = new Map<string, ContainerView>();
      for (const item of action.items) {
        if ((state.removed.get(item.id) ?? -1) > action.askedAtSeq) continue;
        const known = state.containers.get(item.id);
        // An event newer than the request wins for what events know (state, exit code, start time).
        if (known && known.seq > action.askedAtSeq) {
          containers.set(item.id, { ...item, state: known.state, seq: known.seq, ...pick(known) });
          continue;
        }
        const startedAtMs = known?.startedAtMs ?? startedFromStatus(item.status, action.atMs);
        containers.set(item.id, { ...item, seq: known?.seq ?? 0, ...(startedAtMs === undefined ? {} : { startedAtMs }), ...(known?.health ? { health: known.health } : {}) });
      }
      // Created by an event after the request: the daemon's answer could not have listed it yet.
      for (const [id, known] of state.containers) if (!containers.has(id) && known.seq > action.askedAtSeq) containers.set(id, known);
      return { ...state, containers };
    }
    case 'images':
      return { ...state, images: new Map(action.items.map((item) => [item.id, item])) };
    case 'networks':
      return { ...state, networks: new Map(action.items.map((item) => [item.id, item])) };
    case 'volumes':
      return { ...state, volumes: new Map(action.items.map((item) => [item.name, item])) };
    default: {
      const unreachable: never = action;
      throw new Error(`unknown snapshot ${JSON.stringify(unreachable)}`);
    }
  }
}

function pick(known: ContainerView): Partial<ContainerView> {
  const out: Partial<ContainerView> = {};
  if (known.exitCode !== undefined) out.exitCode = known.exitCode;
  if (known.startedAtMs !== undefined) out.startedAtMs = known.startedAtMs;
  if (known.health !== undefined) out.health = known.health;
  return out;
}

/** An event about one of tabdock's own containers: the state that remembers it, or undefined for the user's. */
function hiddenEvent(state: DockerViewState, event: EngineEventMessage): DockerViewState | undefined {
  if (event.type === 'container' && (event.attributes[TABDOCK_INTERNAL_LABEL] !== undefined || state.hidden.has(event.actorId))) {
    const hidden = new Set(state.hidden);
    if (splitAction(event.action)[0] === 'destroy') hidden.delete(event.actorId);
    else hidden.add(event.actorId);
    return { ...state, hidden };
  }
  const container = event.attributes['container'];
  if (event.type === 'network' && container !== undefined && state.hidden.has(container)) return state;
  return undefined;
}

function applyEvent(state: DockerViewState, event: EngineEventMessage, atMs: number): DockerViewState {
  const hidden = hiddenEvent(state, event);
  if (hidden) return hidden;
  const seq = state.seq + 1;
  let next: DockerViewState = { ...state, seq };
  const meaning = describeEvent(event, (id) => state.containers.get(id)?.name);
  const [action, detail] = splitAction(event.action);
  const stale = new Set<ListKind>();
  switch (event.type) {
    case 'container':
      next = applyContainerEvent(next, event, action, detail, stale);
      break;
    case 'image':
      // Sizes, tags and ids after a pull, tag or load come from the list; a delete is known at once.
      if (action === 'delete') next = { ...next, images: without(next.images, event.actorId) };
      if (action === 'pull') next = { ...next, layers: settleLayers(next.layers) };
      stale.add('images');
      break;
    case 'network':
      next = applyNetworkEvent(next, event, action, stale);
      break;
    case 'volume':
      next = applyVolumeEvent(next, event, action, stale);
      break;
    case 'builder':
      stale.add('images');
      break;
    default:
      break;
  }
  if (!meaning.known && LIST_KINDS.includes(`${event.type}s` as ListKind)) stale.add(`${event.type}s` as ListKind);
  next = markStale(next, stale);
  next = addActivity(next, { text: meaning.known ? meaning.text : rawEventText(event), kind: meaning.known ? 'event' : 'raw', atMs });
  const parts: ArchPart[] = atMs - state.lastEventAtMs > NEW_COMMAND_GAP_MS ? ['client', 'api', 'daemon', ...meaning.parts] : meaning.parts;
  return { ...light(next, parts), lastEventAtMs: atMs };
}

function applyLayers(state: DockerViewState, layers: readonly LayerProgress[], atMs: number): DockerViewState {
  const map = new Map(state.layers);
  let next = state;
  let lastLayerAtMs = state.lastLayerAtMs;
  for (const layer of layers) {
    const known = map.get(layer.digest);
    // A new pull starts: forget the layers of the previous one once all of them finished. The layers of one batch
    // (a manifest's list) came together, so only the first can start a pull.
    if (known === undefined && startsNewPull(map, layer, atMs - lastLayerAtMs)) map.clear();
    lastLayerAtMs = atMs;
    map.set(layer.digest, layer);
    // The manifest lists layers as waiting; a layer's activity is when its download starts.
    if (layer.state !== 'waiting' && (known === undefined || known.state === 'waiting')) {
      next = { ...next, seq: next.seq + 1 };
      next = addActivity(next, { text: `Pulling a layer of ${layer.repository.replace(/^library\//, '')} from ${layer.registry}`, kind: 'pull', atMs });
      next = light(next, atMs - state.lastEventAtMs > NEW_COMMAND_GAP_MS ? ['client', 'api', 'daemon', 'registry', 'images'] : ['registry', 'images']);
      next = { ...next, lastEventAtMs: atMs };
    }
  }
  return { ...next, layers: map, lastLayerAtMs: atMs };
}

/** The pull ended: its downloaded layers are complete, and the ones it never asked for were already there. */
function settleLayers(layers: ReadonlyMap<string, LayerView>): ReadonlyMap<string, LayerView> {
  const settled = new Map<string, LayerView>();
  for (const [digest, layer] of layers) {
    const state = layer.state === 'done' ? 'complete' : layer.state === 'waiting' ? 'exists' : layer.state;
    settled.set(digest, { ...layer, state });
  }
  return settled;
}

function startsNewPull(listed: ReadonlyMap<string, LayerView>, layer: LayerProgress, quietMs: number): boolean {
  const known = [...listed.values()];
  if (known.some((l) => l.state === 'downloading')) return false;
  return quietMs > NEW_PULL_GAP_MS || known.some((l) => l.repository !== layer.repository || l.registry !== layer.registry);
}

function addActivity(state: DockerViewState, entry: Omit<ActivityEntry, 'seq'>): DockerViewState {
  const activity = [...state.activity, { ...entry, seq: state.seq }];
  return { ...state, activity: activity.length > MAX_ACTIVITY ? activity.slice(-MAX_ACTIVITY) : activity };
}

function light(state: DockerViewState, parts: readonly ArchPart[]): DockerViewState {
  let seq = state.seq;
  const lit = [...state.lit];
  for (const part of parts) {
    seq += 1;
    lit.push({ seq, part });
  }
  return { ...state, seq, lit: lit.length > MAX_LIT ? lit.slice(-MAX_LIT) : lit };
}

function markStale(state: DockerViewState, lists: ReadonlySet<ListKind>): DockerViewState {
  if (lists.size === 0) return state;
  return { ...state, stale: new Set([...state.stale, ...lists]) };
}

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000, year: 31536000 };

/** "Up 3 minutes", "Up About an hour (Paused)", "Up Less than a second" -> the start time, roughly. */
export function startedFromStatus(status: string, nowMs: number): number | undefined {
  const match = /^Up (Less than a second|About an? (\w+)|(\d+) (\w+?)s?\b)/.exec(status);
  if (!match) return undefined;
  if (match[1] === 'Less than a second') return nowMs;
  const unit = (match[2] ?? match[4] ?? '').replace(/s$/, '');
  const seconds = (match[3] === undefined ? 1 : Number(match[3])) * (UNIT_SECONDS[unit] ?? 0);
  return nowMs - seconds * 1000;
}
