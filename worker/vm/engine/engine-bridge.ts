// The VM host's Engine API side (VmApi.engineQuery, engineAction, watchEngine, followEngineLogs): typed queries
// and actions, the /events watch that reconnects while the daemon is away, container logs onto a MessagePort,
// and the registry shim's layer progress passed on while someone watches. vm-host.ts delegates to it.
import type {
  EngineAction,
  EngineLogControl,
  EngineLogMessage,
  EngineQuery,
  EngineQueryResults,
  EngineUpdate,
  LayerProgress,
} from '../../shared/engine-contract.ts';
import { ENGINE_API_PORT } from '../../shared/engine-contract.ts';
import { dialWithRetries, type GuestDialer } from '../net/guest-http-client.ts';
import type { GuestSocket } from '../net/guest-socket.ts';
import { CONNECT_ATTEMPTS, CONNECT_TIMEOUT_MS, EngineClient, EngineFailure } from './engine-client.ts';
import { parseContainers, parseEvent, parseHistory, parseImages, parseNetworks, parseVersion, parseVolumes } from './engine-model.ts';
import { JsonLineDecoder, LogStreamDecoder } from './engine-streams.ts';

/** Container ids and names, image ids and references (`name:tag`, `registry:5000/a/b@sha256:...`). */
const ENGINE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,255}$/;
/** Reconnect delays while the daemon is away: quick at first (a restart takes seconds), then at most 10 s. */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 5_000, 10_000];
/** Stop waits for the container's stop timeout (10 s), start for the container to run: slow in a cold guest. */
const ACTION_TIMEOUT_MS = 300_000;
/** Lines of history a log view starts with. */
const LOG_TAIL_LINES = 500;

export interface EngineBridgeDeps {
  /** v86's network adapter while the VM runs. */
  dialer(): GuestDialer | undefined;
  emit(update: EngineUpdate): void;
}

/** The part of a MessagePort the logs need (DOM, WebWorker or Node). */
export interface LogPort {
  postMessage(message: EngineLogMessage): void;
  close(): void;
  onmessage: ((event: MessageEvent<EngineLogControl>) => void) | null;
}

export class EngineBridge {
  private readonly client: EngineClient;
  private watching = false;
  /** Ends the current /events stream (or pending connect). */
  private stopStream: (() => void) | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;

  constructor(private readonly deps: EngineBridgeDeps) {
    this.client = new EngineClient(deps.dialer);
  }

  async query<K extends EngineQuery['kind']>(query: Extract<EngineQuery, { kind: K }>): Promise<EngineQueryResults[K]> {
    return (await this.runQuery(query)) as EngineQueryResults[K];
  }

  async act(action: EngineAction): Promise<void> {
    const id = checkedId(action.id);
    switch (action.kind) {
      case 'container-stop':
        return this.client.send('POST', `/containers/${id}/stop`, { headTimeoutMs: ACTION_TIMEOUT_MS });
      case 'container-start':
        return this.client.send('POST', `/containers/${id}/start`, { headTimeoutMs: ACTION_TIMEOUT_MS });
      case 'container-remove':
        return this.client.send('DELETE', `/containers/${id}?force=${action.force ? '1' : '0'}`, { headTimeoutMs: ACTION_TIMEOUT_MS });
      case 'image-remove':
        return this.client.send('DELETE', `/images/${id}`, { headTimeoutMs: ACTION_TIMEOUT_MS });
      default: {
        const unreachable: never = action;
        throw new EngineFailure('bad-request', `unknown action ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Starts or stops the /events watch; while on, the daemon's events and layer progress are emitted. */
  watch(on: boolean): void {
    if (on === this.watching) return;
    this.watching = on;
    if (on) {
      this.attempt = 0;
      this.connect();
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopStream?.();
    this.stopStream = undefined;
  }

  /** The VM (re)started: a watch waiting for it connects now rather than at its next retry. */
  vmRunning(): void {
    if (!this.watching || this.stopStream) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  layerProgress(progress: LayerProgress): void {
    if (this.watching) this.deps.emit({ kind: 'layers', layers: [progress] });
  }

  /** Streams a container's logs (the last lines, then follows) onto `port` until the reader cancels. */
  async followLogs(containerId: string, port: LogPort): Promise<void> {
    let cancelled = false;
    let cancel: (() => void) | undefined;
    port.onmessage = (event) => {
      if (event.data?.type !== 'cancel') return;
      cancelled = true;
      cancel?.();
    };
    try {
      const id = checkedId(containerId);
      const inspect = (await this.client.json('GET', `/containers/${id}/json`)) as { Config?: { Tty?: unknown } } | undefined;
      const decoder = new LogStreamDecoder(inspect?.Config?.Tty !== true);
      const response = await this.client.call('GET', `/containers/${id}/logs?follow=1&stdout=1&stderr=1&tail=${LOG_TAIL_LINES}`, { stream: true });
      const reader = response.body.getReader();
      cancel = () => void reader.cancel().catch(() => undefined);
      if (cancelled) cancel();
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        for (const piece of decoder.push(chunk.value)) port.postMessage({ type: 'data', stream: piece.stream, text: piece.text });
      }
      if (!cancelled) port.postMessage({ type: 'end' });
    } catch (error) {
      if (!cancelled) {
        const failure = error instanceof EngineFailure ? error : new EngineFailure('engine-error', String(error));
        port.postMessage({ type: 'error', code: failure.code, message: failure.message });
      }
    } finally {
      port.onmessage = null;
      port.close();
    }
  }

  /** A raw TCP connection to the API (the Node harness's --docker-socket relays bytes over it). */
  dial(): Promise<GuestSocket> {
    const dialer = this.deps.dialer();
    if (!dialer) return Promise.reject(new EngineFailure('daemon-unavailable', 'The VM is not running.'));
    return dialWithRetries(dialer, ENGINE_API_PORT, CONNECT_TIMEOUT_MS, CONNECT_ATTEMPTS);
  }

  private runQuery(query: EngineQuery): Promise<unknown> {
    switch (query.kind) {
      case 'version':
        return this.client.json('GET', '/version').then(parseVersion);
      case 'containers':
        return this.client.json('GET', '/containers/json?all=1').then(parseContainers);
      case 'images':
        return this.client.json('GET', '/images/json').then(parseImages);
      case 'networks':
        return this.client.json('GET', '/networks').then(parseNetworks);
      case 'volumes':
        return this.client.json('GET', '/volumes').then(parseVolumes);
      case 'image-history':
        return this.client.json('GET', `/images/${checkedId(query.id)}/history`).then(parseHistory);
      default: {
        const unreachable: never = query;
        return Promise.reject(new EngineFailure('bad-request', `unknown query ${JSON.stringify(unreachable)}`));
      }
    }
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (!this.watching) return;
    let stopped = false;
    let cancelBody: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      cancelBody?.();
    };
    this.stopStream = stop;
    const current = () => !stopped && this.stopStream === stop;
    this.deps.emit({ kind: 'connection', state: 'connecting' });
    void (async () => {
      try {
        const response = await this.client.call('GET', '/events', { stream: true });
        const reader = response.body.getReader();
        cancelBody = () => void reader.cancel().catch(() => undefined);
        if (!current()) return cancelBody();
        this.attempt = 0;
        this.deps.emit({ kind: 'connection', state: 'connected' });
        const decoder = new JsonLineDecoder();
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          if (current()) this.emitLines(decoder.push(chunk.value));
        }
        if (current()) this.emitLines(decoder.end());
        if (current()) this.lost('The Docker daemon closed the event stream (it may be restarting).');
      } catch (error) {
        if (current()) this.lost(error instanceof Error ? error.message : String(error));
      }
    })();
  }

  private emitLines(lines: ReturnType<JsonLineDecoder['push']>): void {
    const events = [];
    for (const line of lines) {
      const event = line.kind === 'json' ? parseEvent(line.value) : undefined;
      if (event) events.push(event);
      else this.deps.emit({ kind: 'raw', text: line.kind === 'text' ? line.text : JSON.stringify(line.value) });
    }
    if (events.length > 0) this.deps.emit({ kind: 'events', events });
  }

  private lost(reason: string): void {
    this.stopStream = undefined;
    const delayMs = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)] ?? 10_000;
    this.attempt++;
    this.deps.emit({ kind: 'connection', state: 'waiting', message: `Waiting for the Docker daemon: ${reason} Trying again in ${Math.round(delayMs / 100) / 10} s.` });
    // Only while the VM runs: a stopped or booting VM is retried when vmRunning() says it is back.
    if (this.deps.dialer()) this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }
}

function checkedId(id: string): string {
  if (!ENGINE_ID.test(id) || id.includes('..')) throw new EngineFailure('bad-request', `${JSON.stringify(id.slice(0, 80))} is not a container or image name.`);
  return id;
}
