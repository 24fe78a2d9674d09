// The port-preview Service Worker (built to `port-preview-sw.js` at the app's base, see vite.config.ts). It
// answers only requests under `<base>port/<port>/` (and root-relative ones made by such pages): each goes to
// a tabdock tab, whose VM worker opens a TCP connection into the guest port. Everything else is left alone,
// with no respondWith, so the browser fetches it as if there were no Service Worker (vm/ Range requests too).
import type { GuestHttpRequest, PortPreviewRequestMessage } from '../shared/contract.ts';
import { errorResponse } from './error-page.ts';
import { routeRequest } from './port-routes.ts';
import { responseFromPort } from './response-from-port.ts';

declare const self: ServiceWorkerGlobalScope;

/** A first answer from the tab's VM can wait for a busy guest (a docker pull); the worker's own limits are lower. */
const FIRST_MESSAGE_TIMEOUT_MS = 120_000;

self.addEventListener('install', () => {
  // A new version takes over at once: the worker holds no state worth draining.
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  // Control the already open app page, so its preview iframe's subresources come here on the first visit.
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const scope = self.registration.scope;
  const route = routeRequest(event.request.url, scope, event.request.referrer);
  if (route === undefined) return;
  switch (route.kind) {
    case 'redirect':
      event.respondWith(Response.redirect(route.location, 302));
      return;
    case 'invalid':
      event.respondWith(errorResponse({ code: 'bad-request', message: route.message }, undefined));
      return;
    case 'guest':
      event.respondWith(forward(event.request, route.port, route.target, scope));
      return;
    default: {
      const unknown: never = route;
      throw new Error(`unknown route ${JSON.stringify(unknown)}`);
    }
  }
});

async function forward(request: Request, port: number, target: string, scope: string): Promise<Response> {
  const tab = await pickAppTab(scope);
  if (!tab) {
    return errorResponse(
      {
        code: 'no-tab',
        message: 'Port previews are served by the VM in a tabdock tab, and none is open. Open tabdock, start the container, then reload this page.',
      },
      port,
    );
  }
  const headers: Array<[string, string]> = [];
  request.headers.forEach((value, name) => headers.push([name, value]));
  const guestRequest: GuestHttpRequest = { port, method: request.method, target, headers };
  if (request.method !== 'GET' && request.method !== 'HEAD') guestRequest.body = await request.arrayBuffer();
  const channel = new MessageChannel();
  const message: PortPreviewRequestMessage = { type: 'tabdock-port-request', request: guestRequest };
  tab.postMessage(message, [channel.port2, ...(guestRequest.body ? [guestRequest.body] : [])]);
  return responseFromPort(channel.port1, { port, scope, firstMessageTimeoutMs: FIRST_MESSAGE_TIMEOUT_MS });
}

/**
 * The tab whose VM answers: an app page (not a preview), the focused one first, then a visible one. Each tab
 * has its own VM, so with several open the one the user looked at last wins.
 */
async function pickAppTab(scope: string): Promise<WindowClient | undefined> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const apps = windows.filter((client) => client.url.startsWith(scope) && !client.url.startsWith(`${scope}port/`));
  return apps.find((client) => client.focused) ?? apps.find((client) => client.visibilityState === 'visible') ?? apps[0];
}
