// The app's side of one preview shell (src/port-preview/shell/): offers it a MessagePort through the window this
// page framed or opened (posting only to the preview origin), then answers its requests with this tab's VM.
// Every message is parsed first; a request for any port but the one this preview was opened for, or for the
// Engine API's, is refused here, whatever the shell (which a container's page can script) sends.
import type { GuestHttpMessage, GuestHttpRequest } from '../../worker/shared/contract.ts';
import { ENGINE_API_PORT } from '../../worker/shared/engine-contract.ts';
import { PREVIEW_PROTOCOL_VERSION, firstIssue, shellMessageSchema, type AppMessage, type PreviewOffer } from '../../worker/shared/preview-protocol.ts';

export interface PreviewVm {
  forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort): void;
}

export interface PreviewConnectionOptions {
  /** The preview origin: offers are posted to it only, so no other document can take one. */
  previewOrigin: string;
  /** The container port this preview was opened for. */
  port: number;
  /** The shell's window: the panel's relay frame, or a tab this page opened; null once gone. */
  target(): Window | null | undefined;
  /** This tab's VM while it runs. */
  vm(): PreviewVm | undefined;
  /** Fail `ready` when no shell said so by then (the panel); a tab waits as long as it is open. */
  readyTimeoutMs?: number;
  /** How often an unanswered offer is repeated (the shell's script may not run yet). */
  offerIntervalMs?: number;
}

/** An offer not taken within this long is dropped (a shell answers 'hello' as soon as its script sees it). */
const OFFER_LIFETIME_MS = 2_000;

export class PreviewConnection {
  /** Resolves when the shell's Service Worker runs (pages may load); rejects with a sentence. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  private connection: MessagePort | undefined;
  private offers: Array<{ port: MessagePort; sentAtMs: number }> = [];
  private readonly offerTimer: ReturnType<typeof setInterval>;
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly options: PreviewConnectionOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be waiting yet; the rejection is still seen by whoever awaits it later.
    this.ready.catch(() => undefined);
    this.offerTimer = setInterval(() => this.offer(), options.offerIntervalMs ?? 250);
    if (options.readyTimeoutMs !== undefined) {
      this.readyTimer = setTimeout(() => {
        this.rejectReady(new Error(`The preview origin ${options.previewOrigin} did not answer within ${Math.round(options.readyTimeoutMs! / 1000)} s. Is it served (README "Port preview")?`));
      }, options.readyTimeoutMs);
    }
    this.offer();
  }

  /** Offers again now (the relay frame just loaded) instead of at the next tick. */
  offerNow(): void {
    this.offer();
  }

  /** Tells the shell to reload the page in this page's frame `name` (the panel's Reload; the frame is cross-origin here). */
  reloadFrame(name: string): void {
    this.send({ type: 'reload-frame', frame: name });
  }

  /** This page is going away, or the preview closed: the shell stops relaying. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.offerTimer);
    if (this.readyTimer !== undefined) clearTimeout(this.readyTimer);
    this.send({ type: 'closing' });
    this.connection?.close();
    this.connection = undefined;
    for (const offer of this.offers) offer.port.close();
    this.offers = [];
    this.rejectReady(new Error('The preview was closed.'));
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  private send(message: AppMessage): void {
    this.connection?.postMessage(message);
  }

  private offer(): void {
    if (this.disposed || this.connection) return;
    const now = performance.now();
    this.offers = this.offers.filter((offer) => {
      if (now - offer.sentAtMs < OFFER_LIFETIME_MS) return true;
      offer.port.close();
      return false;
    });
    const target = this.options.target();
    if (!target || target.closed) {
      if (target?.closed) this.dispose();
      return;
    }
    // A window whose document this page can read is still the initial about:blank, not the shell: wait.
    if (readable(target)) return;
    const channel = new MessageChannel();
    channel.port1.onmessage = (event: MessageEvent<unknown>) => this.received(channel.port1, event);
    const offer: PreviewOffer = { type: 'tabdock-preview-offer', version: PREVIEW_PROTOCOL_VERSION, port: this.options.port };
    // targetOrigin: if the window shows anything but the preview origin (still about:blank, or navigated away),
    // the browser drops the offer instead of handing our port to that page.
    target.postMessage(offer, this.options.previewOrigin, [channel.port2]);
    this.offers.push({ port: channel.port1, sentAtMs: now });
  }

  private received(from: MessagePort, event: MessageEvent<unknown>): void {
    if (this.disposed) return;
    const parsed = shellMessageSchema.safeParse(event.data);
    if (!parsed.success) {
      const reply = event.ports[0];
      if (reply) answer(reply, { type: 'error', code: 'bad-request', message: 'This request cannot be sent to the container.', detail: firstIssue(parsed.error) });
      console.warn(`tabdock: a preview of port ${this.options.port} sent a message that is not part of the protocol (${firstIssue(parsed.error)})`);
      return;
    }
    const message = parsed.data;
    if (from !== this.connection) {
      // Before a shell took an offer only its answer to that offer counts.
      if (message.type === 'hello') this.accept(from);
      else if (message.type === 'failed') this.rejectReady(new Error(message.message));
      return;
    }
    switch (message.type) {
      case 'hello':
        return;
      case 'ready':
        if (this.readyTimer !== undefined) clearTimeout(this.readyTimer);
        this.resolveReady();
        return;
      case 'failed':
        this.rejectReady(new Error(message.message));
        return;
      case 'request':
        this.forward(message.request, event.ports);
        return;
      case 'bye':
        // The shell unloads (a reload, or the tab closed): offer again; a reloaded shell takes the next offer.
        this.connection?.close();
        this.connection = undefined;
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unknown shell message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private accept(port: MessagePort): void {
    this.connection = port;
    for (const offer of this.offers) if (offer.port !== port) offer.port.close();
    this.offers = [];
  }

  private forward(request: GuestHttpRequest, ports: readonly MessagePort[]): void {
    const reply = ports[0];
    if (!reply || ports.length !== 1) return;
    if (request.port !== this.options.port || request.port === ENGINE_API_PORT) {
      answer(reply, {
        type: 'error',
        code: 'not-allowed',
        message:
          request.port === ENGINE_API_PORT
            ? `Port ${ENGINE_API_PORT} is the Docker daemon's own API; previews never open it.`
            : `This preview was opened for port ${this.options.port}; it does not reach port ${request.port}. Open that port from tabdock's Published ports.`,
      });
      return;
    }
    const vm = this.options.vm();
    if (!vm) {
      answer(reply, {
        type: 'error',
        code: 'vm-not-running',
        message: `The VM in the tabdock tab is not running, so port ${request.port} cannot be reached. Restart it, start the container again, then reload.`,
      });
      return;
    }
    vm.forwardGuestHttp(request, reply);
  }
}

function readable(target: Window): boolean {
  try {
    return typeof target.location.href === 'string';
  } catch {
    return false;
  }
}

function answer(reply: MessagePort, message: Extract<GuestHttpMessage, { type: 'error' }>): void {
  reply.postMessage(message);
  reply.close();
}
