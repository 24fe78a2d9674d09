// HTTP/1.1 calls to the guest dockerd's Engine API over a TCP connection the worker opens into the guest
// (v86's network_adapter.connect to ENGINE_API_PORT, the port preview's path: net/guest-http-client.ts). One
// connection per call, so calls run side by side and a long-lived stream (/events, logs) blocks nothing.
import { ENGINE_API_PORT, type EngineErrorCode } from '../../shared/engine-contract.ts';
import { GuestHttpError, guestFetch, type GuestDialer, type GuestHttpResponse } from '../net/guest-http-client.ts';
import { engineErrorMessage } from './engine-model.ts';

/** Every path is versioned: dockerd 20.10 (API 1.41) and 26 (1.45, minimum 1.24) answer 1.41 the same way. */
export const ENGINE_API_PREFIX = '/v1.41';

export class EngineFailure extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'EngineFailure';
  }
}

export interface EngineCallOptions {
  body?: unknown;
  /** A stream (/events, logs with follow): no limit on silence between bytes. */
  stream?: boolean;
  /** Time for the response head; `docker stop` waits for the container's stop timeout (10 s) and more. */
  headTimeoutMs?: number;
}

/** Per SYN, and SYNs per call (guest-http-client.ts dialWithRetries): 30 s in all for a silent guest. */
export const CONNECT_TIMEOUT_MS = 5_000;
export const CONNECT_ATTEMPTS = 6;
/**
 * Generous: right after a snapshot restore the emulator runs dockerd's code uncompiled, and a first /version took
 * 64 s on this 2-core machine under load (the next one 1.4 s); a first `docker start` 65 s.
 */
const HEAD_TIMEOUT_MS = 180_000;
const IDLE_TIMEOUT_MS = 60_000;

export class EngineClient {
  constructor(private readonly dialer: () => GuestDialer | undefined) {}

  /** The raw response of a call that succeeded (2xx or 304); any other status becomes an EngineFailure. */
  async call(method: string, path: string, options: EngineCallOptions = {}): Promise<GuestHttpResponse> {
    const dialer = this.dialer();
    if (!dialer) throw new EngineFailure('daemon-unavailable', 'The VM is not running, so the Docker daemon cannot be asked.');
    const body = options.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(options.body));
    let response: GuestHttpResponse;
    try {
      response = await guestFetch(
        dialer,
        {
          port: ENGINE_API_PORT,
          method,
          target: `${ENGINE_API_PREFIX}${path}`,
          headers: body === undefined ? [['accept', 'application/json']] : [['accept', 'application/json'], ['content-type', 'application/json']],
          ...(body === undefined ? {} : { body: body.buffer }),
        },
        { connectTimeoutMs: CONNECT_TIMEOUT_MS, connectAttempts: CONNECT_ATTEMPTS, headTimeoutMs: options.headTimeoutMs ?? HEAD_TIMEOUT_MS, idleTimeoutMs: options.stream ? 0 : IDLE_TIMEOUT_MS },
      );
    } catch (error) {
      throw failureFromTransport(error, `${method} ${path}`);
    }
    const status = response.head.status;
    if ((status >= 200 && status < 300) || status === 304) return response;
    const text = await new Response(response.body).text().catch(() => '');
    throw failureFromStatus(status, engineErrorMessage(text), `${method} ${path}`);
  }

  /** A call whose answer is one JSON document. */
  async json(method: string, path: string, options: EngineCallOptions = {}): Promise<unknown> {
    const response = await this.call(method, path, options);
    const text = await readText(response.body, `${method} ${path}`);
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new EngineFailure('engine-error', 'The Docker daemon sent an answer that is not JSON.', `${method} ${path}: ${String(error)}\n${text.slice(0, 300)}`);
    }
  }

  /** A call whose answer does not matter beyond its status (204 No Content, 304 Not Modified). */
  async send(method: string, path: string, options: EngineCallOptions = {}): Promise<void> {
    const response = await this.call(method, path, options);
    await response.body.cancel().catch(() => undefined);
  }
}

async function readText(body: ReadableStream<Uint8Array>, what: string): Promise<string> {
  try {
    return await new Response(body).text();
  } catch (error) {
    throw failureFromTransport(error, what);
  }
}

function failureFromTransport(error: unknown, what: string): EngineFailure {
  if (error instanceof EngineFailure) return error;
  if (error instanceof GuestHttpError) {
    switch (error.code) {
      case 'not-listening':
      case 'vm-not-running':
        return new EngineFailure('daemon-unavailable', 'The Docker daemon is not answering (it may be starting or restarting).', `${what}: ${error.message}`);
      case 'timeout':
        return new EngineFailure('daemon-unavailable', 'The Docker daemon did not answer in time; the VM may be busy.', `${what}: ${error.message}`);
      case 'bad-request':
        return new EngineFailure('bad-request', 'This request cannot be sent to the Docker daemon.', `${what}: ${error.detail ?? error.message}`);
      case 'bad-response':
        return new EngineFailure('engine-error', 'The Docker daemon cut its answer short.', `${what}: ${error.detail ?? error.message}`);
      default: {
        const unreachable: never = error.code;
        return new EngineFailure('engine-error', String(unreachable), what);
      }
    }
  }
  return new EngineFailure('engine-error', 'The call to the Docker daemon failed.', `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

function failureFromStatus(status: number, message: string, what: string): EngineFailure {
  const code: EngineErrorCode = status === 404 ? 'not-found' : status === 409 ? 'conflict' : status === 400 ? 'bad-request' : 'engine-error';
  return new EngineFailure(code, message || `The Docker daemon answered HTTP ${status}.`, `${what}: HTTP ${status}`);
}
