// Port preview on the page: learns of published ports from the guest's listening sockets, lists them over the
// terminal, and opens one in a panel; the Service Worker (worker/service-worker/) and the VM worker carry the requests.
import './port-preview.css';
import type { EngineQueryResults } from '../../worker/shared/contract.ts';
import { PortWatch } from './port-watch.ts';
import { publishedPorts } from './published-ports.ts';
import { previewUrl, registerPreviewWorker, routePortRequests, type PortRouterVm } from './port-router.ts';
import { PortsView } from './ports-view.ts';

export interface PortPreviewOptions {
  terminalPane: HTMLElement;
  main: HTMLElement;
  /** This tab's VM, while it runs. */
  vm(): (PortRouterVm & { engineQuery(query: { kind: 'containers' }): Promise<EngineQueryResults['containers']> }) | undefined;
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

export function mountPortPreview(options: PortPreviewOptions): PortPreview {
  const ready = registerPreviewWorker();
  const view = new PortsView({ terminalPane: options.terminalPane, main: options.main, urlFor: previewUrl, ready });
  routePortRequests(options.vm);
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
