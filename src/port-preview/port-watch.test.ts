import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listeningPorts, PortWatch, type PortWatchTiming } from './port-watch.ts';
import type { PublishedPort } from './published-ports.ts';

const TIMING: PortWatchTiming = { psRetryMs: 100 };
const WEB = { hostPort: 8080, containerPort: 80, container: 'web' };
const API = { hostPort: 3000, containerPort: 3000, container: 'api' };

describe('PortWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function guest() {
    // The daemon's container list as the fake answers it, whether it answers, and how often it was asked.
    const state = { ports: [] as PublishedPort[], fails: false, asks: 0 };
    const changes: Array<readonly PublishedPort[]> = [];
    const watch = new PortWatch(
      {
        publishedPorts: async () => {
          state.asks++;
          if (state.fails) throw new Error('the daemon did not answer');
          return state.ports;
        },
        onChange: (ports) => changes.push(ports),
      },
      TIMING,
    );
    return { state, changes, watch };
  }

  it('reports a newly published port, asking the daemon only when the sockets change', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    // Nothing listens: nothing can be published, so nothing to ask.
    watch.socketsChanged('');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    expect(state.asks).toBe(0);

    state.ports = [WEB];
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB]]);
    expect(state.asks).toBe(1);

    // The same set again, in another order and with an IPv6 twin: not asked again.
    watch.socketsChanged('00000000:1F90\n');
    watch.socketsChanged('00000000:1F90\n00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 5);
    expect(state.asks).toBe(1);

    // The port closed: gone from the bar without asking.
    state.ports = [WEB];
    watch.socketsChanged('');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB], []]);
    expect(state.asks).toBe(1);

    watch.socketsChanged('00000000:1F90\n');
    state.ports = [WEB];
    await vi.advanceTimersByTimeAsync(0);
    watch.stop();
    expect(changes.at(-1)).toEqual([]);
  });

  it('asks again while a new listening port is not listed yet (container still starting)', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(state.asks).toBe(2);
    state.ports = [WEB];
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(changes).toEqual([[WEB]]);
    // Explained now: no more asks.
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 5);
    expect(state.asks).toBe(3);
    watch.stop();
  });

  it("never asks about the guest's own Engine API port (2375), alone or beside a container's", async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('00000000:0947\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(state.asks).toBe(0);
    state.ports = [WEB];
    watch.socketsChanged('00000000:0947\n00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(changes).toEqual([[WEB]]);
    expect(state.asks).toBe(1);
    watch.stop();
  });

  it('gives up on a port no container explains (a process in the VM listens) after a few asks', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('0100007F:0016\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(state.asks).toBe(9);
    expect(changes).toEqual([]);
    watch.stop();
  });

  it('asks again later when the daemon does not answer', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    state.fails = true;
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(state.asks).toBe(1);
    state.fails = false;
    state.ports = [WEB];
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(changes).toEqual([[WEB]]);
    watch.stop();
  });

  it('looks again when the sockets change while the container list is read', async () => {
    let answer: ((ports: PublishedPort[]) => void) | undefined;
    let asks = 0;
    const changes: Array<readonly PublishedPort[]> = [];
    const watch = new PortWatch(
      {
        publishedPorts: () => {
          asks++;
          if (asks === 1) return new Promise((resolve) => (answer = resolve));
          return Promise.resolve([API, WEB]);
        },
        onChange: (ports) => changes.push(ports),
      },
      TIMING,
    );
    watch.start();
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    watch.socketsChanged('00000000:1F90\n00000000:0BB8\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(asks).toBe(1);
    answer?.([WEB]);
    await vi.advanceTimersByTimeAsync(0);
    expect(asks).toBe(2);
    expect(changes.at(-1)).toEqual([API, WEB]);
    watch.stop();
  });

  it('keeps sockets that arrive before start() and looks them up then; forgets them on stop()', async () => {
    const { state, changes, watch } = guest();
    state.ports = [WEB];
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(state.asks).toBe(0);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB]]);
    watch.stop();
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.asks).toBe(1);
    watch.stop();
  });

  it('reads port numbers from /proc/net/tcp addresses', () => {
    expect([...listeningPorts('00000000000000000000000000000000:1F90\n00000000:1F90\n0100007F:0050\n')]).toEqual([8080, 80]);
  });
});
