// TLS servers for the egress tests, all on 127.0.0.1: a throwaway CA and a server certificate for
// host.tabdock.internal made with openssl, an HTTPS file server, and Debian's docker-registry with TLS and an
// htpasswd user (bcrypt from apache2-utils' htpasswd, the only hash docker-registry's htpasswd auth takes).
// Node-only.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './registry.ts';

const run = promisify(execFile);

export const TLS_HOST = 'host.tabdock.internal';

export interface TestCertificates {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
  remove(): Promise<void>;
}

/** A CA and a certificate for host.tabdock.internal (and 127.0.0.1) signed by it, valid for a day. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'tabdock-tls-'));
  const path = (name: string) => join(dir, name);
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tabdock test CA',
      '-keyout', path('ca.key'), '-out', path('ca.crt')]);
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${TLS_HOST}`, '-keyout', path('server.key'), '-out', path('server.csr')]);
    await writeFile(path('ext.cnf'), `subjectAltName=DNS:${TLS_HOST},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
    await run('openssl', ['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
      '-days', '1', '-extfile', path('ext.cnf'), '-out', path('server.crt')]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make the test certificates (apt-get install openssl): ${String(error)}`);
  }
  return {
    dir,
    caPem: await readFile(path('ca.crt'), 'utf8'),
    certPem: await readFile(path('server.crt'), 'utf8'),
    keyPem: await readFile(path('server.key'), 'utf8'),
    certPath: path('server.crt'),
    keyPath: path('server.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface TestHttpsServer {
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Answers `/bytes/<n>` with n deterministic bytes (for downloads of a known size), `files` by path, else 404. */
export function fileHandler(files: Record<string, string | Uint8Array>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const sized = /^\/bytes\/(\d{1,9})$/.exec(path);
    if (sized) {
      const total = Number(sized[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const chunk = patternBytes(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  };
}

/** Serves fileHandler(files) over HTTPS with the test certificate. */
export async function startHttpsServer(certs: TestCertificates, files: Record<string, string | Uint8Array>, port = 0): Promise<TestHttpsServer> {
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, fileHandler(files));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The bytes /bytes/<n> serves, repeated: their sha256 is checkable anywhere. */
export function patternBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

export function sha256OfPattern(total: number): string {
  const hash = createHash('sha256');
  const chunk = patternBytes(64 * 1024);
  for (let sent = 0; sent < total; sent += chunk.length) hash.update(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  return hash.digest('hex');
}

export interface TlsRegistry {
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** docker-registry on 127.0.0.1 with TLS (the given certificate) and one htpasswd user. */
export async function startTlsRegistry(certs: TestCertificates, port?: number): Promise<TlsRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tabdock-tls-registry-'));
  const user = 'tabdock';
  const password = 'push-test-password';
  try {
    const { stdout } = await run('htpasswd', ['-Bbn', user, password]);
    await writeFile(join(dir, 'htpasswd'), stdout);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`htpasswd failed; install apache2-utils (.ci/setup.sh does): ${String(error)}`);
  }
  const listenPort = port ?? (await freePort());
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${listenPort}", tls: {certificate: ${certs.certPath}, key: ${certs.keyPath}}}`,
      `auth: {htpasswd: {realm: tabdock-test, path: ${join(dir, 'htpasswd')}}}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry (TLS) exited with ${child.exitCode}: ${stderr}`);
    const answered = await new Promise<boolean>((resolve) => {
      // A TLS handshake that verifies against the test CA: the registry is up and serving this certificate.
      const socket = tlsConnect({ host: '127.0.0.1', port: listenPort, ca: certs.caPem, servername: TLS_HOST }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (answered) break;
    if (Date.now() > deadline) throw new Error(`docker-registry (TLS) did not answer on ${listenPort} within 15 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port: listenPort,
    user,
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
