// Per-container latency: `docker run --rm busybox true`, timed from the host around the agent call, five times.
import type { BenchSection } from './section.ts';
import { median, roundMs } from './section.ts';

const RUNS = 5;

export const dockerRunSection: BenchSection = {
  name: 'dockerRun',
  async run({ host, log }) {
    const cliMs: number[] = [];
    // The agent's own overhead (fork a bash, base64 both ways) is measured first so it can be told apart.
    const agentStartedMs = performance.now();
    await host.exec('true', { timeoutMs: 60_000 });
    const agentRoundTripMs = roundMs(performance.now() - agentStartedMs);
    const versionStartedMs = performance.now();
    await host.exec('docker version >/dev/null', { timeoutMs: 120_000 });
    const dockerVersionMs = roundMs(performance.now() - versionStartedMs);
    for (let i = 0; i < RUNS; i++) {
      const startedMs = performance.now();
      const result = await host.exec('docker run --rm busybox true', { timeoutMs: 180_000 });
      if (result.exitCode !== 0) throw new Error(`docker run failed (${result.exitCode}): ${result.output}`);
      cliMs.push(roundMs(performance.now() - startedMs));
      log(`docker run --rm busybox true #${i + 1}: ${cliMs.at(-1)} ms`);
    }
    return {
      command: 'docker run --rm busybox true',
      agentRoundTripMs,
      dockerVersionMs,
      runsMs: cliMs,
      medianMs: median(cliMs),
    };
  },
};
