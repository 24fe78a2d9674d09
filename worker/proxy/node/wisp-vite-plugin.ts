// Mounts the Wisp relay at /wisp/ on `vite` (npm run dev) and `vite preview` (npm start), so the worker's default
// relay URL, ws(s)://<page origin>/wisp/, works with nothing else running. Only pages of the same origin may use
// it, and only through a Host the server answers to (Vite's allowedHosts, as Vite checks plain HTTP; without it a
// DNS-rebinding page passed as "same origin"). Settings: TABDOCK_RELAY_PORTS, TABDOCK_ALLOW_HOST_PORTS,
// TABDOCK_RELAY_TOKEN, TABDOCK_TRUSTED_PROXY.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';
import { relaySettingsFromEnv } from './relay-env.ts';
import { createWispRelay, DEFAULT_RELAY_PATH } from './wisp-relay.ts';

export function wispRelayPlugin(): Plugin {
  const mount = (server: ViteDevServer | PreviewServer, options: { allowedHosts: readonly string[] | true; https: boolean }) => {
    const relay = createWispRelay({
      basePath: DEFAULT_RELAY_PATH,
      allowedOrigins: 'same-origin',
      // Vite checks no Host when it serves HTTPS (a rebinding page cannot present the certificate's name).
      allowedHosts: options.https ? true : options.allowedHosts,
      ...relaySettingsFromEnv(process.env),
    });
    (server.httpServer as { on(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown } | null)?.on('upgrade', (req, socket, head) => {
      // Vite's own HMR socket shares this event; anything outside /wisp/ is left to it.
      relay.handleUpgrade(req, socket, head);
    });
    server.middlewares.use((req, res, next) => {
      if (!relay.handleHttp(req, res)) next();
    });
  };
  return {
    name: 'tabdock-wisp-relay',
    configureServer: (server) => mount(server, { allowedHosts: server.config.server.allowedHosts, https: Boolean(server.config.server.https) }),
    configurePreviewServer: (server) => mount(server, { allowedHosts: server.config.preview.allowedHosts, https: Boolean(server.config.preview.https) }),
  };
}
