// The project's Wisp relay (worker/proxy/node/wisp-relay.ts) on 127.0.0.1 for tests, on a port of its own, with
// its open sessions countable (relay.sessions()). Node-only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWispRelay, type WispRelay, type WispRelayOptions } from '../proxy/node/wisp-relay.ts';

export interface TestRelay {
  /** ws://127.0.0.1:PORT/wisp/ */
  url: string;
  relay: WispRelay;
  close(): Promise<void>;
}

export async function startTestRelay(options: WispRelayOptions = {}): Promise<TestRelay> {
  const relay = createWispRelay(options);
  const server = createServer((req, res) => {
    if (!relay.handleHttp(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}${relay.basePath}`,
    relay,
    close: () =>
      new Promise((resolve) => {
        relay.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
