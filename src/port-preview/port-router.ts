// Previews on the app's own origin, the fallback when no preview origin is configured (previews.ts): registers
// the Service Worker at the app's base and hands each request it sends here to this tab's VM worker, together
// with the MessagePort the answer streams back on (worker -> Service Worker directly).
import type { GuestHttpMessage } from '../../worker/shared/contract.ts';
import { firstIssue, portRequestMessageSchema } from '../../worker/shared/preview-protocol.ts';
import type { PreviewVm } from './preview-connection.ts';

/** Built by vite.config.ts (worker/service-worker/node/) beside index.html, and into the preview bundle. */
const SERVICE_WORKER_FILE = 'port-preview-sw.js';

/**
 * Registers the Service Worker for the app's base and waits until it is active. This page need not be
 * controlled by it: preview navigations match its scope, and it reaches this tab with postMessage. Rejects with a
 * sentence when the browser cannot run one (an http:// address other than localhost, private windows of
 * some browsers).
 */
export async function registerPreviewWorker(appBase: string): Promise<void> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    throw new Error('Port preview needs a Service Worker: open tabdock over https:// or on localhost.');
  }
  // Vite's dev server serves the TypeScript source as a module (worker/service-worker/node/vite-plugin.ts).
  const type: WorkerType = import.meta.env.DEV ? 'module' : 'classic';
  try {
    await navigator.serviceWorker.register(new URL(SERVICE_WORKER_FILE, appBase), { scope: appBase, type });
  } catch (error) {
    throw new Error(`Port preview is unavailable: the browser refused its Service Worker (${error instanceof Error ? error.message : String(error)}).`);
  }
  await navigator.serviceWorker.ready;
}

/**
 * Removes the app-origin worker a build without a preview origin registered: while it stays, `<app>/port/8080/`
 * would still show a container's page with the app's origin.
 */
export async function unregisterPreviewWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  for (const registration of await navigator.serviceWorker.getRegistrations()) {
    const worker = registration.active ?? registration.waiting ?? registration.installing;
    if (worker?.scriptURL.endsWith(`/${SERVICE_WORKER_FILE}`)) await registration.unregister();
  }
}

/** Answers the Service Worker's requests with `vm()` (undefined while no VM runs: a clear error page). */
export function routePortRequests(vm: () => PreviewVm | undefined): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => {
    const reply = event.ports[0];
    if (!reply) return;
    const parsed = portRequestMessageSchema.safeParse(event.data);
    if (!parsed.success) {
      answer(reply, { type: 'error', code: 'bad-request', message: 'This request cannot be sent to the container.', detail: firstIssue(parsed.error) });
      return;
    }
    const { request } = parsed.data;
    const target = vm();
    if (!target) {
      answer(reply, {
        type: 'error',
        code: 'vm-not-running',
        message: `The VM in this tabdock tab is not running, so port ${request.port} cannot be reached. Restart it, start the container again, then reload.`,
      });
      return;
    }
    target.forwardGuestHttp(request, reply);
  });
  navigator.serviceWorker.startMessages();
}

function answer(reply: MessagePort, message: Extract<GuestHttpMessage, { type: 'error' }>): void {
  reply.postMessage(message);
  reply.close();
}
