// @vitest-environment jsdom
// The Docker view in a DOM: 500 containers render a page of rows and an event rebuilds one; the header toggle
// is remembered and starts or stops the watch; actions call the Engine API and echo the docker command; a
// daemon that goes away is said; rows and buttons have names for assistive technology.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineAction, EngineContainer, EngineQuery, EngineUpdate } from '../../worker/shared/contract.ts';
import { DOCKER_VIEW_STORAGE_KEY, mountDockerView, type DockerViewVm } from './index.ts';
import { DockerPanel } from './panel.ts';
import { initialViewState, reduce } from './view-state.ts';

const T = 1_700_000_000_000;

function container(i: number, overrides: Partial<EngineContainer> = {}): EngineContainer {
  return {
    id: `id${String(i).padStart(4, '0')}`,
    name: `c${i}`,
    image: 'busybox',
    command: 'sleep 1d',
    createdS: T / 1000 - i,
    state: 'running',
    status: 'Up 2 minutes',
    ports: [],
    networks: [{ network: 'bridge', networkId: 'n', ipAddress: `172.17.${Math.floor(i / 250)}.${(i % 250) + 2}` }],
    mounts: [],
    ...overrides,
  };
}

function noActions() {
  return { act: vi.fn(), openPort: vi.fn(), logs: vi.fn(), toggleLayers: vi.fn(), closeLogs: vi.fn() };
}

beforeEach(() => {
  document.body.innerHTML = '<header class="app-header"></header><main id="app-main"></main>';
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => setTimeout(() => callback(0), 0) as unknown as number);
  vi.stubGlobal('cancelAnimationFrame', (id: number) => clearTimeout(id));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('DockerPanel with 500 containers', () => {
  it('shows one page of rows, more on request, and rebuilds only the row an event changed', () => {
    const panel = new DockerPanel(document.getElementById('app-main')!, noActions(), () => T);
    panel.setVisible(true);
    const items = Array.from({ length: 500 }, (_, i) => container(i));
    let state = reduce(initialViewState(), { kind: 'snapshot', list: 'containers', items, askedAtSeq: 0, atMs: T });
    panel.render(state);
    const list = () => document.querySelectorAll('.dv-containers .dv-item');
    expect(list()).toHaveLength(50);
    expect(document.querySelector('.dv-containers .dv-count')?.textContent).toBe('(500)');
    const built = panel.containerRowsBuilt;
    state = reduce(state, { kind: 'events', events: [{ type: 'container', action: 'die', actorId: 'id0003', attributes: { name: 'c3', exitCode: '1' }, timeNano: T * 1e6 }], atMs: T });
    panel.render(state);
    expect(panel.containerRowsBuilt - built).toBe(1);
    // The exited container moves below the running ones, out of the first page.
    expect(Array.from(list()).some((row) => row.querySelector('.dv-name')?.textContent === 'c3')).toBe(false);
    const more = Array.from(document.querySelectorAll<HTMLButtonElement>('.dv-containers .dv-more'))[0]!;
    expect(more.textContent).toBe('Show 50 more containers (450 not shown)');
    more.click();
    expect(list()).toHaveLength(100);
    const filter = document.querySelector<HTMLInputElement>('.dv-filter')!;
    filter.value = 'c49';
    filter.dispatchEvent(new Event('input'));
    expect(Array.from(list()).map((row) => row.querySelector('.dv-name')?.textContent)).toEqual(['c49', 'c490', 'c491', 'c492', 'c493', 'c494', 'c495', 'c496', 'c497', 'c498', 'c499']);
  });

  it('names rows and buttons, offers Open for a published port, and keeps focus on a rebuilt row', () => {
    const actions = noActions();
    const panel = new DockerPanel(document.getElementById('app-main')!, actions, () => T);
    panel.setVisible(true);
    const web = container(1, { name: 'web', ports: [{ privatePort: 80, publicPort: 8080, protocol: 'tcp', ip: '0.0.0.0' }, { privatePort: 80, publicPort: 8080, protocol: 'tcp', ip: '::' }] });
    let state = reduce(initialViewState(), { kind: 'snapshot', list: 'containers', items: [web], askedAtSeq: 0, atMs: T });
    panel.render(state);
    expect(document.querySelector('.dv-containers ul')?.getAttribute('aria-label')).toBe('Containers');
    const open = document.querySelectorAll<HTMLButtonElement>('button[aria-label="Open port 8080 of web in the preview"]');
    expect(open).toHaveLength(1);
    open[0]!.click();
    expect(actions.openPort).toHaveBeenCalledWith(8080);
    const stop = document.querySelector<HTMLButtonElement>('button[aria-label="Stop web"]')!;
    stop.focus();
    stop.click();
    expect(actions.act).toHaveBeenCalledWith({ kind: 'container-stop', id: web.id }, 'web');
    state = reduce(state, { kind: 'events', events: [{ type: 'container', action: 'die', actorId: web.id, attributes: { name: 'web', exitCode: '0' }, timeNano: T * 1e6 }], atMs: T });
    panel.render(state);
    expect(document.querySelector('.dv-containers .dv-badge')?.textContent).toBe('exited (0)');
    // Stop became Start: focus lands on the new row's first button, not on <body>.
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Start web');
  });
});

describe('mountDockerView', () => {
  function fakeVm() {
    const calls: string[] = [];
    const vm: DockerViewVm & { calls: string[] } = {
      calls,
      watchEngine: (on) => calls.push(`watch ${on}`),
      engineQuery: (query: EngineQuery) => {
        calls.push(`query ${query.kind}`);
        const answers: Record<string, unknown> = {
          containers: [container(1, { name: 'web' })],
          images: [{ id: 'sha256:b', tags: ['busybox:latest'], sizeBytes: 1_200_000, createdS: T / 1000 - 86400 * 3 }],
          networks: [],
          volumes: [],
        };
        return Promise.resolve(answers[query.kind] as never);
      },
      engineAction: (action: EngineAction) => {
        calls.push(`action ${action.kind} ${action.id}`);
        return action.kind === 'image-remove' ? Promise.reject(new Error('conflict: image is being used by running container')) : Promise.resolve();
      },
      followEngineLogs: () => {},
    };
    return vm;
  }

  it('remembers the toggle, watches only while open and running, fetches lists once connected, and says when the daemon is away', async () => {
    vi.useFakeTimers();
    const storage = new Map<string, string>();
    const vm = fakeVm();
    const echoed: string[] = [];
    const view = mountDockerView({
      header: document.querySelector('header')!,
      main: document.getElementById('app-main')!,
      storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
      vm: () => vm,
      echo: (command) => echoed.push(command),
      openPort: () => {},
    });
    const toggle = document.querySelector<HTMLButtonElement>('.dv-toggle')!;
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    view.vmStarted();
    expect(vm.calls).not.toContain('watch true');
    toggle.click();
    expect(storage.get(DOCKER_VIEW_STORAGE_KEY)).toBe('open');
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(vm.calls).toContain('watch true');
    const update = (u: EngineUpdate) => view.update(u);
    update({ kind: 'connection', state: 'connected' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(vm.calls.filter((c) => c.startsWith('query')).sort()).toEqual(['query containers', 'query images', 'query networks', 'query volumes']);
    expect(document.querySelector('.dv-containers .dv-name')?.textContent).toBe('web');

    document.querySelector<HTMLButtonElement>('button[aria-label="Stop web"]')!.click();
    await vi.advanceTimersByTimeAsync(10);
    expect(echoed).toEqual(['docker stop web   (from the Docker view)']);
    expect(vm.calls).toContain('action container-stop id0001');

    update({ kind: 'connection', state: 'waiting', message: 'Waiting for the Docker daemon: it closed the stream. Trying again in 1 s.' });
    await vi.advanceTimersByTimeAsync(20);
    expect(document.querySelector('.dv-connection')?.textContent).toContain('Waiting for the Docker daemon');

    toggle.click();
    expect(vm.calls.at(-1)).toBe('watch false');
    expect(storage.get(DOCKER_VIEW_STORAGE_KEY)).toBe('closed');
  });

  it('shows a refused action as an alert with the daemon message, after echoing the command', async () => {
    const vm = fakeVm();
    const echoed: string[] = [];
    const view = mountDockerView({
      header: document.querySelector('header')!,
      main: document.getElementById('app-main')!,
      storage: { getItem: () => 'open', setItem: () => {} },
      vm: () => vm,
      echo: (command) => echoed.push(command),
      openPort: () => {},
    });
    view.vmStarted();
    view.update({ kind: 'connection', state: 'connected' });
    const panel = document.getElementById('docker-view')!;
    expect(panel.hidden).toBe(false);
    const remove = await vi.waitFor(() => {
      const button = panel.querySelector<HTMLButtonElement>('button[aria-label="Remove image busybox:latest"]');
      if (!button) throw new Error('no image row yet');
      return button;
    });
    expect(panel.querySelector('.dv-images .dv-badge')?.textContent).toBe('1.2 MB');
    remove.click();
    const alert = panel.querySelector('[role="alert"]')!;
    await vi.waitFor(() => expect(alert.textContent).toBe('docker rmi busybox:latest failed: conflict: image is being used by running container'));
    expect(alert.hasAttribute('hidden')).toBe(false);
    expect(echoed).toEqual(['docker rmi busybox:latest   (from the Docker view)']);
  });
});
