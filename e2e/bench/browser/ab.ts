// Exploratory A/B runs in Chromium (not part of npm run bench): for each page query given on the command line,
// a fresh browser profile opens the page, waits for the prompt, and times the first `docker run`, N warm ones
// and the bash loop. Usage: npx tsx e2e/bench/browser/ab.ts [--warm N] [--rounds R] [--loop] [--cmd "docker run ..."]...
// "" "yield=channel" ...
// A setting may carry extra Chromium switches after a `|`: "yield=channel|--enable-crash-reporter-for-testing".
// --trace runs the first `docker run --rm busybox true` under tabdock-proctrace instead (by process, guest idle).
// --think MS waits that long after the prompt before the first command, as a person reading it would;
// --prelude "CMD" types CMD at the prompt before that wait; --throttle LATENCY_MS,BYTES_PER_S emulates a network link.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../../../playwright.config.ts';
import { guestCpuLine, guestCpuTasks, parseGuestCpuOutput } from '../node/guest-cpu.ts';
import { tracedRun } from './container-start.ts';
import { profileThreadCpu, threadCpuDelta } from './renderer-threads.ts';
import { PROMPT, runTimed, typeAndWait, visibleLines, vmDiagnostics, waitFor } from './page-driver.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { warm: { type: 'string' }, rounds: { type: 'string' }, 'no-build': { type: 'boolean' }, loop: { type: 'boolean' }, trace: { type: 'boolean' }, think: { type: 'string' }, prelude: { type: 'string' }, throttle: { type: 'string' }, cmd: { type: 'string', multiple: true } } });
const commands = values.cmd ?? ['docker run --rm busybox true'];
const warm = Number(values.warm ?? 3);
const rounds = Number(values.rounds ?? 1);
const port = Number(process.env.TABDOCK_BENCH_PORT ?? 4175);
if (!values['no-build']) await build({ logLevel: 'warn' });
const server = await preview({ logLevel: 'warn', preview: { port, strictPort: true } });
const results: Record<string, unknown>[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const setting of positionals.length ? positionals : ['']) {
      const [query = '', ...extraArgs] = setting.split('|');
      const profileDir = await mkdtemp(path.join(tmpdir(), 'tabdock-ab-'));
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_EXECUTABLE,
        args: [...CHROMIUM_ARGS, ...extraArgs],
        viewport: { width: 1280, height: 800 },
      });
      try {
        const page = await context.newPage();
        if (values.throttle) {
          // --throttle LATENCY_MS,BYTES_PER_S: DevTools' network emulation for the page and its workers, to see
          // what the disk's HTTP reads cost on a real link rather than on localhost.
          const [latency, throughput] = values.throttle.split(',').map(Number);
          const cdp = await context.newCDPSession(page);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: latency!, downloadThroughput: throughput!, uploadThroughput: throughput! });
        }
        const started = performance.now();
        await page.goto(`http://localhost:${port}/${query ? `?${query}` : ''}`);
        await waitFor('prompt', 600_000, async () => (await visibleLines(page)).some((line) => PROMPT.test(line)));
        const promptMs = Math.round(performance.now() - started);
        const row: Record<string, unknown> = { setting, round, promptMs };
        // --prelude: a command line typed at once (e.g. a background warm-up), before --think's wait.
        if (values.prelude) await typeAndWait(page, values.prelude, PROMPT, 600_000);
        // A person reads the prompt before typing: --think waits this long first (background work may finish).
        if (values.think) await new Promise((resolve) => setTimeout(resolve, Number(values.think)));
        if (values.trace) {
          const before = await vmDiagnostics(page);
          const { ms, windowMs, cpuMs, byProgram, alreadyRunning } = await tracedRun(page, 'first');
          const after = await vmDiagnostics(page);
          const imageBytesRead = (after?.diskImage?.fetchedBytes ?? 0) - (before?.diskImage?.fetchedBytes ?? 0);
          row['tracedFirst'] = { ms, windowMs, cpuMs, guestIdleMs: Math.round(windowMs - cpuMs), imageBytesRead, byProgram, alreadyRunning: alreadyRunning.slice(0, 6) };
        }
        for (const command of commands) {
          const runs: number[] = [];
          const threads: unknown[] = [];
          for (let i = 0; i <= warm; i++) {
            const before = await profileThreadCpu(profileDir);
            runs.push(await runTimed(page, command, 600_000));
            threads.push(threadCpuDelta(before, await profileThreadCpu(profileDir)));
          }
          row[command] = runs;
          row[`${command} (tab CPU s)`] = threads;
        }
        if (values.loop) {
          const task = guestCpuTasks()[0]!;
          await typeAndWait(page, 'clear', PROMPT, 60_000);
          const { line } = await typeAndWait(page, guestCpuLine(task, 'cpu-loop'), /^cpu-loop=\d+$/, 600_000);
          row['bashLoopMs'] = Math.round(parseGuestCpuOutput(line, 'cpu-loop') / 1000);
        }
        row['diagnostics'] = await vmDiagnostics(page);
        results.push(row);
        process.stderr.write(`${JSON.stringify(row)}\n`);
      } finally {
        await context.close();
        await rm(profileDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await server.close();
}
process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
