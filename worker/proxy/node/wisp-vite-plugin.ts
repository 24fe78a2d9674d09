// Mounts the Wisp relay at /wisp/ on `vite` (npm run dev) and `vite preview` (npm start), so the worker's default
// relay URL, ws(s)://<page origin>/wisp/, works with nothing else running. Only pages of the same origin may use
// it (the WebSocket's Origin is checked). Settings: TABDOCK_RELAY_PORTS, TABDOCK_ALLOW_HOST_PORTS, TABDOCK_RELAY_TOKEN.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';
import { relaySettingsFromEnv } from './relay-env.ts';
import { createWispRelay, DEFAULT_RELAY_PATH, type WispRelay } from './wisp-relay.ts';

export function wispRelayPlugin(): Plugin {
  let relay: WispRelay | undefined;
  const mount = (server: ViteDevServer | PreviewServer) => {
    relay ??= createWispRelay({ basePath: DEFAULT_RELAY_PATH, allowedOrigins: 'same-origin', ...relaySettingsFromEnv(process.env) });
    const mounted = relay;
    (server.httpServer as { on(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown } | null)?.on('upgrade', (req, socket, head) => {
      // Vite's own HMR socket shares this event; anything outside /wisp/ is left to it.
      mounted.handleUpgrade(req, socket, head);
    });
    server.middlewares.use((req, res, next) => {
      if (!mounted.handleHttp(req, res)) next();
    });
  };
  return { name: 'tabdock-wisp-relay', configureServer: mount, configurePreviewServer: mount };
}
