/// <reference path="./wisp-js.d.ts" />
// The browser's EgressDialer: guest TCP streams multiplexed over one WebSocket to a Wisp relay, with wisp-js's
// client (the protocol's maintained JavaScript implementation: framing, v2 handshake, per-stream credits).
// Opened at VM start and again on demand after it dropped; while the relay cannot be reached the dialer says
// 'down' and egress.ts sends names back to the shim.
import { client as wispClient } from '@mercuryworkshop/wisp-js/client';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { refusalForCloseReason, WISP_CLOSE } from '../../shared/wisp-close-reasons.ts';
import type { EgressDialer, EgressState, EgressStream } from '../../shared/egress-dialer.ts';

type ClientConnection = InstanceType<typeof wispClient.ClientConnection>;
type ClientStream = ReturnType<ClientConnection['create_stream']>;

export interface WispDialerOptions {
  /** Time for the WebSocket and the Wisp handshake. */
  openTimeoutMs?: number;
  /** Wait between reconnect attempts while 'down' (an attempt is made on the next dial after it). */
  retryAfterMs?: number;
  /**
   * How long to wait for the relay to confirm a stream (tabdock's relay sends a CONTINUE once connected) before
   * assuming a relay that never confirms; after one confirmation the wait is the relay's connect time.
   */
  firstConfirmTimeoutMs?: number;
  confirmTimeoutMs?: number;
  /** Upload bytes queued for the relay beyond which the guest is held back. */
  highWaterBytes?: number;
  /** Called when the relay could not be reached or dropped (once per state change to 'down'). */
  onDown?: (message: string) => void;
}

export class WispDialer implements EgressDialer {
  readonly description: string;
  private connection: ClientConnection | undefined;
  private opening: Promise<ClientConnection> | undefined;
  private current: EgressState = 'connecting';
  private lastFailureAt = 0;
  private relayConfirms = false;
  /** Set by close(): a socket still opening is abandoned, nothing opens again, and no more 'down' is told. */
  private closed = false;
  private abandonOpening: (() => void) | undefined;
  private readonly options: Required<Omit<WispDialerOptions, 'onDown'>> & Pick<WispDialerOptions, 'onDown'>;

  constructor(
    readonly url: string,
    options: WispDialerOptions = {},
  ) {
    if (!/^wss?:\/\/[^/]+\/.*\/$|^wss?:\/\/[^/]+\/$/.test(url)) {
      throw new TypeError(`the relay URL must be ws:// or wss:// and end in "/", got ${url}`);
    }
    this.description = url;
    this.options = {
      openTimeoutMs: options.openTimeoutMs ?? 8_000,
      retryAfterMs: options.retryAfterMs ?? 15_000,
      firstConfirmTimeoutMs: options.firstConfirmTimeoutMs ?? 3_000,
      confirmTimeoutMs: options.confirmTimeoutMs ?? 20_000,
      highWaterBytes: options.highWaterBytes ?? 1024 * 1024,
      onDown: options.onDown,
    };
  }

  state(): EgressState {
    if (this.closed) return 'down';
    if (this.current === 'down' && Date.now() - this.lastFailureAt >= this.options.retryAfterMs) {
      // Look again in the background, so names go to the relay again once it is back.
      void this.open().catch(() => undefined);
    }
    return this.current;
  }

  /** Opens the WebSocket now (the VM host calls it at start, so the first connection does not wait). */
  open(): Promise<ClientConnection> {
    if (this.closed) return Promise.reject(new RelayRefusal('relay-unreachable', `the connection to the relay at ${this.url} was closed`));
    if (this.connection?.connected) return Promise.resolve(this.connection);
    if (this.opening) return this.opening;
    this.current = 'connecting';
    this.opening = new Promise<ClientConnection>((resolve, reject) => {
      let settled = false;
      let connection: HardenedConnection;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!this.closed) this.markDown(message);
        try {
          connection?.close();
        } catch {
          // Closing a socket that never opened can throw in some runtimes; it is gone either way.
        }
        reject(new RelayRefusal('relay-unreachable', message));
      };
      this.abandonOpening = () => fail(`the connection to the relay at ${this.url} was closed before it opened`);
      const timer = setTimeout(() => fail(`the relay at ${this.url} did not answer within ${this.options.openTimeoutMs / 1000} s`), this.options.openTimeoutMs);
      try {
        connection = new HardenedConnection(this.url);
      } catch (error) {
        fail(`the relay URL ${this.url} cannot be opened (${error instanceof Error ? error.message : String(error)})`);
        return;
      }
      connection.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.connection = connection;
        this.current = 'open';
        resolve(connection);
      };
      connection.onerror = () => fail(`the relay at ${this.url} is unreachable (the WebSocket failed: wrong URL or token, relay not running, or offline)`);
      connection.onclose = () => {
        if (!settled) {
          fail(`the relay at ${this.url} closed the connection during the handshake`);
          return;
        }
        if (this.connection === connection) {
          this.connection = undefined;
          // A clean close is the relay ending a session that had no stream for its idle timeout: nothing is wrong,
          // the next dial opens a new one (names keep going to the relay, and the page hears nothing).
          if (connection.closeCode === 1000) this.current = 'connecting';
          else this.markDown(`the relay at ${this.url} closed the connection`);
        }
      };
    }).finally(() => {
      this.opening = undefined;
      this.abandonOpening = undefined;
    });
    return this.opening;
  }

  private markDown(message: string): void {
    const wasDown = this.current === 'down';
    this.current = 'down';
    this.lastFailureAt = Date.now();
    if (!wasDown) this.options.onDown?.(message);
  }

  async dial(host: string, port: number): Promise<EgressStream> {
    const target = `${host}:${port}`;
    const connection = await this.open();
    const stream = connection.create_stream(host, port);
    return new Promise<EgressStream>((resolve, reject) => {
      let settled = false;
      const bridge = new WispStream(stream, this.options.highWaterBytes, target);
      const confirm = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(bridge);
      };
      const waitMs = this.relayConfirms ? this.options.confirmTimeoutMs : this.options.firstConfirmTimeoutMs;
      const timer = setTimeout(() => {
        if (this.relayConfirms) {
          settled = true;
          stream.close(WISP_CLOSE.Voluntary);
          reject(new RelayRefusal('connect-timeout', `${target}: the relay did not connect it within ${waitMs / 1000} s`));
        } else {
          // A relay that does not confirm streams (another Wisp server): go ahead; a refusal comes as a reset.
          confirm();
        }
      }, waitMs);
      bridge.onConfirmed = () => {
        this.relayConfirms = true;
        confirm();
      };
      bridge.onEarlyClose = (reason) => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        reject(reason === WISP_CLOSE.NetworkError && !this.connection ? new RelayRefusal('relay-unreachable', `${target}: the relay at ${this.url} dropped the connection`) : refusalForCloseReason(reason, target));
        return true;
      };
    });
  }

  /** Ends the dialer: its WebSocket closes, or stops opening; the relay keeps no session for it. */
  close(): void {
    this.closed = true;
    this.abandonOpening?.();
    this.connection?.close();
    this.connection = undefined;
  }
}

/**
 * wisp-js's client, with malformed frames from the relay ending the session instead of throwing in onmessage, the
 * WebSocket's close code kept (wisp-js's onclose passes none), and a close() that stays closed: a WebSocket closed
 * while still connecting fails, and wisp-js's onerror would then open a new one to retry with Wisp v1
 * (src/client/connection.mjs connect_ws).
 */
class HardenedConnection extends wispClient.ClientConnection {
  closeCode: number | undefined;
  private ended = false;

  override connect_ws(): void {
    if (this.ended) return;
    super.connect_ws();
    // Wrapped on each socket: wisp-js opens a second one when it falls back from Wisp v2 to v1.
    const ws = this.ws;
    const onclose = ws.onclose;
    ws.onclose = (event: CloseEvent) => {
      this.closeCode = event.code;
      onclose?.call(ws, event);
    };
  }

  override close(): void {
    this.ended = true;
    super.close();
  }

  override on_ws_msg(event: MessageEvent): void {
    try {
      if (!(event.data instanceof ArrayBuffer)) throw new TypeError('text frame');
      super.on_ws_msg(event);
    } catch {
      // A relay that sends what wisp-js cannot parse is broken or not a Wisp server: drop it rather than guess.
      this.close();
    }
  }
}

class WispStream implements EgressStream {
  onConfirmed: (() => void) | undefined;
  /** Returns true when the close was consumed as a refusal before the stream was handed out. */
  onEarlyClose: ((reason: number | undefined) => boolean) | undefined;
  private dataListener: ((bytes: Uint8Array) => void) | undefined;
  private drainListener: (() => void) | undefined;
  private closeListener: ((error?: RelayRefusal) => void) | undefined;
  private closed: { error?: RelayRefusal } | undefined;
  private readonly held: Uint8Array[] = [];
  private paused = false;
  private wasHigh = false;

  constructor(
    private readonly stream: ClientStream,
    private readonly highWaterBytes: number,
    private readonly target: string,
  ) {
    const originalContinue = stream.continue_received.bind(stream);
    stream.continue_received = (remaining: number) => {
      originalContinue(remaining);
      this.onConfirmed?.();
      if (this.wasHigh && this.bufferedBytes() < this.highWaterBytes / 2) {
        this.wasHigh = false;
        this.drainListener?.();
      }
    };
    stream.onmessage = (data: Uint8Array) => {
      this.onConfirmed?.();
      // wisp-js hands out a view of the WebSocket message: it is ours, no copy needed.
      if (this.paused || !this.dataListener) this.held.push(data);
      else this.dataListener(data);
    };
    stream.onclose = (reason?: number) => {
      if (this.onEarlyClose?.(reason)) return;
      const error = reason === WISP_CLOSE.Voluntary ? undefined : refusalForCloseReason(reason, this.target);
      this.closed = error ? { error } : {};
      this.flush();
    };
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stream.send(bytes);
    if (this.bufferedBytes() > this.highWaterBytes) this.wasHigh = true;
  }

  end(): void {
    // Wisp has no half-close; the far side's close ends the stream.
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = {};
    this.stream.close(WISP_CLOSE.Voluntary);
  }

  bufferedBytes(): number {
    let bytes = 0;
    for (const chunk of this.stream.send_buffer) bytes += chunk.length;
    return bytes;
  }

  // Wisp has no flow control towards the relay: while paused, what arrives waits here, not in v86.
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  private flush(): void {
    while (!this.paused && this.dataListener && this.held.length > 0) this.dataListener(this.held.shift()!);
    // The close is reported after the data that came before it.
    if (this.closed && this.held.length === 0 && this.closeListener) {
      const error = this.closed.error;
      const listener = this.closeListener;
      this.closeListener = undefined;
      listener?.(error);
    }
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListener = listener;
    this.flush();
  }

  onDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  onClose(listener: (error?: RelayRefusal) => void): void {
    this.closeListener = listener;
    this.flush();
  }
}
