// `npm run vm`: boots the guest headless in Node and attaches this terminal to its shell, or with --exec runs
// one command through the guest agent and exits with its status. Boot progress and errors go to stderr.
import { parseArgs } from 'node:util';
import { VmFailure, type VmEvent } from '../shared/contract.ts';
import { DEFAULT_BOOT_TIMEOUT_MS, type VmHost } from '../vm/vm-host.ts';
import type { NetworkConfig } from '../vm/net/index.ts';
import { hostPortsFromFlags, networkConfigFromFlags, NetworkFlagError } from './network-flags.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from './node-platform.ts';
import { DockerSocketError, removeStaleSocket, serveDockerSocket, type DockerSocketServer } from './docker-socket.ts';

const QUIT_BYTE = 0x1d; // Ctrl-]
const EXIT_TIMEOUT = 124; // what coreutils `timeout` uses; scripts already know it
const EXIT_FAILURE = 1;

const HELP = `Usage: npm run vm -- [options]

Boots the tabdock guest (Linux + dockerd in v86) in this process.

Without --exec, attaches this terminal to the guest shell (hvc0). Press Ctrl-] to quit.

Options:
  --exec <cmd>          Run <cmd> in the guest through the agent, print its output, exit with its status
  --timeout <s>         With --exec: stop the command after <s> seconds (exit 124, message on stderr)
  --assets <dir>        Guest image directory (default ${DEFAULT_ASSET_DIR}; build it with \`npm run images\`)
  --memory <MiB>        Guest RAM (default: the image's recommendation)
  --boot-timeout <s>    Give up booting after <s> seconds (default ${DEFAULT_BOOT_TIMEOUT_MS / 1000})
  --verify-disk         Also sha256 the whole root disk before booting
  --cold                Boot the kernel even when the image has a boot snapshot (default: restore it)
  --verbose             Copy the kernel/init log (ttyS0) to stderr
  --upstream <host|url> Docker Hub replacement for docker pull, e.g. mirror.gcr.io or http://127.0.0.1:5000
                        (env TABDOCK_UPSTREAM)
  --registry <name>=<url>  Serve registry <name> (as the guest writes it, e.g. registry.test:5000) from <url>;
                        repeatable (env TABDOCK_REGISTRIES, comma separated)
  --proxy <url>         Send registry and HTTP traffic through this CORS proxy (\`npm run proxy\`) instead of
                        fetching directly (env TABDOCK_PROXY)
  --allow-host-port <port>  Let the guest reach 127.0.0.1:<port> of this machine as host.tabdock.internal:<port>;
                        repeatable (env TABDOCK_ALLOW_HOST_PORTS, comma separated). Other TCP from the guest is
                        relayed from this process to public addresses on ports 80 and 443 only.
  --docker-socket <path>  Also serve the guest's Docker Engine API as a Unix socket at <path> while the VM runs
                        (with the shell attached, or during --exec): DOCKER_HOST=unix://<path> docker ps
  -h, --help            Show this help

Exit status: the command's status with --exec; 124 when it timed out; 1 when the VM failed (missing or
stale image, kernel panic, dockerd failing, boot timeout), with the last console lines on stderr.`;

interface CliOptions {
  exec?: string;
  timeoutS?: number;
  assetDir: string;
  memoryMiB?: number;
  bootTimeoutS: number;
  verifyDisk: boolean;
  cold: boolean;
  verbose: boolean;
  network: NetworkConfig;
  hostPorts: number[];
  dockerSocket?: string;
}

function parseCli(argv: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      exec: { type: 'string' },
      timeout: { type: 'string' },
      assets: { type: 'string' },
      memory: { type: 'string' },
      'boot-timeout': { type: 'string' },
      'verify-disk': { type: 'boolean' },
      cold: { type: 'boolean' },
      verbose: { type: 'boolean' },
      upstream: { type: 'string' },
      proxy: { type: 'string' },
      registry: { type: 'string', multiple: true },
      'allow-host-port': { type: 'string', multiple: true },
      'docker-socket': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const options: CliOptions = {
    assetDir: values.assets ?? DEFAULT_ASSET_DIR,
    bootTimeoutS: positiveNumber('--boot-timeout', values['boot-timeout']) ?? DEFAULT_BOOT_TIMEOUT_MS / 1000,
    verifyDisk: values['verify-disk'] ?? false,
    cold: values.cold ?? false,
    verbose: values.verbose ?? false,
    network: networkFlags({ upstream: values.upstream, proxy: values.proxy, registries: values.registry }),
    hostPorts: flagged(() => hostPortsFromFlags(values['allow-host-port'], process.env)),
  };
  if (values.exec !== undefined) options.exec = values.exec;
  if (values['docker-socket'] !== undefined) {
    if (values['docker-socket'].trim() === '') throw new UsageError('--docker-socket wants a file path, e.g. /tmp/tabdock-docker.sock');
    options.dockerSocket = values['docker-socket'];
  }
  const timeoutS = positiveNumber('--timeout', values.timeout);
  if (timeoutS !== undefined) options.timeoutS = timeoutS;
  const memoryMiB = positiveNumber('--memory', values.memory);
  if (memoryMiB !== undefined) options.memoryMiB = memoryMiB;
  return options;
}

function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} wants a positive number, got "${text}"`);
  return value;
}

class UsageError extends Error {}

function networkFlags(flags: Parameters<typeof networkConfigFromFlags>[0]): NetworkConfig {
  return flagged(() => networkConfigFromFlags(flags, process.env));
}

function flagged<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof NetworkFlagError) throw new UsageError(error.message);
    throw error;
  }
}

function progressPrinter(verbose: boolean): (event: VmEvent) => void {
  let lastDownloadPercent = -1;
  return (event) => {
    switch (event.type) {
      case 'stage':
        process.stderr.write(`[${(event.atMs / 1000).toFixed(1).padStart(6)} s] ${event.stage}\n`);
        return;
      case 'download': {
        const percent = event.totalBytes ? Math.floor((100 * event.loadedBytes) / event.totalBytes) : 0;
        if (verbose && percent !== lastDownloadPercent && percent % 25 === 0) process.stderr.write(`  loaded ${percent}%\n`);
        lastDownloadPercent = percent;
        return;
      }
      case 'notice':
        process.stderr.write(`tabdock: ${event.notice.message}\n`);
        if (verbose && event.notice.detail) process.stderr.write(`  ${event.notice.detail}\n`);
        return;
      case 'console':
      case 'status':
      case 'error':
      case 'listening-sockets':
      case 'engine':
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unhandled event ${JSON.stringify(unreachable)}`);
      }
    }
  };
}

function reportFailure(error: unknown): number {
  if (error instanceof VmFailure) {
    process.stderr.write(`\ntabdock: ${error.message}\n`);
    if (error.detail) process.stderr.write(`--- detail (${error.code}) ---\n${error.detail}\n---\n`);
    return error.code === 'exec-timeout' ? EXIT_TIMEOUT : EXIT_FAILURE;
  }
  process.stderr.write(`\ntabdock: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILURE;
}

async function runExec(host: VmHost, command: string, timeoutS: number | undefined): Promise<number> {
  const result = await host.exec(command, timeoutS === undefined ? {} : { timeoutMs: timeoutS * 1000 });
  process.stdout.write(result.output);
  return result.exitCode;
}

/** Attaches the terminal; resolves with 0 when the user presses Ctrl-]. */
function runInteractive(host: VmHost): Promise<number> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    host.subscribe((event) => {
      if (event.type === 'console') process.stdout.write(event.data);
    });
    const onResize = () => host.resize(process.stdout.columns, process.stdout.rows);
    if (stdin.isTTY) stdin.setRawMode(true);
    if (process.stdout.isTTY) process.on('SIGWINCH', onResize);
    process.stderr.write('tabdock: attached to the guest shell; press Ctrl-] to quit.\n');
    host.sendInput('\n');
    stdin.on('data', (chunk: Buffer) => {
      const quitAt = chunk.indexOf(QUIT_BYTE);
      if (quitAt >= 0) {
        if (quitAt > 0) host.sendInput(new Uint8Array(chunk.subarray(0, quitAt)));
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
        process.off('SIGWINCH', onResize);
        resolve(0);
        return;
      }
      host.sendInput(new Uint8Array(chunk));
    });
    stdin.on('end', () => resolve(0));
    stdin.resume();
  });
}

async function main(): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`tabdock: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const refusedTargets = new Set<string>();
  const host = createNodeVmHost({
    verifyDiskHash: options.verifyDisk,
    network: options.network,
    egress: {
      policy: { hostPorts: options.hostPorts },
      // Each refused target once: a tool that retries would otherwise fill the terminal.
      onNotice: (notice) => {
        if (refusedTargets.has(notice.target)) return;
        refusedTargets.add(notice.target);
        process.stderr.write(`\r\ntabdock: the relay refused ${notice.target}: ${notice.message}\r\n`);
      },
    },
  });
  host.subscribe(progressPrinter(options.verbose));
  if (options.verbose) host.probe.onSerialByte((byte) => process.stderr.write(Uint8Array.of(byte)));
  let status: number;
  let dockerSocket: DockerSocketServer | undefined;
  try {
    // A bad socket path is a usage error: say so before a boot of a minute or more.
    if (options.dockerSocket !== undefined) await removeStaleSocket(options.dockerSocket);
    const bootOptions = {
      assetBase: options.assetDir,
      bootTimeoutMs: options.bootTimeoutS * 1000,
      ...(options.cold ? { resume: { kind: 'kernel' as const } } : {}),
      ...(options.memoryMiB === undefined ? {} : { memoryBytes: options.memoryMiB * 1024 * 1024 }),
      ...(process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : {}),
    };
    await host.boot(bootOptions);
    if (options.dockerSocket !== undefined) {
      dockerSocket = await serveDockerSocket(options.dockerSocket, () => host.dialEngine(), (message) => process.stderr.write(`tabdock: ${message}\n`));
      process.stderr.write(`tabdock: the guest's Docker API is at unix://${dockerSocket.path} (e.g. DOCKER_HOST=unix://${dockerSocket.path} docker ps)\n`);
    }
    status = options.exec !== undefined ? await runExec(host, options.exec, options.timeoutS) : await runInteractive(host);
  } catch (error) {
    if (error instanceof DockerSocketError) {
      process.stderr.write(`tabdock: --docker-socket: ${error.message}\n`);
      status = 2;
    } else {
      status = reportFailure(error);
    }
  }
  await dockerSocket?.close();
  await host.shutdown();
  return status;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.exit(reportFailure(error));
  },
);
