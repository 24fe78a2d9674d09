// The guest agent's socket watch (config/tabdock-agent watch_sockets and send_sockets), run by bash on this
// machine against its own /proc/net/tcp: the functions are taken from the agent script as they are.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const AGENT = new URL('./config/tabdock-agent', import.meta.url);

/** A top-level shell function of the agent script, from `name() {` to the first `}` alone on a line. */
function shellFunction(script: string, name: string): string {
  const match = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}$`, 'm').exec(script);
  if (!match) throw new Error(`tabdock-agent has no function ${name}`);
  return match[0];
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** The lines the watch wrote so far, decoded: one array of sockets per line. */
async function pushedLines(file: string): Promise<string[][]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^tabdock-sockets ?([A-Za-z0-9+/=]*)$/.exec(line);
      if (!match) throw new Error(`not a sockets line: ${JSON.stringify(line)}`);
      return Buffer.from(match[1]!, 'base64').toString('utf8').split('\n').filter(Boolean);
    });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting for the socket watch');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the agent pushes its listening sockets', () => {
  let dir: string | undefined;
  let watcher: ChildProcess | undefined;
  let server: Server | undefined;

  afterEach(async () => {
    watcher?.kill('SIGKILL');
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when a port starts and stops listening, and again when asked', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tabdock-agent-sockets-'));
    const script = await readFile(AGENT, 'utf8');
    const out = join(dir, 'out');
    const wanted = join(dir, 'wanted');
    const harness = [
      'set -u',
      `LOCK_FILE=${dir}/lock SOCKETS_WANTED=${wanted} SOCKETS_TICK=${dir}/tick`,
      shellFunction(script, 'send_sockets'),
      shellFunction(script, 'watch_sockets'),
      `exec 8>${out}`,
      'watch_sockets',
    ].join('\n');
    watcher = spawn('bash', ['-c', harness], { stdio: 'ignore' });

    server = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const mine = `0100007F:${hexPort(port)}`;
    // An established connection's local port is not a listening socket.
    const client = createConnection({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => client.on('connect', resolve));
    const clientSocket = `0100007F:${hexPort(client.localPort!)}`;

    const withPort = await waitFor(async () => {
      const lines = await pushedLines(out).catch(() => []);
      const index = lines.findIndex((sockets) => sockets.includes(mine));
      return index >= 0 ? { lines, index } : undefined;
    });
    expect(withPort.lines[withPort.index]).toContain(mine);
    expect(withPort.lines[withPort.index]).not.toContain(clientSocket);
    client.destroy();

    // Nothing changes: nothing more is sent. Asked: the same set is sent again.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const settled = (await pushedLines(out)).length;
    await writeFile(wanted, '1\n');
    const resent = await waitFor(async () => {
      const lines = await pushedLines(out);
      return lines.length > settled ? lines : undefined;
    });
    expect(resent.at(-1)).toContain(mine);

    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const gone = await waitFor(async () => {
      const lines = await pushedLines(out);
      return lines.length > resent.length ? lines : undefined;
    });
    expect(gone.at(-1)).not.toContain(mine);
  }, 60_000);
});
