// Turns the guest's listening sockets into published ports. The guest agent pushes the sockets whenever they
// change (docker-proxy listens on each published port; vm-images/config/tabdock-agent watch_sockets), so the
// page never polls: the containers' published ports are read (the Engine API's container list, as `docker ps`
// shows them) only when the set changed, to learn which container a port belongs to.
import { type PublishedPort, listeningSockets, samePorts } from './published-ports.ts';

export interface PortWatchDeps {
  /** The published ports of running containers; rejects when the daemon does not answer. */
  publishedPorts(): Promise<PublishedPort[]>;
  onChange(ports: readonly PublishedPort[]): void;
}

export interface PortWatchTiming {
  /** How long to wait before asking again about a port the container list did not show yet. */
  psRetryMs: number;
}

export const DEFAULT_PORT_WATCH_TIMING: PortWatchTiming = {
  psRetryMs: 2_000,
};

/** docker-proxy listens before the daemon lists the container as running; this many asks, then accept. */
const PS_RETRIES = 8;

/** Port numbers from `ADDRESS:PORT` lines (hex, /proc/net/tcp format). */
export function listeningPorts(output: string): Set<number> {
  const ports = new Set<number>();
  for (const line of output.split('\n')) {
    const match = /:([0-9A-Fa-f]{4})$/.exec(line.trim());
    if (match?.[1]) ports.add(parseInt(match[1], 16));
  }
  return ports;
}

export class PortWatch {
  private running = false;
  /** The newest sockets the guest sent (sorted), and the ones the current ports were taken from. */
  private latest: string | undefined;
  private settled: string | undefined;
  /** Ports listening when `settled` was taken in, and asks left for ports the container list does not explain yet. */
  private listening = new Set<number>();
  private psRetriesLeft = PS_RETRIES;
  private ports: PublishedPort[] = [];
  private inFlight = false;
  /** New sockets arrived while the container list was read: look again right after it. */
  private lookAgain = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: PortWatchDeps,
    private readonly timing: PortWatchTiming = DEFAULT_PORT_WATCH_TIMING,
  ) {}

  /**
   * The VM runs: its sockets follow (the VM host asks the agent for them at every start). Sockets that came
   * since the last stop(), before the page learnt that the boot finished, are looked up now.
   */
  start(): void {
    this.running = true;
    this.settled = undefined;
    this.listening = new Set();
    this.psRetriesLeft = PS_RETRIES;
    if (this.latest !== undefined) void this.lookUp();
  }

  /** The VM stopped or restarts: forget its ports. */
  stop(): void {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.latest = undefined;
    this.settled = undefined;
    if (this.ports.length > 0) {
      this.ports = [];
      this.deps.onChange([]);
    }
  }

  /** The guest's listening sockets, as the agent sent them (any order, duplicates allowed). */
  socketsChanged(sockets: string): void {
    const next = listeningSockets(sockets);
    if (next !== this.latest) this.psRetriesLeft = PS_RETRIES;
    this.latest = next;
    if (!this.running) return;
    if (this.latest === this.settled) {
      // Back to what the ports were taken from (a port came and went): nothing to ask about.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    void this.lookUp();
  }

  private async lookUp(): Promise<void> {
    if (this.inFlight) {
      this.lookAgain = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.inFlight = true;
    try {
      do {
        this.lookAgain = false;
        await this.askContainers();
      } while (this.lookAgain && this.running);
    } finally {
      this.inFlight = false;
    }
  }

  private async askContainers(): Promise<void> {
    const sockets = this.latest;
    if (sockets === undefined || sockets === this.settled || !this.running) return;
    if (sockets === '') {
      // Nothing listens, so nothing is published (docker-proxy listens on every published port): nothing to ask.
      this.settle(sockets, new Set());
      this.show([]);
      return;
    }
    const ports = await this.deps.publishedPorts().catch(() => undefined);
    if (!this.running || sockets !== this.latest) return;
    if (!ports) {
      // The daemon is busy or the VM is going away: ask again later, a bounded number of times.
      if (this.psRetriesLeft-- > 0) this.retryLater();
      return;
    }
    const listening = listeningPorts(sockets);
    const unexplained = [...listening].some((port) => !this.listening.has(port) && !ports.some((p) => p.hostPort === port));
    if (!unexplained || this.psRetriesLeft-- <= 0) {
      // A host process listening (not a container) stays unexplained; after the retries it is taken as it is.
      this.settle(sockets, listening);
    } else {
      this.retryLater();
    }
    this.show(ports);
  }

  private settle(sockets: string, listening: Set<number>): void {
    this.settled = sockets;
    this.listening = listening;
    this.psRetriesLeft = PS_RETRIES;
  }

  private show(ports: PublishedPort[]): void {
    if (samePorts(ports, this.ports)) return;
    this.ports = ports;
    this.deps.onChange(ports);
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.lookUp();
    }, this.timing.psRetryMs);
  }
}
