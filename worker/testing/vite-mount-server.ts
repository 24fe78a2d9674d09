// A Vite dev server with exactly tabdock's proxy and relay plugins (what `npm run dev` and `npm start` mount at
// /cors-proxy/ and /wisp/), on an empty root, for tests that run it in a child process (server-process.ts).
// Prints "listening on <url>" once it answers. Settings come from the environment as they do for `npm run dev`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { corsProxyPlugin } from '../proxy/node/vite-plugin.ts';
import { wispRelayPlugin } from '../proxy/node/wisp-vite-plugin.ts';

const root = mkdtempSync(join(tmpdir(), 'tabdock-vite-mount-'));
const server = await createServer({
  configFile: false,
  root,
  cacheDir: join(root, '.vite'),
  logLevel: 'silent',
  appType: 'mpa',
  optimizeDeps: { noDiscovery: true, include: [] },
  server: { host: '127.0.0.1', port: Number(process.env['TABDOCK_TEST_PORT'] ?? 0), strictPort: true, hmr: false, watch: null },
  plugins: [corsProxyPlugin(), wispRelayPlugin()],
});
await server.listen();
const address = server.httpServer?.address();
if (address === null || typeof address !== 'object') throw new Error('the Vite server has no address');
process.stdout.write(`listening on http://127.0.0.1:${address.port}/\n`);
