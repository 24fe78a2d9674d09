// The relay's way out on Node: resolve a name once, check every address against the policy, connect to the
// address that passed (so a second, different DNS answer can never be dialled: no rebinding), with a connect
// timeout, an idle timeout and the client's byte budget. Used by the Wisp relay server and, as an EgressDialer,
// by the Node harness (`npm run vm`), which relays the guest's TCP itself without a WebSocket.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { EgressDialer, EgressStream } from '../../shared/egress-dialer.ts';
import { withDeadline } from '../../shared/deadline.ts';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { ClientLedger } from '../client-ledger.ts';
import { DEFAULT_RELAY_POLICY, pickAddress, planDial, type RelayPolicyConfig } from '../relay-policy.ts';

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

export interface DialContext {
  policy: RelayPolicyConfig;
  ledger: ClientLedger;
  /** Who the bytes and streams are counted for (the WebSocket peer's address; "local" in the harness). */
  client: string;
  resolve?: Resolver;
}

export interface DialedSocket {
  socket: net.Socket;
  /** The address actually connected to. */
  address: string;
  /** Counts relayed bytes against the client's budget; throws RelayRefusal('byte-limit') when spent. */
  count(bytes: number): void;
}

/** Connects as the policy allows, or rejects with a RelayRefusal that says why. */
export async function dialChecked(host: string, port: number, context: DialContext): Promise<DialedSocket> {
  const { policy, ledger, client } = context;
  const plan = planDial(host, port, policy);
  const release = ledger.openStream(client);
  const deadline = Date.now() + policy.connectTimeoutMs;
  // Set while a lookup this dial gave up on still runs: the stream slot is held until it ends (#24 item 10).
  let lookupRunning: Promise<void> | undefined;
  try {
    let address: string;
    if (plan.kind === 'loopback') {
      address = plan.address;
    } else {
      let addresses: string[];
      if (net.isIP(plan.host)) {
        addresses = [plan.host];
      } else {
        const endLookup = ledger.startLookup();
        const lookup = Promise.resolve().then(() => (context.resolve ?? systemResolver)(plan.host));
        const settled = lookup.then(endLookup, endLookup);
        try {
          addresses = await withDeadline(lookup, deadline - Date.now(), () => {
            lookupRunning = settled;
            return new RelayRefusal('connect-timeout', `resolving ${plan.host} took too long`);
          });
        } catch (error) {
          if (error instanceof RelayRefusal) throw error;
          throw new RelayRefusal('not-resolved', `${plan.host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        }
      }
      address = pickAddress(plan.host, addresses);
    }
    const socket = await connectWithin(address, plan.port, deadline);
    socket.setNoDelay(true);
    socket.setTimeout(policy.idleTimeoutMs, () => socket.destroy(new RelayRefusal('idle-timeout', `idle for ${policy.idleTimeoutMs / 1000} s`)));
    socket.once('close', release);
    return { socket, address, count: (bytes) => ledger.checkBytes(client, bytes) };
  } catch (error) {
    if (lookupRunning) void lookupRunning.then(release);
    else release();
    throw error;
  }
}

function connectWithin(address: string, port: number, deadline: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RelayRefusal('connect-timeout', `${address}:${port} did not answer within ${Math.round((deadline - Date.now()) / 1000 + 0.5)} s`));
    }, Math.max(0, deadline - Date.now()));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        error.code === 'ECONNREFUSED'
          ? new RelayRefusal('connect-refused', `${address}:${port} refused the connection`)
          : new RelayRefusal('connect-failed', `${address}:${port}: ${error.code ?? error.message}`),
      );
    });
  });
}

/** A dialled socket as an EgressStream: pause/resume are the socket's, so back-pressure reaches the far end. */
export function egressStreamFromSocket(dialed: DialedSocket): EgressStream {
  const { socket } = dialed;
  let dataListener: ((bytes: Uint8Array) => void) | undefined;
  let drainListener: (() => void) | undefined;
  let closeListener: ((error?: RelayRefusal) => void) | undefined;
  let closeError: RelayRefusal | undefined;
  let closed = false;
  let wantPaused = false;
  const early: Uint8Array[] = [];
  const fail = (error: unknown) => {
    closeError ??= toRelayRefusal(error);
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      dialed.count(chunk.length);
    } catch (error) {
      fail(error);
      return;
    }
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (dataListener) dataListener(bytes);
    else early.push(bytes);
  });
  // Until someone listens, hold the data in the kernel rather than here.
  socket.pause();
  socket.on('drain', () => drainListener?.());
  socket.on('error', (error) => {
    closeError ??= toRelayRefusal(error);
  });
  socket.on('close', () => {
    closed = true;
    closeListener?.(closeError);
  });
  return {
    write(bytes) {
      if (closed || socket.destroyed) return;
      try {
        dialed.count(bytes.length);
      } catch (error) {
        fail(error);
        return;
      }
      socket.write(bytes);
    },
    end() {
      if (!socket.destroyed) socket.end();
    },
    destroy() {
      socket.destroy();
    },
    bufferedBytes: () => socket.writableLength,
    pause() {
      wantPaused = true;
      socket.pause();
    },
    resume() {
      wantPaused = false;
      if (dataListener) socket.resume();
    },
    onData(listener) {
      dataListener = listener;
      for (const bytes of early.splice(0)) listener(bytes);
      if (!wantPaused) socket.resume();
    },
    onDrain(listener) {
      drainListener = listener;
    },
    onClose(listener) {
      closeListener = listener;
      if (closed) listener(closeError);
    },
  };
}

function toRelayRefusal(error: unknown): RelayRefusal {
  if (error instanceof RelayRefusal) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  return new RelayRefusal('connect-failed', code === 'ECONNRESET' ? 'the connection was reset by the far end' : String((error as Error)?.message ?? error));
}

export interface NodeTcpDialerOptions {
  policy?: Partial<RelayPolicyConfig>;
  resolve?: Resolver;
}

/** The Node harness's relay: the same policy as the Wisp relay, in this process, with no WebSocket between. */
export class NodeTcpDialer implements EgressDialer {
  readonly description = 'the relay in this Node process';
  private readonly context: DialContext;

  constructor(options: NodeTcpDialerOptions = {}) {
    const policy = { ...DEFAULT_RELAY_POLICY, ...options.policy };
    this.context = { policy, ledger: new ClientLedger(policy), client: 'local', ...(options.resolve ? { resolve: options.resolve } : {}) };
  }

  state(): 'open' {
    return 'open';
  }

  async dial(host: string, port: number): Promise<EgressStream> {
    try {
      return egressStreamFromSocket(await dialChecked(host, port, this.context));
    } catch (error) {
      throw toRelayRefusal(error);
    }
  }

  close(): void {}
}
