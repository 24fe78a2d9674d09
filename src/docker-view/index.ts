// The Docker view: a panel beside the terminal, toggled from the header and remembered, that shows the guest
// dockerd's images, containers, networks and volumes live from its /events stream (no polling), what is
// happening now, and the architecture picture; its actions go through the Engine API and are echoed to the
// terminal as the equivalent docker command.
import './docker-view.css';
import type { EngineAction, EngineLogMessage, EngineQuery, EngineQueryResults, EngineUpdate } from '../../worker/shared/contract.ts';
import { equivalentCommand } from './commands.ts';
import { DockerPanel } from './panel.ts';
import { initialViewState, reduce, type ViewAction } from './view-state.ts';
import type { DockerViewState, ListKind } from './view-types.ts';
import { el } from '../dom.ts';

export const DOCKER_VIEW_STORAGE_KEY = 'tabdock.dockerView';
/** Lists go stale in bursts (a docker run emits 6 events): fetch once the burst has settled a little. */
const REFETCH_DELAY_MS = 400;
/** Uptimes and "created … ago" move on while the panel is open. */
const CLOCK_TICK_MS = 15_000;

/** The part of VmClient the view uses. */
export interface DockerViewVm {
  engineQuery<K extends EngineQuery['kind']>(query: Extract<EngineQuery, { kind: K }>): Promise<EngineQueryResults[K]>;
  engineAction(action: EngineAction): Promise<void>;
  watchEngine(on: boolean): void;
  followEngineLogs(containerId: string, reply: MessagePort): void;
}

export interface DockerViewOptions {
  /** Where the header toggle goes. */
  header: HTMLElement;
  /** The row holding the terminal, and the terminal's pane in it. The panel is drawn at the right of the row but
   * comes before the terminal in the DOM, so Tab reaches it from the header (the terminal keeps Tab). */
  main: HTMLElement;
  terminalPane?: HTMLElement;
  storage: Pick<Storage, 'getItem' | 'setItem'>;
  vm(): DockerViewVm | undefined;
  /** Writes `# <command>` to the terminal, so the learner sees the docker command an action stands for. */
  echo(command: string): void;
  /** The port preview's Open. */
  openPort(port: number): void;
}

export interface DockerView {
  vmStarted(): void;
  vmStopped(): void;
  /** VmEvent 'engine'. */
  update(update: EngineUpdate): void;
}

export function mountDockerView(options: DockerViewOptions): DockerView {
  let state: DockerViewState = initialViewState();
  let running = false;
  let frame = 0;
  let refetchTimer: ReturnType<typeof setTimeout> | undefined;
  let clockTimer: ReturnType<typeof setInterval> | undefined;
  const inFlight = new Set<ListKind>();
  let logs: MessagePort | undefined;

  const toggle = el('button', 'dv-toggle', 'Docker view');
  toggle.title = 'Show what Docker is doing: images, containers, networks, volumes, live';
  toggle.setAttribute('aria-controls', 'docker-view');
  options.header.append(toggle);

  const panel = new DockerPanel(options.main, {
    act: (action, name) => void act(action, name),
    openPort: (port) => options.openPort(port),
    logs: (id, name) => openLogs(id, name),
    toggleLayers: (image) => void toggleLayers(image.id),
    closeLogs: () => closeLogs(true),
  }, undefined, options.terminalPane ?? null);

  const dispatch = (action: ViewAction): void => {
    state = reduce(state, action);
    scheduleRender();
    if (state.stale.size > 0) scheduleRefetch();
  };

  function scheduleRender(): void {
    if (!panel.visible || frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      panel.render(state);
    });
  }

  function scheduleRefetch(): void {
    if (refetchTimer !== undefined || state.connection.state !== 'connected') return;
    refetchTimer = setTimeout(() => {
      refetchTimer = undefined;
      void refetch();
    }, REFETCH_DELAY_MS);
  }

  async function refetch(): Promise<void> {
    const vm = options.vm();
    const lists = [...state.stale].filter((list) => !inFlight.has(list));
    if (!vm || lists.length === 0) return;
    dispatch({ kind: 'fetching', lists });
    const askedAtSeq = state.seq;
    await Promise.all(
      lists.map(async (list) => {
        inFlight.add(list);
        try {
          const items = await vm.engineQuery({ kind: list });
          dispatch({ kind: 'snapshot', list, items, askedAtSeq, atMs: Date.now() } as ViewAction);
        } catch (error) {
          // The watch reports a daemon that went away; a list that failed is asked again with the next event.
          panel.showError(`Could not list ${list}: ${messageOf(error)}`);
        } finally {
          inFlight.delete(list);
        }
      }),
    );
    if (state.stale.size > 0) scheduleRefetch();
  }

  async function act(action: EngineAction, name: string): Promise<void> {
    const vm = options.vm();
    const command = equivalentCommand(action, name);
    options.echo(`${command}   (from the Docker view)`);
    panel.showError(undefined);
    if (!vm) {
      panel.showError(`${command}: the VM is not running.`);
      return;
    }
    try {
      await vm.engineAction(action);
    } catch (error) {
      panel.showError(`${command} failed: ${messageOf(error)}`);
    }
  }

  async function toggleLayers(imageId: string): Promise<void> {
    if (panel.layersOf(imageId)) {
      panel.setLayers(imageId, undefined);
      return;
    }
    const vm = options.vm();
    if (!vm) return;
    panel.setLayers(imageId, { kind: 'loading' });
    try {
      panel.setLayers(imageId, { kind: 'loaded', layers: await vm.engineQuery({ kind: 'image-history', id: imageId }) });
    } catch (error) {
      panel.setLayers(imageId, { kind: 'failed', message: `Could not read the layers: ${messageOf(error)}` });
    }
  }

  function openLogs(id: string, name: string): void {
    const vm = options.vm();
    if (!vm) return;
    closeLogs(false);
    options.echo(`docker logs --tail 500 -f ${name}   (from the Docker view)`);
    const channel = new MessageChannel();
    logs = channel.port1;
    channel.port1.onmessage = (event: MessageEvent<EngineLogMessage>) => {
      const message = event.data;
      switch (message.type) {
        case 'data':
          panel.appendLogs(message.text);
          return;
        case 'end':
          panel.appendLogs('\n[the container stopped: end of its logs]\n');
          return;
        case 'error':
          panel.appendLogs(`\n[${message.message}]\n`);
          return;
        default: {
          const unreachable: never = message;
          panel.appendLogs(`\n[${JSON.stringify(unreachable)}]\n`);
        }
      }
    };
    panel.openLogs(name);
    vm.followEngineLogs(id, channel.port2);
  }

  function closeLogs(hidePane: boolean): void {
    logs?.postMessage({ type: 'cancel' });
    logs?.close();
    logs = undefined;
    if (hidePane) {
      panel.closeLogs();
      panel.focus();
    }
  }

  /** Watch while the panel is open and the VM runs; a closed panel costs the guest nothing. */
  function syncWatch(): void {
    const vm = options.vm();
    const want = panel.visible && running && vm !== undefined;
    if (want) {
      vm.watchEngine(true);
      clockTimer ??= setInterval(scheduleRender, CLOCK_TICK_MS);
      return;
    }
    vm?.watchEngine(false);
    clearInterval(clockTimer);
    clockTimer = undefined;
    closeLogs(false);
    state = reduce(initialViewState(), { kind: 'connection', state: 'off' });
    scheduleRender();
  }

  function setOpen(open: boolean): void {
    panel.setVisible(open);
    toggle.setAttribute('aria-pressed', String(open));
    try {
      options.storage.setItem(DOCKER_VIEW_STORAGE_KEY, open ? 'open' : 'closed');
    } catch {
      // Storage refused (private mode, quota): the panel still opens; it is just not remembered.
    }
    syncWatch();
    if (open) panel.render(state);
  }

  toggle.addEventListener('click', () => {
    setOpen(!panel.visible);
    if (panel.visible) panel.focus();
  });
  // Escape anywhere in the panel returns to the toggle (the logs pane closes itself first).
  panel.element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) toggle.focus();
  });
  let remembered: string | null = null;
  try {
    remembered = options.storage.getItem(DOCKER_VIEW_STORAGE_KEY);
  } catch {
    remembered = null;
  }
  setOpen(remembered === 'open');

  return {
    vmStarted: () => {
      running = true;
      syncWatch();
    },
    vmStopped: () => {
      running = false;
      syncWatch();
    },
    update: (update) => {
      if (!panel.visible) return;
      const atMs = Date.now();
      switch (update.kind) {
        case 'connection':
          dispatch(update.message === undefined ? { kind: 'connection', state: update.state } : { kind: 'connection', state: update.state, message: update.message });
          // Connected (again): everything may have changed while away.
          if (update.state === 'connected') {
            panel.showError(undefined);
            state = { ...state, stale: new Set(['containers', 'images', 'networks', 'volumes']) };
            scheduleRefetch();
          }
          return;
        case 'events':
          dispatch({ kind: 'events', events: update.events, atMs });
          return;
        case 'raw':
          dispatch({ kind: 'raw', text: update.text, atMs });
          return;
        case 'layers':
          dispatch({ kind: 'layers', layers: update.layers, atMs });
          return;
        default: {
          const unreachable: never = update;
          dispatch({ kind: 'raw', text: JSON.stringify(unreachable), atMs });
        }
      }
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
