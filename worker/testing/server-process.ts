// Runs a server under test in a child process: `npm run proxy`'s CLI (worker/proxy/node/node-server.ts) or a Vite
// dev server with tabdock's plugins (vite-mount-server.ts). A crash then shows as the child's exit instead of
// ending the test run, and memory is measured on the child alone (/proc/<pid>/status).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const SCRIPTS = {
  proxy: fileURLToPath(new URL('../proxy/node/node-server.ts', import.meta.url)),
  vite: fileURLToPath(new URL('./vite-mount-server.ts', import.meta.url)),
} as const;

export type ServerKind = keyof typeof SCRIPTS;

export interface ServerProcess {
  /** The server's base URL, ending in '/'. */
  readonly url: string;
  /** Its relay's URL (ws://.../wisp/). */
  relayUrl(): string;
  readonly pid: number;
  /** Undefined while it runs; how it ended otherwise. */
  exit(): { code: number | null; signal: string | null } | undefined;
  /** Everything it printed (stdout and stderr), for a failing test's message. */
  output(): string;
  /** Resident memory of the child process itself, from /proc (Linux). */
  rssBytes(): number;
  /** Runs a full garbage collection in the child (started with `gcOnSignal`) and waits for it. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  args?: readonly string[];
  env?: Record<string, string>;
  /** Extra node flags (e.g. --max-old-space-size). */
  nodeArgs?: readonly string[];
  /** Preload gc-on-signal.ts, so that collectGarbage() works. */
  gcOnSignal?: boolean;
  startTimeoutMs?: number;
}

export async function startServerProcess(kind: ServerKind, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const args = kind === 'proxy' ? ['--port', '0', ...(options.args ?? [])] : [...(options.args ?? [])];
  // Vite reads port 0 as "the default, 5173": give it a free one.
  const portEnv = kind === 'vite' ? { TABDOCK_TEST_PORT: String(await freePort()) } : {};
  const gcArgs = options.gcOnSignal ? ['--expose-gc', '--import', fileURLToPath(new URL('./gc-on-signal.ts', import.meta.url))] : [];
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', ...gcArgs, SCRIPTS[kind], ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...portEnv, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exit: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${output}`)), options.startTimeoutMs ?? 20_000);
    const look = () => {
      const match = /listening on (http:\/\/\S+\/)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', look);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited before listening (${JSON.stringify(exit)}):\n${output}`));
    });
  });
  return {
    url,
    relayUrl: () => `${url.replace('http:', 'ws:')}wisp/`,
    pid: child.pid ?? -1,
    exit: () => exit,
    output: () => output,
    rssBytes() {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (!match?.[1]) throw new Error(`no VmRSS for process ${child.pid}`);
      return Number(match[1]) * 1024;
    },
    async collectGarbage() {
      const before = (output.match(/gc-on-signal: collected/g) ?? []).length;
      child.kill('SIGUSR2');
      const until = Date.now() + 5000;
      while ((output.match(/gc-on-signal: collected/g) ?? []).length === before) {
        if (Date.now() > until || exit) throw new Error(`no garbage collection in the child (started without gcOnSignal?):\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
