// Port preview, worker side: opens a TCP connection into a guest port with v86's network adapter (its
// fake_tcp_connect: SYN from the router address 192.168.86.1 to the guest's DHCP address), sends one HTTP/1.1
// request and streams the response back. A refused connection (RST) means nothing listens on that port.
import type { GuestHttpErrorCode, GuestHttpRequest } from '../../shared/contract.ts';
import { guestSocketFromV86, type GuestSocket, type V86TcpConnection } from './guest-socket.ts';
import { splitFinWithData, type V86ProcessingConnection } from './v86-fin-with-data.ts';
import { withSynMss, type FrameSink } from './v86-syn-mss.ts';
import { formatRequestHead, Http1ResponseParser, type ResponseEvent, type ResponseHead } from './http1-response.ts';

/** The slice of v86's FetchNetworkAdapter the client needs (src/browser/fetch_network.js, `connect`). */
export interface GuestDialer extends FrameSink {
  connect(port: number): V86TcpConnection;
}

export class GuestHttpError extends Error {
  constructor(
    readonly code: GuestHttpErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'GuestHttpError';
  }
}

export interface GuestHttpResponse {
  head: ResponseHead;
  /** Errors with a GuestHttpError when the response is cut short; cancelling it closes the connection. */
  body: ReadableStream<Uint8Array>;
}

export interface GuestFetchOptions {
  /** No SYN-ACK and no RST by then: the guest is not answering (busy, or its network is down). */
  connectTimeoutMs?: number;
  /**
   * SYNs to send before giving up on a silent guest. v86's TCP never retransmits a SYN, and right after a snapshot
   * restore a first one went unanswered for 15 s while the next got through at once.
   */
  connectAttempts?: number;
  /** Connected, but no response head by then. */
  headTimeoutMs?: number;
  /** No body bytes for this long in the middle of a response; 0 waits forever (a long-lived stream such as /events). */
  idleTimeoutMs?: number;
}

/**
 * The port preview's defaults: a silent first SYN is sent again after 5 s, four times in all (20 s), rather than
 * one 15 s wait that ended in an error page while a second SYN would have been answered at once.
 */
export const DEFAULT_GUEST_FETCH: Required<GuestFetchOptions> = { connectTimeoutMs: 5_000, connectAttempts: 4, headTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
const DEFAULTS = DEFAULT_GUEST_FETCH;

export async function guestFetch(dialer: GuestDialer, request: GuestHttpRequest, options: GuestFetchOptions = {}): Promise<GuestHttpResponse> {
  const limits = { ...DEFAULTS, ...options };
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
    throw new GuestHttpError('bad-request', `${request.port} is not a TCP port number (1-65535).`);
  }
  let head: Uint8Array;
  try {
    head = formatRequestHead({
      method: request.method,
      target: request.target,
      host: `localhost:${request.port}`,
      headers: request.headers,
      ...(request.body ? { body: new Uint8Array(request.body) } : {}),
    });
  } catch (error) {
    throw new GuestHttpError('bad-request', 'This request cannot be sent to the container.', error instanceof Error ? error.message : String(error));
  }
  const socket = await dialWithRetries(dialer, request.port, limits.connectTimeoutMs, limits.connectAttempts);
  socket.write(head);
  if (request.body && request.body.byteLength > 0) socket.write(new Uint8Array(request.body));
  return readResponse(socket, request, limits);
}

/** dialGuestPort again after a silent attempt (never after a refusal: nothing listens then). */
export async function dialWithRetries(dialer: GuestDialer, port: number, timeoutMs: number, attempts: number): Promise<GuestSocket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialGuestPort(dialer, port, timeoutMs);
    } catch (error) {
      if (!(error instanceof GuestHttpError) || error.code !== 'timeout' || attempt >= attempts) throw error;
    }
  }
}

/** Opens a TCP connection into a guest port; rejects with 'not-listening' on RST and 'timeout' on silence. */
export function dialGuestPort(dialer: GuestDialer, port: number, timeoutMs: number): Promise<GuestSocket> {
  return new Promise((resolve, reject) => {
    let conn: V86TcpConnection;
    try {
      conn = withSynMss(dialer, () => dialer.connect(port));
    } catch (error) {
      // v86 throws only when its pool of local port numbers is exhausted.
      reject(new GuestHttpError('timeout', 'The VM has too many open preview connections; wait a moment and reload.', String(error)));
      return;
    }
    splitFinWithData(conn as V86TcpConnection & V86ProcessingConnection);
    const timer = setTimeout(() => {
      conn.close();
      reject(
        new GuestHttpError(
          'timeout',
          `The VM did not answer a connection to port ${port} within ${Math.round(timeoutMs / 1000)} s. It may be busy (a docker pull or build); reload in a moment.`,
        ),
      );
    }, timeoutMs);
    conn.on('connect', () => {
      clearTimeout(timer);
      // Wrapped at once: the wrapper takes over v86's single data/close handlers before any byte can arrive.
      resolve(guestSocketFromV86(conn));
    });
    conn.on('close', () => {
      clearTimeout(timer);
      reject(
        new GuestHttpError(
          'not-listening',
          `Nothing in the VM is listening on port ${port}. Start a container that publishes it, e.g. \`docker run -d -p ${port}:80 tabdock/httpd\`, or check that the server in the container is running (\`docker ps\`, \`docker logs\`).`,
          `the guest refused the TCP connection to port ${port} (RST)`,
        ),
      );
    });
  });
}

function readResponse(socket: GuestSocket, request: GuestHttpRequest, limits: Required<GuestFetchOptions>): Promise<GuestHttpResponse> {
  const parser = new Http1ResponseParser({ requestMethod: request.method });
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let finished = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      finished = true;
      clearTimeout(idleTimer);
      socket.close();
    },
  });

  return new Promise<GuestHttpResponse>((resolve, reject) => {
    const headTimer = setTimeout(() => {
      finish();
      reject(
        new GuestHttpError(
          'timeout',
          `The server on port ${request.port} accepted the connection but sent no response within ${Math.round(limits.headTimeoutMs / 1000)} s.`,
        ),
      );
    }, limits.headTimeoutMs);
    const finish = () => {
      finished = true;
      clearTimeout(headTimer);
      clearTimeout(idleTimer);
      socket.close();
    };
    const armIdle = () => {
      clearTimeout(idleTimer);
      if (limits.idleTimeoutMs === 0) return;
      idleTimer = setTimeout(() => {
        if (finished) return;
        finish();
        controller?.error(new GuestHttpError('timeout', `The server on port ${request.port} stopped sending in the middle of the response.`));
      }, limits.idleTimeoutMs);
    };
    const handle = (events: ResponseEvent[]) => {
      for (const event of events) {
        if (finished) return;
        switch (event.type) {
          case 'head':
            clearTimeout(headTimer);
            armIdle();
            resolve({ head: event.head, body });
            break;
          case 'data':
            armIdle();
            controller?.enqueue(event.bytes);
            break;
          case 'end':
            finish();
            controller?.close();
            break;
          case 'error': {
            const sawHead = parser.sawHead;
            finish();
            const error = new GuestHttpError(
              'bad-response',
              sawHead
                ? `The server on port ${request.port} cut its response short.`
                : `The server on port ${request.port} did not send an HTTP response. Port preview speaks plain HTTP/1.1 to the container.`,
              event.message,
            );
            if (sawHead) controller?.error(error);
            else reject(error);
            break;
          }
          default: {
            const unreachable: never = event;
            throw new Error(`unknown response event ${JSON.stringify(unreachable)}`);
          }
        }
      }
    };
    socket.onData((bytes) => handle(parser.push(bytes)));
    socket.onEnd(() => handle(parser.end()));
    socket.onClose(() => handle(parser.end()));
  });
}
