// Port preview, the last hop in the worker: which guest ports a preview may reach, and a guest response streamed
// onto a MessagePort as GuestHttpMessages. The port came from the Service Worker through the page, so the bytes
// go worker -> Service Worker directly.
import type { GuestHttpControl, GuestHttpMessage, GuestHttpRequest, VmState } from '../../shared/contract.ts';
import { ENGINE_API_PORT } from '../../shared/engine-contract.ts';
import { GuestHttpError, guestFetch, type GuestDialer, type GuestFetchOptions, type GuestHttpResponse } from './guest-http-client.ts';

/** The MessagePort surface used (a DOM/WebWorker MessagePort, or Node's). */
export interface ReplyPort {
  postMessage(message: GuestHttpMessage, transfer?: Transferable[]): void;
  close(): void;
  onmessage: ((event: MessageEvent<GuestHttpControl>) => void) | null;
}

/** One preview request into a guest port; `dialer` is v86's network adapter while the VM runs (else undefined). */
export function previewFetch(dialer: GuestDialer | undefined, vmState: VmState, request: GuestHttpRequest, options?: GuestFetchOptions): Promise<GuestHttpResponse> {
  // The Engine API is root on the guest: a site in the preview (same origin as the page) must not reach it.
  if (request.port === ENGINE_API_PORT) {
    return Promise.reject(new GuestHttpError('bad-request', `Port ${ENGINE_API_PORT} is the Docker daemon's own API; the port preview does not open it.`));
  }
  if (!dialer) {
    return Promise.reject(new GuestHttpError('vm-not-running', `The VM is ${vmState}, so port ${request.port} cannot be reached. Wait for it to boot, or restart it.`));
  }
  return guestFetch(dialer, request, options);
}

/** Never rejects: every failure becomes an 'error' message, so the reader always gets an ending. */
export async function answerOnPort(response: Promise<GuestHttpResponse>, port: ReplyPort): Promise<void> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let cancelled = false;
  port.onmessage = (event) => {
    if (event.data?.type !== 'cancel') return;
    cancelled = true;
    void reader?.cancel().catch(() => undefined);
  };
  try {
    const { head, body } = await response;
    reader = body.getReader();
    if (cancelled) {
      await reader.cancel();
      return;
    }
    port.postMessage({ type: 'head', status: head.status, statusText: head.statusText, headers: head.headers });
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const bytes = chunk.value;
      // Parser output owns its buffer; transfer it instead of copying, unless it is a view into a larger one.
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      port.postMessage({ type: 'data', bytes: own }, [own.buffer as ArrayBuffer]);
    }
    if (!cancelled) port.postMessage({ type: 'end' });
  } catch (error) {
    if (!cancelled) port.postMessage(errorMessage(error));
  } finally {
    port.onmessage = null;
    port.close();
  }
}

export function errorMessage(error: unknown): Extract<GuestHttpMessage, { type: 'error' }> {
  if (error instanceof GuestHttpError) {
    return error.detail === undefined
      ? { type: 'error', code: error.code, message: error.message }
      : { type: 'error', code: error.code, message: error.message, detail: error.detail };
  }
  return {
    type: 'error',
    code: 'bad-response',
    message: 'The VM could not complete this request.',
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  };
}
