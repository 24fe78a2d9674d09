import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecResult } from '../../worker/contract.ts';
import { listeningPorts, PortWatch, type PortWatchTiming } from './port-watch.ts';
import { DOCKER_PS_COMMAND, type PublishedPort } from './published-ports.ts';

const TIMING: PortWatchTiming = { psRetryMs: 100, execTimeoutMs: 50 };
const WEB = { hostPort: 8080, containerPort: 80, container: 'web' };

describe('PortWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function guest() {
    const state = { ps: '', psExit: 0, commands: [] as string[] };
    const changes: Array<readonly PublishedPort[]> = [];
    const watch = new PortWatch(
      {
        exec: async (command): Promise<ExecResult> => {
          state.commands.push(command);
          if (command === DOCKER_PS_COMMAND) return { output: state.ps, exitCode: state.psExit };
          return { output: 'unknown', exitCode: 127 };
        },
        onChange: (ports) => changes.push(ports),
      },
      TIMING,
    );
    return { state, changes, watch };
  }

  it('reports a newly published port, asking docker ps only when the sockets change', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    // Nothing listens: nothing can be published, so no docker ps.
    watch.socketsChanged('');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    expect(state.commands).toEqual([]);

    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB]]);
    expect(state.commands).toEqual([DOCKER_PS_COMMAND]);

    // The same set again, in another order and with an IPv6 twin: no docker ps.
    watch.socketsChanged('00000000:1F90\n');
    watch.socketsChanged('00000000:1F90\n00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 5);
    expect(state.commands).toHaveLength(1);

    // The port closed: gone from the bar without asking docker ps.
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.socketsChanged('');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB], []]);
    expect(state.commands).toHaveLength(1);

    watch.socketsChanged('00000000:1F90\n');
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    await vi.advanceTimersByTimeAsync(0);
    watch.stop();
    expect(changes.at(-1)).toEqual([]);
  });

  it('asks docker ps again while a new listening port is not listed yet (container still starting)', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(state.commands).toHaveLength(2);
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(changes).toEqual([[WEB]]);
    // Explained now: no more asks.
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 5);
    expect(state.commands).toHaveLength(3);
    watch.stop();
  });

  it("never asks docker ps about the guest's own Engine API port (2375), alone or beside a container's", async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('00000000:0947\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(state.commands).toEqual([]);
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.socketsChanged('00000000:0947\n00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(changes).toEqual([[WEB]]);
    expect(state.commands).toEqual([DOCKER_PS_COMMAND]);
    watch.stop();
  });

  it('gives up on a port no container explains (a process in the VM listens) after a few asks', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    watch.socketsChanged('0100007F:0016\n');
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs * 30);
    expect(state.commands.length).toBe(9);
    expect(changes).toEqual([]);
    watch.stop();
  });

  it('asks again later when docker ps fails', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    state.psExit = 1;
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(state.commands).toHaveLength(1);
    state.psExit = 0;
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    await vi.advanceTimersByTimeAsync(TIMING.psRetryMs);
    expect(changes).toEqual([[WEB]]);
    watch.stop();
  });

  it('looks again when the sockets change while docker ps runs', async () => {
    let answer: ((result: ExecResult) => void) | undefined;
    const commands: string[] = [];
    const changes: Array<readonly PublishedPort[]> = [];
    const watch = new PortWatch(
      {
        exec: (command) => {
          commands.push(command);
          if (commands.length === 1) return new Promise((resolve) => (answer = resolve));
          return Promise.resolve({ output: 'web\t0.0.0.0:8080->80/tcp\napi\t0.0.0.0:3000->3000/tcp\n', exitCode: 0 });
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
    expect(commands).toHaveLength(1);
    answer?.({ output: 'web\t0.0.0.0:8080->80/tcp\n', exitCode: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(commands).toHaveLength(2);
    expect(changes.at(-1)).toEqual([{ hostPort: 3000, containerPort: 3000, container: 'api' }, WEB]);
    watch.stop();
  });

  it('keeps sockets that arrive before start() and looks them up then; forgets them on stop()', async () => {
    const { state, changes, watch } = guest();
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.socketsChanged('00000000:1F90\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(state.commands).toEqual([]);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[WEB]]);
    watch.stop();
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.commands).toHaveLength(1);
    watch.stop();
  });

  it('reads port numbers from /proc/net/tcp addresses', () => {
    expect([...listeningPorts('00000000000000000000000000000000:1F90\n00000000:1F90\n0100007F:0050\n')]).toEqual([8080, 80]);
  });
});
