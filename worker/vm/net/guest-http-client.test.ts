import { describe, expect, it, vi } from 'vitest';
import type { GuestHttpMessage, GuestHttpRequest } from '../../shared/contract.ts';
import { DEFAULT_GUEST_FETCH, GuestHttpError, guestFetch, type GuestDialer } from './guest-http-client.ts';
import { answerOnPort } from './guest-http-port.ts';
import type { V86TcpConnection } from './guest-socket.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** v86's TCPConnection as seen from JS: one handler per event, and the test plays the guest. */
class FakeConnection implements V86TcpConnection {
  sport = 49152;
  state = 'syn-sent';
  readonly written: Uint8Array[] = [];
  closedByClient = false;
  /** The guest's answer, played once the whole request head has been written. */
  respond: ((conn: FakeConnection) => void) | undefined;
  private readonly handlers = new Map<string, (arg?: Uint8Array) => void>();
  on(event: 'data', handler: (bytes: Uint8Array) => void): void;
  on(event: 'shutdown' | 'close' | 'connect', handler: () => void): void;
  on(event: string, handler: ((bytes: Uint8Array) => void) | (() => void)): void {
    this.handlers.set(event, handler as (arg?: Uint8Array) => void);
  }
  accept(): void {}
  write(bytes: Uint8Array): void {
    this.written.push(bytes.slice());
    const respond = this.respond;
    this.respond = undefined;
    if (respond) setTimeout(() => respond(this), 0);
  }
  close(): void {
    this.closedByClient = true;
  }
  // The guest's side.
  synAck(): void {
    this.state = 'established';
    this.handlers.get('connect')?.();
  }
  reset(): void {
    this.state = 'closed';
    this.handlers.get('close')?.();
  }
  send(text: string): void {
    this.handlers.get('data')?.(enc(text));
  }
  fin(): void {
    this.handlers.get('shutdown')?.();
  }
  get request(): string {
    return this.written.map(dec).join('');
  }
}

function dialer(onConnect: (conn: FakeConnection) => void): GuestDialer & { last?: FakeConnection; port?: number } {
  const d: GuestDialer & { last?: FakeConnection; port?: number } = {
    connect(port) {
      const conn = new FakeConnection();
      d.last = conn;
      d.port = port;
      queueMicrotask(() => onConnect(conn));
      return conn;
    },
  };
  return d;
}

const GET: GuestHttpRequest = { port: 8080, method: 'GET', target: '/index.html', headers: [['accept', 'text/html']] };

/** A guest whose first SYN goes unanswered (as v86's can) and which answers 204 on the next one. */
function silentThenAnswers(): ReturnType<typeof dialer> & { dials(): number } {
  let dials = 0;
  const d = dialer((conn) => {
    dials++;
    if (dials === 1) return;
    conn.respond = () => conn.send('HTTP/1.1 204 No Content\r\n\r\n');
    conn.synAck();
  });
  return Object.assign(d, { dials: () => dials });
}

describe('guestFetch', () => {
  it('sends the request into the guest port and streams a chunked response back', async () => {
    const d = dialer((conn) => {
      conn.respond = () => {
        conn.send('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<h1>x');
        conn.send('\r\n5\r\n</h1>\r\n0\r\n\r\n');
      };
      conn.synAck();
    });
    const response = await guestFetch(d, GET);
    expect(d.port).toBe(8080);
    expect(d.last?.request).toBe('GET /index.html HTTP/1.1\r\nhost: localhost:8080\r\naccept: text/html\r\nconnection: close\r\n\r\n');
    expect(response.head.status).toBe(200);
    expect(response.head.headers).toContainEqual(['content-type', 'text/html']);
    expect(await new Response(response.body).text()).toBe('<h1>x</h1>');
    expect(d.last?.closedByClient).toBe(true);
  });

  it('sends a request body after the head', async () => {
    const d = dialer((conn) => {
      conn.respond = () => conn.send('HTTP/1.1 204 No Content\r\n\r\n');
      conn.synAck();
    });
    const body = enc('a=1').buffer as ArrayBuffer;
    const response = await guestFetch(d, { port: 3000, method: 'POST', target: '/form', headers: [], body });
    expect(d.last?.request).toMatch(/^POST \/form HTTP\/1\.1\r\n[\s\S]*content-length: 3\r\n[\s\S]*\r\n\r\na=1$/);
    expect(response.head.status).toBe(204);
  });

  it('reads a body that ends when the guest closes the connection', async () => {
    const d = dialer((conn) => {
      conn.respond = () => {
        conn.send('HTTP/1.0 200 OK\r\n\r\nall of it');
        conn.fin();
      };
      conn.synAck();
    });
    const response = await guestFetch(d, GET);
    expect(await new Response(response.body).text()).toBe('all of it');
  });

  it('says nothing is listening when the guest refuses the connection', async () => {
    const failure = await guestFetch(dialer((conn) => conn.reset()), GET).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GuestHttpError);
    expect(failure).toMatchObject({ code: 'not-listening' });
    expect((failure as Error).message).toMatch(/^Nothing in the VM is listening on port 8080\. Start a container/);
  });

  it('times out when the guest never answers the connection, and drops it', async () => {
    const d = dialer(() => undefined);
    const failure = await guestFetch(d, GET, { connectTimeoutMs: 20 }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'timeout' });
    expect(d.last?.closedByClient).toBe(true);
  });

  it('sends another SYN after a silent one by default (v86 never retransmits one), within the default limits', async () => {
    vi.useFakeTimers();
    try {
      const answersSecond = silentThenAnswers();
      const pending = guestFetch(answersSecond, GET);
      await vi.advanceTimersByTimeAsync(DEFAULT_GUEST_FETCH.connectTimeoutMs + 100);
      expect((await pending).head.status).toBe(204);
      expect(answersSecond.dials()).toBe(2);
      expect(DEFAULT_GUEST_FETCH.connectAttempts * DEFAULT_GUEST_FETCH.connectTimeoutMs).toBeLessThanOrEqual(20_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends another SYN after a silent one when asked to, but never after a refusal', async () => {
    const answersSecond = silentThenAnswers();
    const response = await guestFetch(answersSecond, GET, { connectTimeoutMs: 20, connectAttempts: 3 });
    expect(response.head.status).toBe(204);
    expect(answersSecond.dials()).toBe(2);
    let refusals = 0;
    const refuses = dialer((conn) => {
      refusals++;
      conn.reset();
    });
    await expect(guestFetch(refuses, GET, { connectTimeoutMs: 20, connectAttempts: 3 })).rejects.toMatchObject({ code: 'not-listening' });
    expect(refusals).toBe(1);
  });

  it('times out when the server accepts but sends no response head', async () => {
    const d = dialer((conn) => conn.synAck());
    const failure = await guestFetch(d, GET, { headTimeoutMs: 20 }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'timeout' });
    expect((failure as Error).message).toMatch(/accepted the connection but sent no response/);
    expect(d.last?.closedByClient).toBe(true);
  });

  it('reports a port that does not speak HTTP', async () => {
    const failure = await guestFetch(
      dialer((conn) => {
        conn.respond = () => conn.send('SSH-2.0-OpenSSH_9.2\r\n');
        conn.synAck();
      }),
      GET,
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'bad-response', detail: expect.stringMatching(/did not answer with HTTP/) });
  });

  it('errors the body stream when the response is cut short', async () => {
    const response = await guestFetch(
      dialer((conn) => {
        conn.respond = () => {
          conn.send('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
          setTimeout(() => conn.reset(), 1);
        };
        conn.synAck();
      }),
      GET,
    );
    await expect(new Response(response.body).text()).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('refuses a path that would break the request line, before connecting', async () => {
    const d = dialer(() => undefined);
    const failure = await guestFetch(d, { ...GET, target: '/a b' }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'bad-request' });
    expect(d.last).toBeUndefined();
  });
});

describe('answerOnPort', () => {
  function collect(port: MessagePort): Promise<GuestHttpMessage[]> {
    const messages: GuestHttpMessage[] = [];
    return new Promise((resolve) => {
      port.onmessage = (event: MessageEvent<GuestHttpMessage>) => {
        messages.push(event.data);
        if (event.data.type === 'end' || event.data.type === 'error') {
          port.close();
          resolve(messages);
        }
      };
    });
  }

  it('posts head, data and end in order', async () => {
    const channel = new MessageChannel();
    const received = collect(channel.port1);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc('ab'));
        c.enqueue(enc('cd').subarray(1));
        c.close();
      },
    });
    await answerOnPort(Promise.resolve({ head: { status: 200, statusText: 'OK', headers: [['x', '1']] }, body }), channel.port2);
    const messages = await received;
    expect(messages.map((m) => m.type)).toEqual(['head', 'data', 'data', 'end']);
    expect(messages[0]).toEqual({ type: 'head', status: 200, statusText: 'OK', headers: [['x', '1']] });
    expect(messages.flatMap((m) => (m.type === 'data' ? [dec(m.bytes)] : [])).join('')).toBe('abd');
  });

  it('turns a failed request into one error message', async () => {
    const channel = new MessageChannel();
    const received = collect(channel.port1);
    await answerOnPort(Promise.reject(new GuestHttpError('not-listening', 'Nothing in the VM is listening on port 9.')), channel.port2);
    expect(await received).toEqual([{ type: 'error', code: 'not-listening', message: 'Nothing in the VM is listening on port 9.' }]);
  });

  it('cancels the guest response when the reader says so', async () => {
    const channel = new MessageChannel();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => undefined),
      cancel: () => {
        cancelled = true;
      },
    });
    channel.port1.onmessage = (event: MessageEvent<GuestHttpMessage>) => {
      if (event.data.type === 'head') channel.port1.postMessage({ type: 'cancel' });
    };
    await answerOnPort(Promise.resolve({ head: { status: 200, statusText: 'OK', headers: [] }, body }), channel.port2);
    channel.port1.close();
    expect(cancelled).toBe(true);
  });
});
