// The event-to-view state, for every container, image, network and volume event dockerd 20.10 and 26 emit
// (moby api/types/events and the daemon's Log*Event calls at v20.10.24 and v26.1.5), plus unknown ones.
import { describe, expect, it } from 'vitest';
import type { EngineContainer, EngineEventMessage } from '../../worker/shared/contract.ts';
import { describeEvent } from './describe-event.ts';
import { initialViewState, reduce, startedFromStatus, type ViewAction } from './view-state.ts';
import type { DockerViewState } from './view-types.ts';

const ID = 'c0ffee'.padEnd(64, '0');
const NET = 'beef'.padEnd(64, '1');
const T = 1_700_000_000_000;

function ev(type: string, action: string, actorId: string, attributes: Record<string, string> = {}, offsetMs = 0): EngineEventMessage {
  return { type, action, actorId, attributes, timeNano: (T + offsetMs) * 1e6 };
}

function apply(state: DockerViewState, ...events: EngineEventMessage[]): DockerViewState {
  return reduce(state, { kind: 'events', events, atMs: T });
}

function web(overrides: Partial<EngineContainer> = {}): EngineContainer {
  return { id: ID, name: 'web', image: 'nginx', command: 'nginx', createdS: T / 1000, state: 'running', status: 'Up 2 minutes', ports: [], networks: [], mounts: [], ...overrides };
}

function snapshot(state: DockerViewState, items: EngineContainer[], askedAtSeq = state.seq): DockerViewState {
  return reduce(state, { kind: 'snapshot', list: 'containers', items, askedAtSeq, atMs: T });
}

/** `docker run -d -p 8080:80 --name web nginx` on 20.10 (with the deprecated fields dropped by the worker). */
const RUN_EVENTS = [
  ev('container', 'create', ID, { image: 'nginx', name: 'web' }),
  ev('network', 'connect', NET, { container: ID, name: 'bridge', type: 'bridge' }),
  ev('container', 'start', ID, { image: 'nginx', name: 'web' }, 500),
];

describe('containers', () => {
  it('follows a docker run: created, connected, started (and asks for the list for ports and addresses)', () => {
    const state = apply(initialViewState(), ...RUN_EVENTS);
    const container = state.containers.get(ID);
    expect(container).toMatchObject({ name: 'web', image: 'nginx', state: 'running', startedAtMs: T + 500 });
    expect(container?.networks).toEqual([{ network: 'bridge', networkId: NET, ipAddress: '' }]);
    expect(state.stale.has('containers')).toBe(true);
    expect(state.activity.map((a) => a.text)).toEqual(['Created container web from nginx', 'Connected web to network bridge', 'Started web']);
  });

  it('shows exited with its code on die (20.10 attributes, and 26 with execDuration), then removes on destroy', () => {
    let state = apply(initialViewState(), ...RUN_EVENTS);
    state = apply(state, ev('container', 'kill', ID, { name: 'web', signal: '15' }), ev('container', 'die', ID, { name: 'web', exitCode: '0', execDuration: '3' }), ev('container', 'stop', ID, { name: 'web' }));
    expect(state.containers.get(ID)).toMatchObject({ state: 'exited', exitCode: 0, status: 'Exited (0)' });
    expect(state.activity.slice(-3).map((a) => a.text)).toEqual(['Sent signal 15 to web', 'web exited with code 0', 'Stopped web']);
    state = apply(state, ev('network', 'disconnect', NET, { container: ID, name: 'bridge', type: 'bridge' }), ev('container', 'destroy', ID, { name: 'web' }));
    expect(state.containers.has(ID)).toBe(false);
    expect(state.activity.at(-1)?.text).toBe('Removed container web');
  });

  it("shows nothing of tabdock's warm-up container: no row, no activity, not its network events", () => {
    const WARM = 'feed'.padEnd(64, '2');
    const label = { 'tabdock.warm-up': '1', image: 'sha256:2', name: 'tabdock-warm-up' };
    const before = apply(initialViewState(), ...RUN_EVENTS);
    const after = apply(
      before,
      ev('container', 'create', WARM, label),
      ev('network', 'connect', NET, { container: WARM, name: 'bridge', type: 'bridge' }),
      ev('container', 'start', WARM, label),
      ev('container', 'die', WARM, { ...label, exitCode: '0' }),
      ev('network', 'disconnect', NET, { container: WARM, name: 'bridge', type: 'bridge' }),
    );
    expect(after.containers.has(WARM)).toBe(false);
    expect(after.activity).toEqual(before.activity);
    expect(after.hidden.has(WARM)).toBe(true);
    const destroyed = apply(after, ev('container', 'destroy', WARM, label));
    expect(destroyed.hidden.size).toBe(0);
    expect(destroyed.activity).toEqual(before.activity);
    // The user's container goes on as before.
    expect(apply(destroyed, ev('container', 'die', ID, { name: 'web', exitCode: '3' })).containers.get(ID)).toMatchObject({ state: 'exited', exitCode: 3 });
  });

  it('handles pause, unpause, restart, rename, health, oom and exec events', () => {
    let state = apply(initialViewState(), ...RUN_EVENTS);
    state = apply(state, ev('container', 'pause', ID, { name: 'web' }));
    expect(state.containers.get(ID)?.state).toBe('paused');
    state = apply(state, ev('container', 'unpause', ID, { name: 'web' }));
    expect(state.containers.get(ID)?.state).toBe('running');
    state = apply(state, ev('container', 'die', ID, { name: 'web', exitCode: '137' }), ev('container', 'restart', ID, { name: 'web' }, 9000));
    expect(state.containers.get(ID)).toMatchObject({ state: 'running', startedAtMs: T + 9000 });
    expect(state.containers.get(ID)?.exitCode).toBeUndefined();
    state = apply(state, ev('container', 'rename', ID, { name: 'site', oldName: '/web' }));
    expect(state.containers.get(ID)?.name).toBe('site');
    state = apply(state, ev('container', 'health_status: healthy', ID, { name: 'site' }));
    expect(state.containers.get(ID)?.health).toBe('healthy');
    state = apply(
      state,
      ev('container', 'exec_create: sh -c ls', ID, { name: 'site', execID: 'e1' }),
      ev('container', 'exec_start: sh -c ls', ID, { name: 'site', execID: 'e1' }),
      ev('container', 'exec_die', ID, { name: 'site', execID: 'e1', exitCode: '2' }),
      ev('container', 'oom', ID, { name: 'site' }),
    );
    expect(state.activity.slice(-6).map((a) => a.text)).toEqual([
      'Renamed web to site',
      'site is healthy',
      'Prepared a command in site: sh -c ls',
      'Running in site: sh -c ls',
      'A command in site exited with code 2',
      'site ran out of memory',
    ]);
  });

  it('describes every other container action dockerd emits without changing the state', () => {
    const base = apply(initialViewState(), ...RUN_EVENTS);
    for (const action of ['attach', 'detach', 'resize', 'update', 'top', 'copy', 'archive-path', 'extract-to-dir', 'export', 'checkpoint', 'exec_detach', 'prune']) {
      const next = apply(base, ev('container', action, ID, { name: 'web' }));
      expect(next.activity.at(-1)?.kind, action).toBe('event');
      expect(next.containers.get(ID)?.state, action).toBe('running');
    }
    const commit = apply(base, ev('container', 'commit', ID, { name: 'web', comment: '' }));
    expect(commit.activity.at(-1)?.text).toBe('Build step: committed web as a new image layer');
    expect(commit.stale.has('images')).toBe(true);
  });

  it('lets a snapshot fill in ports and addresses, but never undo a newer event', () => {
    let state = apply(initialViewState(), ...RUN_EVENTS);
    const askedAt = state.seq;
    state = apply(state, ev('container', 'die', ID, { name: 'web', exitCode: '1' }));
    state = snapshot(state, [web({ ports: [{ privatePort: 80, publicPort: 8080, protocol: 'tcp' }], networks: [{ network: 'bridge', networkId: NET, ipAddress: '172.17.0.2' }] })], askedAt);
    expect(state.containers.get(ID)).toMatchObject({ state: 'exited', exitCode: 1 });
    // A snapshot asked for after the die takes over completely.
    state = snapshot(state, [web({ state: 'exited', status: 'Exited (1) 1 second ago', exitCode: 1 })]);
    expect(state.containers.get(ID)?.status).toBe('Exited (1) 1 second ago');
  });

  it('keeps a container removed after the snapshot was asked for out of it, and one created after in it', () => {
    let state = snapshot(initialViewState(), [web()]);
    const askedAt = state.seq;
    state = apply(state, ev('container', 'destroy', ID, { name: 'web' }), ev('container', 'create', 'other', { name: 'db', image: 'redis' }));
    state = snapshot(state, [web()], askedAt);
    expect([...state.containers.keys()]).toEqual(['other']);
  });

  it('estimates the start time of a running container from its status', () => {
    expect(startedFromStatus('Up 3 minutes', T)).toBe(T - 180_000);
    expect(startedFromStatus('Up About an hour (Paused)', T)).toBe(T - 3_600_000);
    expect(startedFromStatus('Up Less than a second', T)).toBe(T);
    expect(startedFromStatus('Up 1 second (healthy)', T)).toBe(T - 1000);
    expect(startedFromStatus('Exited (0) 2 hours ago', T)).toBeUndefined();
  });
});

describe('images', () => {
  it('asks for the image list after pull, tag, untag, load, import, save, push, create and prune; deletes at once', () => {
    let state = reduce(initialViewState(), { kind: 'snapshot', list: 'images', items: [{ id: 'sha256:aa', tags: ['busybox:latest'], sizeBytes: 1, createdS: 1 }], askedAtSeq: 0, atMs: T });
    for (const action of ['pull', 'tag', 'untag', 'load', 'import', 'save', 'push', 'create', 'prune']) {
      const next = apply(reduce(state, { kind: 'fetching', lists: ['images'] }), ev('image', action, action === 'pull' ? 'busybox:latest' : 'sha256:aa', { name: 'busybox:latest' }));
      expect(next.stale.has('images'), action).toBe(true);
      expect(next.activity.at(-1)?.kind, action).toBe('event');
    }
    state = apply(state, ev('image', 'pull', 'busybox:latest', { name: 'busybox' }));
    expect(state.activity.at(-1)?.text).toBe('Pulled busybox:latest');
    expect(state.lit.map((l) => l.part)).toEqual(['client', 'api', 'daemon', 'registry', 'images']);
    state = apply(state, ev('image', 'untag', 'sha256:aa', { name: 'sha256:aa' }), ev('image', 'delete', 'sha256:aa', { name: 'sha256:aa' }));
    expect(state.images.size).toBe(0);
    expect(state.activity.at(-1)?.text).toBe('Deleted image aa');
  });
});

describe('networks and volumes', () => {
  it('adds and removes networks (destroy in 20.10, remove accepted too) and says who connects', () => {
    let state = apply(initialViewState(), ev('network', 'create', NET, { name: 'appnet', type: 'bridge' }));
    expect(state.networks.get(NET)).toMatchObject({ name: 'appnet', driver: 'bridge' });
    expect(state.activity.at(-1)?.text).toBe('Created network appnet (bridge)');
    state = apply(state, ev('network', 'destroy', NET, { name: 'appnet', type: 'bridge' }));
    expect(state.networks.size).toBe(0);
    state = apply(state, ev('network', 'create', NET, { name: 'n2', type: 'bridge' }), ev('network', 'remove', NET, { name: 'n2' }), ev('network', 'prune', '', { reclaimed: '0' }));
    expect(state.networks.size).toBe(0);
  });

  it('adds, mounts and removes volumes', () => {
    let state = apply(initialViewState(), ...RUN_EVENTS);
    state = apply(
      state,
      ev('volume', 'create', 'keep', { driver: 'local' }),
      ev('volume', 'mount', 'keep', { container: ID, destination: '/data', driver: 'local', propagation: '', 'read/write': 'true' }),
    );
    expect(state.volumes.get('keep')).toMatchObject({ name: 'keep', driver: 'local' });
    expect(state.containers.get(ID)?.mounts).toEqual([{ type: 'volume', name: 'keep', source: '', destination: '/data', readWrite: true }]);
    expect(state.activity.at(-1)?.text).toBe('Mounted volume keep into web at /data');
    state = apply(state, ev('volume', 'unmount', 'keep', { container: ID, driver: 'local' }), ev('volume', 'destroy', 'keep', { driver: 'local' }), ev('volume', 'prune', '', { reclaimed: '2000000' }));
    expect(state.volumes.size).toBe(0);
    expect(state.activity.slice(-3).map((a) => a.text)).toEqual(['Unmounted volume keep from web', 'Removed volume keep', 'Pruned unused volumes (2.0 MB freed)']);
  });
});

describe('unknown and raw', () => {
  it('shows an unknown type or action raw, refreshes a known list, and never throws', () => {
    let state = apply(initialViewState(), ev('plugin', 'enable', 'p1', { name: 'vieux/sshfs' }));
    expect(state.activity.at(-1)).toMatchObject({ kind: 'raw', text: 'plugin enable p1 (name=vieux/sshfs)' });
    state = apply(state, ev('container', 'teleport', ID, { name: 'web' }));
    expect(state.activity.at(-1)).toMatchObject({ kind: 'raw', text: expect.stringContaining('container teleport') });
    expect(state.stale.has('containers')).toBe(true);
    state = reduce(state, { kind: 'raw', text: 'not json at all', atMs: T });
    expect(state.activity.at(-1)).toMatchObject({ kind: 'raw', text: 'not json at all' });
    expect(describeEvent(ev('', '', ''), () => undefined).known).toBe(false);
    expect(apply(state, ev('daemon', 'reload', 'd1', {})).activity.at(-1)?.text).toBe('The daemon reloaded its configuration');
  });
});

describe('pull progress and the picture', () => {
  it('keeps per-layer progress, starting afresh for the next pull', () => {
    const layer = { registry: 'registry-1.docker.io', repository: 'library/nginx', digest: 'sha256:l1', loadedBytes: 0, totalBytes: 100, state: 'downloading' as const };
    let state = reduce(initialViewState(), { kind: 'layers', layers: [layer], atMs: T });
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, digest: 'sha256:l2' }], atMs: T });
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, loadedBytes: 100, state: 'done' }, { ...layer, digest: 'sha256:l2', loadedBytes: 100, state: 'done' }], atMs: T });
    expect([...state.layers.values()].map((l) => [l.digest, l.loadedBytes, l.state])).toEqual([
      ['sha256:l1', 100, 'done'],
      ['sha256:l2', 100, 'done'],
    ]);
    expect(state.activity.map((a) => a.text)).toEqual(['Pulling a layer of nginx from registry-1.docker.io', 'Pulling a layer of nginx from registry-1.docker.io']);
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, digest: 'sha256:l3' }], atMs: T + 60_000 });
    expect([...state.layers.keys()]).toEqual(['sha256:l3']);
  });

  it('keeps a finished layer when another layer of the same pull starts just after it', () => {
    // Seen in the guest: the new 0.5 MB layer was done before the 1.1 MB base layer's first report.
    const small = { registry: '127.0.0.1:5000', repository: 'library/pulled', digest: 'sha256:small', loadedBytes: 0, totalBytes: 524_622, state: 'downloading' as const };
    let state = reduce(initialViewState(), { kind: 'layers', layers: [small], atMs: T });
    state = reduce(state, { kind: 'layers', layers: [{ ...small, loadedBytes: 524_622, state: 'done' }], atMs: T + 400 });
    state = reduce(state, { kind: 'layers', layers: [{ ...small, digest: 'sha256:base', totalBytes: 1_100_092 }], atMs: T + 700 });
    expect([...state.layers.keys()]).toEqual(['sha256:small', 'sha256:base']);
    // Another repository once all finished is another pull, however soon it comes.
    state = reduce(state, { kind: 'layers', layers: [{ ...small, digest: 'sha256:base', loadedBytes: 1_100_092, totalBytes: 1_100_092, state: 'done' }], atMs: T + 1_500 });
    state = reduce(state, { kind: 'layers', layers: [{ ...small, repository: 'library/nginx', digest: 'sha256:other' }], atMs: T + 2_000 });
    expect([...state.layers.keys()]).toEqual(['sha256:other']);
    // While a layer downloads, nothing is forgotten, even for another repository.
    state = reduce(state, { kind: 'layers', layers: [{ ...small, digest: 'sha256:third' }], atMs: T + 60_000 });
    expect([...state.layers.keys()]).toEqual(['sha256:other', 'sha256:third']);
  });

  it("lists a manifest's layers as waiting, then settles them on the image's pull event as the CLI does (#27)", () => {
    const layer = { registry: '127.0.0.1:5000', repository: 'library/nginx', loadedBytes: 0, totalBytes: 35_120_000 };
    const waiting = ['sha256:a1', 'sha256:a2', 'sha256:a3'].map((digest) => ({ ...layer, digest, state: 'waiting' as const }));
    let state = reduce(initialViewState(), { kind: 'layers', layers: waiting, atMs: T });
    // Waiting is not yet a download: no activity line until a layer's bytes start.
    expect(state.activity).toEqual([]);
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, digest: 'sha256:a1', loadedBytes: 12_345_678, state: 'downloading' }], atMs: T + 500 });
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, digest: 'sha256:a2', loadedBytes: 35_120_000, state: 'done' }], atMs: T + 900 });
    expect(state.activity.map((a) => a.text)).toEqual(['Pulling a layer of nginx from 127.0.0.1:5000', 'Pulling a layer of nginx from 127.0.0.1:5000']);
    state = reduce(state, { kind: 'layers', layers: [{ ...layer, digest: 'sha256:a1', loadedBytes: 35_120_000, state: 'done' }], atMs: T + 2_000 });
    state = reduce(state, { kind: 'events', events: [ev('image', 'pull', 'nginx:latest', { name: 'nginx' })], atMs: T + 3_000 });
    expect([...state.layers.values()].map((l) => [l.digest, l.state])).toEqual([
      ['sha256:a1', 'complete'],
      ['sha256:a2', 'complete'],
      ['sha256:a3', 'exists'],
    ]);
  });

  it("writes each layer's line in the docker CLI's words and sizes", async () => {
    const { dockerSize, layerLabel } = await import('./commands.ts');
    // go-units HumanSizeWithPrecision(size, 4), as `docker pull` prints progress.
    expect([0, 512, 1000, 999_960, 12_345_678, 35_120_000, 1_500_000_000].map(dockerSize)).toEqual(['0B', '512B', '1kB', '1000kB', '12.35MB', '35.12MB', '1.5GB']);
    const layer = { registry: 'r', repository: 'library/nginx', digest: 'sha256:3f4ca61aafcd0123456789', loadedBytes: 12_345_678, totalBytes: 35_120_000 };
    expect(layerLabel({ ...layer, state: 'waiting' })).toBe('3f4ca61aafcd: Waiting');
    expect(layerLabel({ ...layer, state: 'downloading' })).toBe('3f4ca61aafcd: Downloading  12.35MB/35.12MB');
    expect(layerLabel({ ...layer, state: 'done' })).toBe('3f4ca61aafcd: Download complete');
    expect(layerLabel({ ...layer, state: 'complete' })).toBe('3f4ca61aafcd: Pull complete');
    expect(layerLabel({ ...layer, state: 'exists' })).toBe('3f4ca61aafcd: Already exists');
  });

  it('lights client, API and daemon first for a new command, then the parts in event order', () => {
    const layer = { registry: 'r', repository: 'library/nginx', digest: 'sha256:l1', loadedBytes: 0, totalBytes: 1, state: 'downloading' as const };
    let state = reduce(initialViewState(), { kind: 'layers', layers: [layer], atMs: T });
    const actions: ViewAction[] = [
      { kind: 'events', events: [ev('image', 'pull', 'nginx:latest', { name: 'nginx' })], atMs: T + 100 },
      { kind: 'events', events: RUN_EVENTS, atMs: T + 200 },
    ];
    state = actions.reduce(reduce, state);
    expect(state.lit.map((l) => l.part)).toEqual(['client', 'api', 'daemon', 'registry', 'images', 'registry', 'images', 'images', 'containers', 'containers', 'networks', 'containers']);
    const seqs = state.lit.map((l) => l.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });
});

describe('equivalent commands', () => {
  it('echoes plain names bare and quotes anything else', async () => {
    const { equivalentCommand } = await import('./commands.ts');
    expect(equivalentCommand({ kind: 'container-stop', id: 'x' }, 'web')).toBe('docker stop web');
    expect(equivalentCommand({ kind: 'container-start', id: 'x' }, 'web')).toBe('docker start web');
    expect(equivalentCommand({ kind: 'container-remove', id: 'x', force: false }, 'web')).toBe('docker rm web');
    expect(equivalentCommand({ kind: 'container-remove', id: 'x', force: true }, 'web')).toBe('docker rm -f web');
    expect(equivalentCommand({ kind: 'image-remove', id: 'x' }, 'registry.test:5000/a/b:v1')).toBe('docker rmi registry.test:5000/a/b:v1');
    expect(equivalentCommand({ kind: 'image-remove', id: 'x' }, "<none> a'b")).toBe(`docker rmi '<none> a'\\''b'`);
  });
});
