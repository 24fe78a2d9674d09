// Port preview on the page: learns of published ports from the guest's listening sockets, lists them over the
// terminal, and opens one in a panel or a tab of its own. Pages load from the preview origin (preview-origin.ts)
// through its shell and Service Worker (src/port-preview/shell/, worker/service-worker/); this tab's VM answers.
import './port-preview.css';
import type { EngineQueryResults } from '../../worker/shared/contract.ts';
import type { PreviewVm } from './preview-connection.ts';
import { resolvePreviewOrigin } from './preview-origin.ts';
import { OwnOriginPreviews, SharedOriginPreviews, type Previews } from './previews.ts';
import { probePort } from './port-probe.ts';
import { PortWatch } from './port-watch.ts';
import { publishedPorts } from './published-ports.ts';
import { PortsView } from './ports-view.ts';

export interface PortPreviewOptions {
  terminalPane: HTMLElement;
  main: HTMLElement;
  /** This tab's VM, while it runs. */
  vm(): (PreviewVm & { engineQuery(query: { kind: 'containers' }): Promise<EngineQueryResults['containers']> }) | undefined;
}

export interface PortPreview {
  /** The VM booted: start watching for ports. */
  vmStarted(): void;
  /** The VM stopped or restarts: forget its ports. */
  vmStopped(): void;
  /** The guest's listening sockets changed (VmEvent 'listening-sockets'). */
  socketsChanged(sockets: string): void;
  /** Opens a published port in the preview panel (the bar's Open; the Docker view's port links). */
  open(port: number): void;
}

/** The app's base (where index.html is). */
function appBase(): string {
  return new URL('./', document.baseURI).href;
}

async function choosePreviews(vm: () => PreviewVm | undefined): Promise<Previews> {
  const origin = await resolvePreviewOrigin({
    setting: import.meta.env['VITE_TABDOCK_PREVIEW_URL'],
    appBase: appBase(),
    fetch: (url) => fetch(url, { cache: 'no-store' }),
  });
  if (origin.kind === 'own') return new OwnOriginPreviews(origin, vm, document.body);
  const shared = new SharedOriginPreviews(origin.reason, appBase(), vm);
  await shared.ready;
  return shared;
}

export function mountPortPreview(options: PortPreviewOptions): PortPreview {
  const previews = choosePreviews(options.vm);
  const view = new PortsView({ terminalPane: options.terminalPane, main: options.main, previews, probe: (port) => probePort(options.vm(), port) });
  // Connected previews stop relaying when this page goes; a reloaded tab offers anew.
  window.addEventListener('pagehide', () => void previews.then((chosen) => chosen.dispose(), () => undefined));
  const watch = new PortWatch({
    publishedPorts: async () => {
      const vm = options.vm();
      if (!vm) throw new Error('the VM is not running');
      return publishedPorts(await vm.engineQuery({ kind: 'containers' }));
    },
    onChange: (ports) => view.show(ports),
  });
  return {
    vmStarted: () => watch.start(),
    vmStopped: () => watch.stop(),
    socketsChanged: (sockets) => watch.socketsChanged(sockets),
    open: (port) => void view.open(port),
  };
}
