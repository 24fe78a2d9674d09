// Real registries for the pull tests: Debian's `docker-registry` on 127.0.0.1, optionally behind a small gateway
// that enforces Bearer tokens the way Docker Hub does (401 + WWW-Authenticate, a token endpoint) and redirects
// blob downloads to a separate "CDN" server that, like S3, refuses requests carrying an Authorization header.
// Node-only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Fails with a sentence that says what to install, instead of a bare ENOENT deep in a test. */
export async function requireTool(tool: 'docker-registry' | 'skopeo'): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    throw new Error(
      `${tool} is not installed; the registry tests need Debian's docker-registry and skopeo: ` +
        'run `sudo apt-get install -y docker-registry skopeo` (or .ci/setup.sh)',
    );
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` of the plain registry (no auth). */
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<TestRegistry> {
  await requireTool('docker-registry');
  const dir = await mkdtemp(join(tmpdir(), 'tabdock-registry-'));
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const host = `127.0.0.1:${port}`;
  await waitForHttp(`http://${host}/v2/`, child, () => stderr);
  return {
    host,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`docker-registry did not answer ${url} within 15 s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Copies every platform of an OCI layout to `<registryHost>/<name>:<tag>` with skopeo, digests preserved. */
export async function pushLayout(layoutDir: string, tag: string, registryHost: string, name: string): Promise<void> {
  await requireTool('skopeo');
  await run('skopeo', [
    'copy', '--all', '--preserve-digests', '--dest-tls-verify=false', '--quiet',
    `oci:${layoutDir}:${tag}`, `docker://${registryHost}/${name}:${tag}`,
  ]);
}

export interface AuthGateway {
  /** `127.0.0.1:<port>` of the token-protected registry front. */
  host: string;
  /** `127.0.0.1:<port>` of the blob CDN that registry blobs redirect to. */
  cdnHost: string;
  tokenRequests: number;
  /** Answer the next `count` registry requests with 429 and the given Retry-After. */
  rateLimitNext(count: number, retryAfterS: number): void;
  /** Invalidate every issued token (the next request with one gets 401 again). */
  revokeTokens(): void;
  stop(): Promise<void>;
}

export interface AuthGatewayPorts {
  /** Fixed ports, for a CORS proxy whose allow-list is set before the gateway starts (e2e); default: free ones. */
  port?: number;
  cdnPort?: number;
}

export async function startAuthGateway(registryHost: string, ports: AuthGatewayPorts = {}): Promise<AuthGateway> {
  const tokens = new Set<string>();
  let rateLimited = 0;
  let retryAfter = 0;
  const cdnSigs = new Set<string>();
  const gatewayPort = ports.port ?? (await freePort());
  const cdnPort = ports.cdnPort ?? (await freePort());
  const state = { tokenRequests: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const headers = { ...req.headers, host: registryHost };
    delete headers.authorization;
    const upstream = httpRequest(`http://${registryHost}${path}`, { method: req.method, headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', (error) => {
      res.writeHead(502).end(String(error));
    });
    upstream.end();
  };

  const gateway = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${gatewayPort}`);
    if (url.pathname === '/token') {
      state.tokenRequests++;
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
      return;
    }
    if (rateLimited > 0) {
      rateLimited--;
      res.writeHead(429, { 'retry-after': String(retryAfter), 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }));
      return;
    }
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (!tokens.has(token)) {
      const name = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1];
      const scope = name === undefined ? '' : `,scope="repository:${name}:pull"`;
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://127.0.0.1:${gatewayPort}/token",service="tabdock-test"${scope}`,
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    // Like Docker Hub: blob GETs answer 307 to a CDN URL that carries its own signature.
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(url.pathname)) {
      const sig = randomBytes(8).toString('hex');
      cdnSigs.add(sig);
      res.writeHead(307, { location: `http://127.0.0.1:${cdnPort}${url.pathname}?sig=${sig}` });
      res.end();
      return;
    }
    forward(req, res, url.pathname + url.search);
  });

  const cdn = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${cdnPort}`);
    if (req.headers.authorization !== undefined) {
      // S3's answer to a presigned URL plus a bearer token.
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    if (!cdnSigs.has(url.searchParams.get('sig') ?? '')) {
      res.writeHead(403).end('bad signature');
      return;
    }
    forward(req, res, url.pathname);
  });

  await listen(gateway, gatewayPort);
  await listen(cdn, cdnPort);
  return {
    host: `127.0.0.1:${gatewayPort}`,
    cdnHost: `127.0.0.1:${cdnPort}`,
    get tokenRequests() {
      return state.tokenRequests;
    },
    set tokenRequests(value: number) {
      state.tokenRequests = value;
    },
    rateLimitNext(count, retryAfterS) {
      rateLimited = count;
      retryAfter = retryAfterS;
    },
    revokeTokens() {
      tokens.clear();
    },
    async stop() {
      await Promise.all([close(gateway), close(cdn)]);
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
