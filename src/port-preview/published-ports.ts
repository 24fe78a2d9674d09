// Which ports containers publish: the guest agent reports the kernel's listening TCP sockets whenever they
// change (dockerd's docker-proxy listens on each published port), and the Engine API's container list, read
// when that set changes, says which container a port belongs to.
import { ENGINE_API_PORT, type EngineContainer } from '../../worker/shared/engine-contract.ts';

/**
 * Ports the guest itself listens on, never a container's: dockerd's Engine API for the worker. Left out of the
 * sockets, so a restored guest with no container ports costs no container lookup on the CPU the user's first
 * command needs.
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

/** Largest number of ports taken from one container (`-p 8000-8099:8000-8099` would otherwise flood the bar). */
const MAX_PORTS_PER_CONTAINER = 16;

/**
 * The published TCP ports of running containers, from the Engine API's container list (what `docker ps`
 * shows, without starting a docker CLI in the guest). IPv4 and IPv6 twins are merged; sorted by host port.
 */
export function publishedPorts(containers: readonly EngineContainer[]): PublishedPort[] {
  const byHostPort = new Map<number, PublishedPort>();
  for (const container of containers) {
    if (container.state !== 'running') continue;
    let taken = 0;
    for (const port of container.ports) {
      const hostPort = port.publicPort;
      if (hostPort === undefined || port.protocol !== 'tcp' || hostPort < 1 || hostPort > 65535 || byHostPort.has(hostPort)) continue;
      if (taken++ >= MAX_PORTS_PER_CONTAINER) break;
      byHostPort.set(hostPort, { hostPort, containerPort: port.privatePort, container: container.name });
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
