// The preview shell's relay: takes the app's offer (a MessagePort, from the app origin only), then passes each
// request its Service Worker sends here on to the app, with the port the answer streams back on. The shell
// holds no VM and no app data; it refuses requests for any port but its own before the app is asked.
import type { GuestHttpMessage } from '../../../worker/shared/contract.ts';
import {
  PREVIEW_PROTOCOL_VERSION,
  appMessageSchema,
  firstIssue,
  portRequestMessageSchema,
  previewOfferSchema,
  type ShellFailureCode,
} from '../../../worker/shared/preview-protocol.ts';
import type { ShellParams } from './shell-params.ts';

export type ShellState =
  | { kind: 'waiting' }
  /** The app's offer was taken; the Service Worker may still be starting. */
  | { kind: 'connected' }
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  /** The app said it is going away. */
  | { kind: 'closed' };

/** What a message event offers the relay; window and Service Worker message events both fit. */
export interface IncomingMessage {
  origin: string;
  data: unknown;
  ports: readonly MessagePort[];
}

export interface ShellRelayOptions {
  params: ShellParams;
  /** Resolves when the shell's Service Worker is active; rejects with a sentence. */
  serviceWorker: Promise<void>;
  onState(state: ShellState): void;
  /** The app's Reload for its panel: reload the page in the app's frame of that name. */
  reloadFrame(name: string): void;
}

export class ShellRelay {
  private connection: MessagePort | undefined;
  private swProblem: string | undefined;
  private swReady = false;

  constructor(private readonly options: ShellRelayOptions) {
    options.onState({ kind: 'waiting' });
    options.serviceWorker.then(
      () => {
        this.swReady = true;
        this.announce();
      },
      (reason: unknown) => {
        this.swProblem = reason instanceof Error ? reason.message : String(reason);
        this.announce();
      },
    );
  }

  /** A window message: the app's offer, from the app's origin only; everything else is ignored. */
  offered(event: IncomingMessage): void {
    if (event.origin !== this.options.params.appOrigin) return;
    const port = event.ports[0];
    if (!port || event.ports.length !== 1) return;
    const parsed = previewOfferSchema.safeParse(event.data);
    if (!parsed.success) {
      const message = `This preview page speaks version ${PREVIEW_PROTOCOL_VERSION} of tabdock's preview messages and could not read the offer (${firstIssue(parsed.error)}); reload it.`;
      this.fail(port, 'old-shell', message);
      return;
    }
    if (this.connection) {
      // One app per shell: a second offer (the app retrying before it saw our hello) is dropped.
      port.close();
      return;
    }
    if (parsed.data.port !== this.options.params.port) {
      this.fail(port, 'wrong-port', `This preview was opened for port ${this.options.params.port}, not ${parsed.data.port}.`);
      return;
    }
    this.connection = port;
    port.onmessage = (message: MessageEvent<unknown>) => this.fromApp(message.data);
    port.postMessage({ type: 'hello', port: this.options.params.port });
    this.options.onState({ kind: 'connected' });
    this.announce();
  }

  /** A Service Worker message: one request for the guest, with the port its answer goes to. */
  request(event: IncomingMessage): void {
    const reply = event.ports[0];
    if (!reply) return;
    const parsed = portRequestMessageSchema.safeParse(event.data);
    if (!parsed.success) {
      answer(reply, { type: 'error', code: 'bad-request', message: 'This request cannot be sent to the container.', detail: firstIssue(parsed.error) });
      return;
    }
    const { request } = parsed.data;
    if (request.port !== this.options.params.port) {
      answer(reply, { type: 'error', code: 'not-allowed', message: `This preview was opened for port ${this.options.params.port}; it does not reach port ${request.port}.` });
      return;
    }
    if (!this.connection) {
      answer(reply, {
        type: 'error',
        code: 'no-tab',
        message: 'This preview is not connected to a tabdock tab (the tab that opened it closed or reloaded). Open the port again from tabdock.',
      });
      return;
    }
    this.connection.postMessage({ type: 'request', request }, [reply, ...(request.body ? [request.body] : [])]);
  }

  /** The shell is unloading: tell the app, which offers again if the shell comes back (a reload). */
  unloading(): void {
    this.connection?.postMessage({ type: 'bye' });
  }

  private fromApp(data: unknown): void {
    const parsed = appMessageSchema.safeParse(data);
    if (!parsed.success) return;
    switch (parsed.data.type) {
      case 'closing':
        this.connection?.close();
        this.connection = undefined;
        this.options.onState({ kind: 'closed' });
        return;
      case 'reload-frame':
        this.options.reloadFrame(parsed.data.frame);
        return;
      default: {
        const unknown: never = parsed.data;
        throw new Error(`unknown app message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Once connected, the app learns whether the Service Worker runs (it waits for 'ready' before loading pages). */
  private announce(): void {
    const connection = this.connection;
    if (!connection) return;
    if (this.swProblem !== undefined) {
      connection.postMessage({ type: 'failed', code: 'no-service-worker', message: this.swProblem });
      this.options.onState({ kind: 'failed', message: this.swProblem });
    } else if (this.swReady) {
      connection.postMessage({ type: 'ready', port: this.options.params.port });
      this.options.onState({ kind: 'ready' });
    }
  }

  private fail(port: MessagePort, code: ShellFailureCode, message: string): void {
    port.postMessage({ type: 'failed', code, message });
    port.close();
  }
}

function answer(reply: MessagePort, message: Extract<GuestHttpMessage, { type: 'error' }>): void {
  reply.postMessage(message);
  reply.close();
}
