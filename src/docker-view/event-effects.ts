// What one container, network or volume event does to the view state's maps (view-state.ts reduces events
// through these). Lists that an event cannot update by itself are added to `stale`, to be fetched again.
import type { EngineEventMessage } from '../../worker/shared/contract.ts';
import type { ContainerView, DockerViewState, ListKind } from './view-types.ts';

/** Tombstones of removed containers kept, so an old snapshot cannot bring one back. */
const MAX_REMOVED = 1000;

export function applyContainerEvent(state: DockerViewState, event: EngineEventMessage, action: string, detail: string, stale: Set<ListKind>): DockerViewState {
  const id = event.actorId;
  const known = state.containers.get(id);
  const a = event.attributes;
  const eventMs = Math.round(event.timeNano / 1e6);
  const update = (patch: Partial<ContainerView>): DockerViewState => {
    if (!known) {
      // An event for a container the list has not shown yet (the snapshot is on its way): fetch it.
      stale.add('containers');
      return state;
    }
    return { ...state, containers: withEntry(state.containers, id, { ...known, ...patch, seq: state.seq }) };
  };
  switch (action) {
    case 'create': {
      stale.add('containers');
      const created: ContainerView = {
        id,
        name: a['name'] ?? id.slice(0, 12),
        image: a['image'] ?? '',
        command: '',
        createdS: Math.floor(eventMs / 1000),
        state: 'created',
        status: 'Created',
        ports: [],
        networks: [],
        mounts: [],
        seq: state.seq,
      };
      const removed = new Map(state.removed);
      removed.delete(id);
      return { ...state, removed, containers: withEntry(state.containers, id, known ? { ...known, seq: state.seq } : created) };
    }
    case 'start':
    case 'restart':
    case 'unpause': {
      // Published ports and addresses are set at start: the list has them.
      stale.add('containers');
      if (!known) return update({});
      const { exitCode: _previousExit, ...rest } = known;
      const started: ContainerView = { ...rest, state: 'running', status: 'Up', seq: state.seq, ...(action === 'unpause' ? {} : { startedAtMs: eventMs }) };
      return { ...state, containers: withEntry(state.containers, id, started) };
    }
    case 'die': {
      const exitCode = Number(a['exitCode']);
      return update({
        state: 'exited',
        status: `Exited (${Number.isFinite(exitCode) ? exitCode : '?'})`,
        ...(Number.isFinite(exitCode) ? { exitCode } : {}),
        networks: (known?.networks ?? []).map((n) => ({ ...n, ipAddress: '' })),
        ports: (known?.ports ?? []).filter((p) => p.publicPort === undefined),
      });
    }
    case 'pause':
      return update({ state: 'paused', status: 'Paused' });
    case 'rename':
      return update({ name: (a['name'] ?? known?.name ?? '').replace(/^\//, '') });
    case 'health_status':
      return update({ health: detail });
    case 'destroy':
    case 'remove': {
      const removed = new Map(state.removed);
      removed.set(id, state.seq);
      if (removed.size > MAX_REMOVED) removed.delete(removed.keys().next().value as string);
      return { ...state, removed, containers: without(state.containers, id) };
    }
    case 'commit':
      stale.add('images');
      return state;
    default:
      return state;
  }
}

export function applyNetworkEvent(state: DockerViewState, event: EngineEventMessage, action: string, stale: Set<ListKind>): DockerViewState {
  const a = event.attributes;
  switch (action) {
    case 'create':
      stale.add('networks');
      return { ...state, networks: withEntry(state.networks, event.actorId, { id: event.actorId, name: a['name'] ?? event.actorId.slice(0, 12), driver: a['type'] ?? '' }) };
    case 'destroy':
    case 'remove':
      return { ...state, networks: without(state.networks, event.actorId) };
    case 'connect':
    case 'disconnect': {
      const containerId = a['container'] ?? '';
      const known = state.containers.get(containerId);
      // Addresses are assigned at connect: the container list has them.
      stale.add('containers');
      if (!known) return state;
      const others = known.networks.filter((n) => n.networkId !== event.actorId);
      const networks = action === 'connect' ? [...others, { network: a['name'] ?? event.actorId.slice(0, 12), networkId: event.actorId, ipAddress: '' }] : others;
      return { ...state, containers: withEntry(state.containers, containerId, { ...known, networks, seq: state.seq }) };
    }
    default:
      return state;
  }
}

export function applyVolumeEvent(state: DockerViewState, event: EngineEventMessage, action: string, stale: Set<ListKind>): DockerViewState {
  const a = event.attributes;
  switch (action) {
    case 'create':
      stale.add('volumes');
      return { ...state, volumes: withEntry(state.volumes, event.actorId, { name: event.actorId, driver: a['driver'] ?? 'local', mountpoint: '' }) };
    case 'destroy':
    case 'remove':
      return { ...state, volumes: without(state.volumes, event.actorId) };
    case 'mount': {
      const containerId = a['container'] ?? '';
      const known = state.containers.get(containerId);
      if (!known) return state;
      const destination = a['destination'] ?? '';
      const mounts = [...known.mounts.filter((m) => m.destination !== destination), { type: 'volume', name: event.actorId, source: '', destination, readWrite: a['read/write'] !== 'false' }];
      return { ...state, containers: withEntry(state.containers, containerId, { ...known, mounts, seq: state.seq }) };
    }
    default:
      return state;
  }
}

export function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> {
  const copy = new Map(map);
  copy.set(key, value);
  return copy;
}

export function without<V>(map: ReadonlyMap<string, V>, key: string): ReadonlyMap<string, V> {
  if (!map.has(key)) return map;
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}
