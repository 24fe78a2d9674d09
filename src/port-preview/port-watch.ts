// Polls the guest for published ports while the tab is visible, never while hidden: sparingly while the user's
// command runs (a poll competes with it for the emulated CPU), at once when it finishes (`docker run -d -p`
// has published its port by then), every few seconds for a while after that, rarely otherwise.
// One poll costs a read of /proc/net/tcp; `docker ps` runs only when the listening sockets changed.
import type { ExecResult } from '../../worker/contract.ts';
import { DOCKER_PS_COMMAND, LISTENING_SOCKETS_COMMAND, listeningSockets, parseDockerPs, samePorts, type PublishedPort } from './published-ports.ts';

export interface PortWatchDeps {
  exec(command: string, timeoutMs: number): Promise<ExecResult>;
  onChange(ports: readonly PublishedPort[]): void;
  isVisible(): boolean;
}

export interface PortWatchTiming {
  /** While a command runs (Enter seen, its prompt not back yet): foreground servers still show up. */
  runningIntervalMs: number;
  activeIntervalMs: number;
  idleIntervalMs: number;
  /** How long after the last poke the active interval applies. */
  activeForMs: number;
  execTimeoutMs: number;
}

/**
 * One poll is an agent round trip (a bash, base64 both ways): `npm run bench -- portPreview` measured a 2 s median
 * on a loaded 2-core machine. Polling every 4 s during a command made `docker run --rm busybox true` in
 * Chromium take 78 / 25 / 17 s against 59 / 17 / 13 s with no polling, hence the longer interval while one runs.
 */
export const DEFAULT_PORT_WATCH_TIMING: PortWatchTiming = {
  runningIntervalMs: 10_000,
  activeIntervalMs: 4_000,
  idleIntervalMs: 20_000,
  activeForMs: 75_000,
  execTimeoutMs: 30_000,
};

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
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight = false;
  /** commandFinished() came while a poll was in flight: poll again right after it. */
  private lookAgain = false;
  private lastPokeAt = -Infinity;
  /** The user's command runs: Enter was seen and its prompt is not back yet. */
  private commandRunning = false;
  private sockets: string | undefined;
  /** Ports listening when `sockets` was taken in, and docker ps runs left for ports it does not explain yet. */
  private listening = new Set<number>();
  private psRetriesLeft = 0;
  private ports: PublishedPort[] = [];

  constructor(
    private readonly deps: PortWatchDeps,
    private readonly timing: PortWatchTiming = DEFAULT_PORT_WATCH_TIMING,
  ) {}

  /** Starts polling (the VM is running). */
  start(): void {
    this.running = true;
    this.sockets = undefined;
    this.listening = new Set();
    this.psRetriesLeft = PS_RETRIES;
    this.commandRunning = false;
    this.lookAgain = false;
    this.schedule(0);
  }

  /** Stops polling and forgets the ports (the VM stopped or restarts). */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sockets = undefined;
    if (this.ports.length > 0) {
      this.ports = [];
      this.deps.onChange([]);
    }
  }

  /** Something may have changed (the tab became visible): look soon and often. */
  poke(): void {
    this.lastPokeAt = Date.now();
    if (this.running) this.schedule(this.timing.activeIntervalMs);
  }

  /** The user entered a command: look now and then while it runs. */
  commandStarted(): void {
    this.lastPokeAt = Date.now();
    this.commandRunning = true;
    if (this.running) this.schedule(this.timing.runningIntervalMs);
  }

  /** The user's command finished (its prompt is back): look now, then often for a while. */
  commandFinished(): void {
    this.lastPokeAt = Date.now();
    this.commandRunning = false;
    if (this.running && !this.inFlight) this.schedule(0);
    else if (this.running) this.lookAgain = true;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    if (this.deps.isVisible() && !this.inFlight) {
      this.inFlight = true;
      try {
        await this.poll();
      } catch {
        // The VM is busy or going away; the next tick tries again, and stop() clears the ports if it went.
      } finally {
        this.inFlight = false;
      }
    }
    if (!this.running) return;
    if (this.lookAgain) {
      // The command finished while this poll ran, which may have looked too early.
      this.lookAgain = false;
      this.schedule(0);
      return;
    }
    if (this.timer !== undefined) return;
    const active = Date.now() - this.lastPokeAt < this.timing.activeForMs;
    const interval = this.commandRunning ? this.timing.runningIntervalMs : this.timing.activeIntervalMs;
    this.schedule(active ? interval : this.timing.idleIntervalMs);
  }

  private async poll(): Promise<void> {
    const polled = await this.deps.exec(LISTENING_SOCKETS_COMMAND, this.timing.execTimeoutMs);
    if (polled.exitCode !== 0) return;
    const sockets = listeningSockets(polled.output);
    if (sockets === this.sockets) return;
    const ps = await this.deps.exec(DOCKER_PS_COMMAND, this.timing.execTimeoutMs);
    if (ps.exitCode !== 0 || !this.running) return;
    const ports = parseDockerPs(ps.output);
    // docker-proxy listens before `docker ps` lists the container as running: a new port that ps does not
    // explain yet is asked about again on the next polls (a host process listening stops that after a few).
    const listening = listeningPorts(sockets);
    const unexplained = [...listening].some((port) => !this.listening.has(port) && !ports.some((p) => p.hostPort === port));
    if (!unexplained || this.psRetriesLeft-- <= 0) {
      this.sockets = sockets;
      this.listening = listening;
      this.psRetriesLeft = PS_RETRIES;
    }
    if (samePorts(ports, this.ports)) return;
    this.ports = ports;
    this.deps.onChange(ports);
  }
}
