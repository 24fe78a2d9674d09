import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecResult } from '../../worker/contract.ts';
import { listeningPorts, PortWatch, type PortWatchTiming } from './port-watch.ts';
import { DOCKER_PS_COMMAND, LISTENING_SOCKETS_COMMAND, type PublishedPort } from './published-ports.ts';

const TIMING: PortWatchTiming = { runningIntervalMs: 300, activeIntervalMs: 100, idleIntervalMs: 1000, activeForMs: 500, execTimeoutMs: 50 };

describe('PortWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function guest() {
    const state = { sockets: '', ps: '', visible: true, commands: [] as string[] };
    const changes: Array<readonly PublishedPort[]> = [];
    const watch = new PortWatch(
      {
        exec: async (command): Promise<ExecResult> => {
          state.commands.push(command);
          if (command === LISTENING_SOCKETS_COMMAND) return { output: state.sockets, exitCode: 0 };
          if (command === DOCKER_PS_COMMAND) return { output: state.ps, exitCode: 0 };
          return { output: 'unknown', exitCode: 127 };
        },
        onChange: (ports) => changes.push(ports),
        isVisible: () => state.visible,
      },
      TIMING,
    );
    return { state, changes, watch };
  }

  it('reports a newly published port, and runs docker ps only when the listening sockets change', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    expect(state.commands).toEqual([LISTENING_SOCKETS_COMMAND, DOCKER_PS_COMMAND]);

    state.sockets = '00000000:1F90\n';
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.poke();
    await vi.advanceTimersByTimeAsync(TIMING.activeIntervalMs);
    expect(changes).toEqual([[{ hostPort: 8080, containerPort: 80, container: 'web' }]]);

    state.commands.length = 0;
    await vi.advanceTimersByTimeAsync(TIMING.activeIntervalMs * 3);
    expect(state.commands.every((c) => c === LISTENING_SOCKETS_COMMAND)).toBe(true);
    expect(state.commands.length).toBeGreaterThanOrEqual(2);
    watch.stop();
    expect(changes.at(-1)).toEqual([]);
  });

  it('asks docker ps again while a new listening port is not yet listed (container still starting)', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    state.sockets = '00000000:1F90\n';
    watch.poke();
    await vi.advanceTimersByTimeAsync(TIMING.activeIntervalMs);
    expect(changes).toEqual([]);
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    await vi.advanceTimersByTimeAsync(TIMING.activeIntervalMs);
    expect(changes).toEqual([[{ hostPort: 8080, containerPort: 80, container: 'web' }]]);
    watch.stop();
  });

  it('polls sparingly while a command runs and at once when it finishes', async () => {
    const { state, changes, watch } = guest();
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    state.commands.length = 0;

    watch.commandStarted();
    await vi.advanceTimersByTimeAsync(TIMING.runningIntervalMs - 1);
    expect(state.commands).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.commands).toEqual([LISTENING_SOCKETS_COMMAND]);
    await vi.advanceTimersByTimeAsync(TIMING.runningIntervalMs - 1);
    expect(state.commands).toHaveLength(1);

    state.sockets = '00000000:1F90\n';
    state.ps = 'web\t0.0.0.0:8080->80/tcp\n';
    watch.commandFinished();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([[{ hostPort: 8080, containerPort: 80, container: 'web' }]]);
    // Then the active interval again, until activeForMs has passed.
    state.commands.length = 0;
    await vi.advanceTimersByTimeAsync(TIMING.activeIntervalMs * 2);
    expect(state.commands).toHaveLength(2);
    watch.stop();
  });

  it('looks again when the command finishes while a poll is in flight', async () => {
    let answer: ((result: ExecResult) => void) | undefined;
    const commands: string[] = [];
    const watch = new PortWatch(
      {
        exec: (command) => {
          commands.push(command);
          if (command === LISTENING_SOCKETS_COMMAND && commands.length === 1) return new Promise((resolve) => (answer = resolve));
          return Promise.resolve({ output: '', exitCode: 0 });
        },
        onChange: () => undefined,
        isVisible: () => true,
      },
      TIMING,
    );
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(commands).toEqual([LISTENING_SOCKETS_COMMAND]);
    watch.commandFinished();
    answer?.({ output: '', exitCode: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(commands.filter((c) => c === LISTENING_SOCKETS_COMMAND)).toHaveLength(2);
    watch.stop();
  });

  it('reads port numbers from /proc/net/tcp addresses', () => {
    expect([...listeningPorts('00000000000000000000000000000000:1F90\n00000000:1F90\n0100007F:0050\n')]).toEqual([8080, 80]);
  });

  it('polls rarely when idle and not at all while the tab is hidden', async () => {
    const { state, watch } = guest();
    state.visible = false;
    watch.start();
    await vi.advanceTimersByTimeAsync(TIMING.idleIntervalMs * 3);
    expect(state.commands).toEqual([]);
    state.visible = true;
    await vi.advanceTimersByTimeAsync(TIMING.idleIntervalMs);
    const afterOne = state.commands.length;
    expect(afterOne).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(TIMING.idleIntervalMs / 2);
    expect(state.commands.length).toBe(afterOne);
    watch.stop();
  });
});
