// Exploratory A/B runs in Node (not part of npm run bench): for each setting given on the command line as
// KEY=VALUE[,KEY=VALUE...] environment assignments (e.g. TABDOCK_JIT_THRESHOLD=400000), a fresh VM from the
// boot snapshot times the first `docker run`, N warm ones and the bash loop, one setting after the other.
// Usage: npx tsx e2e/bench/node/ab.ts [--warm N] [--rounds R] [--cmd "docker run ..."] "" "TABDOCK_JIT_SYNC=1"
import { parseArgs } from 'node:util';
import { createNodeVmHost, DEFAULT_ASSET_DIR, tuningFromEnv } from '../../../worker/node/node-platform.ts';
import { guestCpuLine, guestCpuTasks, parseGuestCpuOutput } from './guest-cpu.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { warm: { type: 'string' }, rounds: { type: 'string' }, cmd: { type: 'string', multiple: true }, loop: { type: 'boolean' }, setup: { type: 'string' } },
});
const warm = Number(values.warm ?? 3);
const rounds = Number(values.rounds ?? 1);
const commands = values.cmd ?? ['docker run --rm busybox true'];
for (let round = 0; round < rounds; round++) {
  for (const setting of positionals.length ? positionals : ['']) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const pair of setting.split(',').filter(Boolean)) {
      const [key, value] = pair.split('=');
      env[key!] = value;
    }
    const host = createNodeVmHost();
    try {
      await host.boot({ assetBase: env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: 1_500_000, tuning: tuningFromEnv(env) });
      if (values.setup) await host.exec(values.setup, { timeoutMs: 600_000 });
      const row: Record<string, unknown> = { setting, round };
      for (const command of commands) {
        const runs: number[] = [];
        for (let i = 0; i <= warm; i++) {
          const started = performance.now();
          const result = await host.exec(command, { timeoutMs: 600_000 });
          if (result.exitCode !== 0) throw new Error(`${command}: ${result.output}`);
          runs.push(Math.round(performance.now() - started));
        }
        row[command] = runs;
      }
      if (values.loop) {
        const task = guestCpuTasks()[0]!;
        row['bashLoopMs'] = Math.round(parseGuestCpuOutput((await host.exec(guestCpuLine(task, 'cpu-loop'), { timeoutMs: 600_000 })).output, 'cpu-loop') / 1000);
      }
      row['jit'] = host.probe.jitStats();
      process.stdout.write(`${JSON.stringify(row)}\n`);
    } finally {
      await host.shutdown();
    }
  }
}
process.exit(0);
