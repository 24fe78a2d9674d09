// The seam between the guest's TCP connections (worker/vm/net/egress.ts) and whatever carries them out: a Wisp relay
// over one WebSocket in the browser (worker/vm/net/wisp-dialer.ts), node:net in the Node harness
// (worker/proxy/node/tcp-dialer.ts). Both apply the relay policy on the far side; the VM worker only learns
// "connected" or a refusal with a reason.
import type { RelayRefusal } from './relay-refusal.ts';

/** One relayed TCP stream. Listeners are single: setting one replaces the previous. */
export interface EgressStream {
  write(bytes: Uint8Array): void;
  /** The guest will send nothing more (its FIN). A Wisp stream cannot half-close and ignores this. */
  end(): void;
  /** Closes both directions now. */
  destroy(): void;
  /** Bytes written but not yet passed on (upload back-pressure). */
  bufferedBytes(): number;
  /** Stop / restart delivering data (download back-pressure). */
  pause(): void;
  resume(): void;
  onData(listener: (bytes: Uint8Array) => void): void;
  /** Called once buffered writes drained below the low-water mark after bufferedBytes() was high. */
  onDrain(listener: () => void): void;
  /** The far side closed: cleanly (no error) or not (a refusal that came after the stream opened, a reset). */
  onClose(listener: (error?: RelayRefusal) => void): void;
}

/** 'down': the relay could not be reached lately; the guest's names then resolve to the shim as before. */
export type EgressState = 'connecting' | 'open' | 'down';

export interface EgressDialer {
  /** Resolves once the far side connected (or, for a relay that never confirms, once the stream exists). */
  dial(host: string, port: number): Promise<EgressStream>;
  state(): EgressState;
  /** Where the relay is, for messages (a URL, or "this Node process"). */
  readonly description: string;
  close(): void;
}
