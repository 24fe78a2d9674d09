// Which ports containers publish: the guest agent reports the kernel's listening TCP sockets whenever they
// change (dockerd's docker-proxy listens on each published port), and `docker ps`, run when that set changes,
// says which container a port belongs to.
import { ENGINE_API_PORT } from '../../worker/engine-contract.ts';

/**
 * Ports the guest itself listens on, never a container's: dockerd's Engine API for the worker. Left out of the
 * sockets, so a restored guest with no container ports costs no `docker ps` (each one is seconds of a cold
 * docker CLI on the CPU the user's first command needs).
 */
const GUEST_OWN_PORTS: ReadonlySet<number> = new Set([ENGINE_API_PORT]);

export interface PublishedPort {
  /** The port on the VM, the one the preview connects to. */
  hostPort: number;
  containerPort: number;
  container: string;
}

/**
 * The agent's listening sockets as sorted unique `ADDRESS:PORT` lines, so two reports of one set compare equal;
 * the guest's own ports are left out.
 */
export function listeningSockets(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[0-9A-Fa-f]+:[0-9A-Fa-f]{4}$/.test(line) && !GUEST_OWN_PORTS.has(parseInt(line.slice(-4), 16)));
  return [...new Set(lines)].sort().join('\n');
}

export const DOCKER_PS_COMMAND = "docker ps --format '{{.Names}}\t{{.Ports}}'";

/** Largest port range expanded from one mapping (`-p 8000-8099:8000-8099` would otherwise flood the bar). */
const MAX_RANGE = 16;

/**
 * Parses `docker ps --format '{{.Names}}\t{{.Ports}}'`. Ports look like
 * `0.0.0.0:8080->80/tcp, :::8080->80/tcp, 443/tcp` or `0.0.0.0:8000-8001->80-81/tcp`; unpublished and UDP
 * ports are skipped, IPv4 and IPv6 duplicates merged. Sorted by host port.
 */
export function parseDockerPs(output: string): PublishedPort[] {
  const byHostPort = new Map<number, PublishedPort>();
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const container = line.slice(0, tab).trim();
    for (const mapping of line.slice(tab + 1).split(',')) {
      const match = /:(\d+)(?:-(\d+))?->(\d+)(?:-\d+)?\/tcp$/.exec(mapping.trim());
      if (!match) continue;
      const first = Number(match[1]);
      const last = match[2] === undefined ? first : Math.min(Number(match[2]), first + MAX_RANGE - 1);
      const containerFirst = Number(match[3]);
      for (let hostPort = first; hostPort <= last; hostPort++) {
        if (hostPort < 1 || hostPort > 65535 || byHostPort.has(hostPort)) continue;
        byHostPort.set(hostPort, { hostPort, containerPort: containerFirst + (hostPort - first), container });
      }
    }
  }
  return [...byHostPort.values()].sort((a, b) => a.hostPort - b.hostPort);
}

export function samePorts(a: readonly PublishedPort[], b: readonly PublishedPort[]): boolean {
  return a.length === b.length && a.every((port, i) => {
    const other = b[i];
    return other !== undefined && port.hostPort === other.hostPort && port.containerPort === other.containerPort && port.container === other.container;
  });
}
