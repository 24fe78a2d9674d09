// The port-preview Service Worker, one file at two places (vite.config.ts, worker/service-worker/node/): on the
// preview origin (README "Port preview") it relays each request under `<scope>port/<port>/` to the preview shell
// opened for that port, which hands it to the app's tab; without a preview origin it runs at the app's base and
// asks the app page directly. Either way the tab's VM worker opens a TCP connection into the guest port and
// streams the answer back here. Everything else is left alone, with no respondWith (vm/ Range requests too).
import type { GuestHttpRequest, PortPreviewRequestMessage } from '../shared/contract.ts';
import { errorResponse } from './error-page.ts';
import { isForeignPost, routeRequest } from './port-routes.ts';
import { pickRelay, postingOrigins } from './relays.ts';
import { responseFromPort } from './response-from-port.ts';

declare const self: ServiceWorkerGlobalScope;

/** A first answer from the tab's VM can wait for a busy guest (a docker pull); the worker's own limits are lower. */
const FIRST_MESSAGE_TIMEOUT_MS = 120_000;

self.addEventListener('install', () => {
  // A new version takes over at once: the worker holds no state worth draining.
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  // Control the already open pages, so a preview's subresources come here on the first visit.
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const scope = self.registration.scope;
  const { request } = event;
  const navigation = request.mode === 'navigate';
  const route = routeRequest(request.url, scope, request.referrer, navigation);
  if (route === undefined) return;
  switch (route.kind) {
    case 'redirect':
      event.respondWith(Response.redirect(route.location, 307));
      return;
    case 'invalid':
      event.respondWith(errorResponse({ code: 'bad-request', message: route.message }, undefined));
      return;
    case 'guest':
      event.respondWith(forward(request, navigation, route.port, route.target, scope));
      return;
    default: {
      const unknown: never = route;
      throw new Error(`unknown route ${JSON.stringify(unknown)}`);
    }
  }
});

async function forward(request: Request, navigation: boolean, port: number, target: string, scope: string): Promise<Response> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (isForeignPost(request.method, navigation, request.referrer, postingOrigins(windows, scope))) {
    return errorResponse(
      {
        code: 'foreign-post',
        message: `A page of another site (${originOf(request.referrer) ?? 'one that sends no referrer'}) sent a form to this preview; it was not passed on to the container.`,
      },
      port,
    );
  }
  const relay = pickRelay(windows, scope, port);
  if (!relay) {
    return errorResponse(
      {
        code: 'no-tab',
        message: 'Port previews are served by the VM in the tabdock tab that opened them, and none is connected. Open the port again from tabdock (Published ports: Open or New tab).',
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
  relay.postMessage(message, [channel.port2, ...(guestRequest.body ? [guestRequest.body] : [])]);
  return responseFromPort(channel.port1, { port, scope, firstMessageTimeoutMs: FIRST_MESSAGE_TIMEOUT_MS });
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
