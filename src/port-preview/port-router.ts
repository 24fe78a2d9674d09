// Page side of port preview: registers the Service Worker and hands each request it sends here to this tab's
// VM worker, together with the MessagePort the answer streams back on (worker -> Service Worker directly).
import type { GuestHttpMessage, GuestHttpRequest, PortPreviewRequestMessage } from '../../worker/shared/contract.ts';

/** Built by vite.config.ts from worker/service-worker/service-worker.ts, next to index.html. */
const SERVICE_WORKER_FILE = 'port-preview-sw.js';

export interface PortRouterVm {
  forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort): void;
}

/** The app's base (where index.html is): the Service Worker's scope, and where `port/<n>/` lives. */
export function appBase(): string {
  return new URL('./', document.baseURI).href;
}

export function previewUrl(port: number): string {
  return `${appBase()}port/${port}/`;
}

/**
 * Registers the Service Worker for the app's base and waits until it is active. This page need not be
 * controlled by it: preview navigations match its scope, and it reaches this tab with postMessage. Rejects with a
 * sentence when the browser cannot run one (an http:// address other than localhost, private windows of
 * some browsers).
 */
export async function registerPreviewWorker(): Promise<void> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    throw new Error('Port preview needs a Service Worker: open tabdock over https:// or on localhost.');
  }
  // Vite's dev server serves the TypeScript source as a module (vite.config.ts maps the same file name).
  const type: WorkerType = import.meta.env.DEV ? 'module' : 'classic';
  try {
    await navigator.serviceWorker.register(new URL(SERVICE_WORKER_FILE, appBase()), { scope: appBase(), type });
  } catch (error) {
    throw new Error(`Port preview is unavailable: the browser refused its Service Worker (${error instanceof Error ? error.message : String(error)}).`);
  }
  await navigator.serviceWorker.ready;
}

/** Answers the Service Worker's requests with `vm()` (undefined while no VM runs: a clear error page). */
export function routePortRequests(vm: () => PortRouterVm | undefined): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<Partial<PortPreviewRequestMessage>>) => {
    const reply = event.ports[0];
    const request = event.data?.request;
    if (event.data?.type !== 'tabdock-port-request' || !reply || !request) return;
    const target = vm();
    if (!target) {
      const message: GuestHttpMessage = {
        type: 'error',
        code: 'vm-not-running',
        message: `The VM in this tabdock tab is not running, so port ${request.port} cannot be reached. Restart it, start the container again, then reload.`,
      };
      reply.postMessage(message);
      reply.close();
      return;
    }
    target.forwardGuestHttp(request, reply);
  });
  navigator.serviceWorker.startMessages();
}
