// Bench section "emulation" (issue #29): linux/amd64 containers, run by the guest's qemu-x86_64-static, against
// their linux/386 equivalents in the same VM: a container's start, a shell loop, dpkg of a few packages in a
// Debian image, a multi-threaded C program, a Go program; what does not work (Node, a JVM) with the error a user
// sees; and what the binfmt registration costs a BuildKit build (its platform probe then runs under qemu).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import { DEFAULT_ASSET_DIR } from '../../../worker/node/node-platform.ts';
import { pushLayout, startRegistry, type TestRegistry } from '../../../worker/testing/registry.ts';
import { buildEmulationImages, buildRuntimesImage, DEBS, type Arch } from './emulation-images.ts';
import { median, roundMs, type BenchSection } from './section.ts';

const TIMEOUT_MS = 900_000;
const WARM_RUNS = 3;
const LOOP = 'i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done';

let registry: TestRegistry | undefined;
let workDir: string | undefined;

interface Timed {
  ms: number;
  exitCode: number;
  output: string;
}

async function timed(host: VmHost, command: string): Promise<Timed> {
  const started = performance.now();
  const result = await host.exec(command, { timeoutMs: TIMEOUT_MS });
  return { ms: roundMs(performance.now() - started), exitCode: result.exitCode, output: result.output };
}

async function ok(host: VmHost, command: string): Promise<Timed> {
  const result = await timed(host, command);
  if (result.exitCode !== 0) throw new Error(`\`${command}\` failed (${result.exitCode}): ${result.output.slice(-2000)}`);
  return result;
}

const platform = (arch: Arch) => (arch === 'amd64' ? '--platform linux/amd64 ' : '');
/** A number printed after `label` in a program's output. */
const figure = (output: string, label: string) => Number(new RegExp(`${label}[ =]+([\\d.]+)`).exec(output)?.[1] ?? NaN);

async function perPlatform(host: VmHost, arch: Arch): Promise<Record<string, unknown>> {
  const tools = `emu-tools:${arch}`;
  const first = await ok(host, `docker run --rm ${platform(arch)}${tools} echo hi`);
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) warm.push((await ok(host, `docker run --rm ${platform(arch)}${tools} echo hi`)).ms);
  const loop = await ok(host, `docker run --rm ${platform(arch)}${tools} time -p sh -c '${LOOP}' 2>&1`);
  const dpkg = await ok(host, `docker run --rm ${platform(arch)}emu-debian:${arch} bash -c 'TIMEFORMAT="dpkg-s %R"; time dpkg -i /debs/*.deb >/dev/null' 2>&1`);
  const threads = await timed(host, `docker run --rm ${platform(arch)}${tools} /bench/threads`);
  const go = await timed(host, `docker run --rm ${platform(arch)}${tools} /bench/gocpu`);
  return {
    echoFirstMs: first.ms,
    echoWarmMedianMs: median(warm),
    echoWarmMs: warm,
    shellLoop5000Ms: Math.round(figure(loop.output, 'real') * 1000),
    dpkgInstallMs: Math.round(figure(dpkg.output, 'dpkg-s') * 1000),
    dpkgPackages: DEBS,
    threads: { exitCode: threads.exitCode, runMs: threads.ms, inProgramMs: figure(threads.output, 'threads-ms'), output: threads.output.trim() },
    go: {
      exitCode: go.exitCode,
      runMs: go.ms,
      sha256Of8MiBMs: figure(go.output, 'go-sha256-8MiB-ms'),
      thousandGoroutinesMs: figure(go.output, 'goroutines-ms'),
      output: go.output.trim(),
    },
  };
}

/** What a user sees from a runtime that may not fit a 32-bit host's address space (bounded by timeout). */
async function runtime(host: VmHost, command: string): Promise<Record<string, unknown>> {
  const result = await timed(host, `docker run --rm --platform linux/amd64 emu-runtimes:amd64 timeout 300 ${command} 2>&1`);
  return { command, exitCode: result.exitCode, ms: result.ms, output: result.output.trim().split('\n').slice(-6).join('\n') };
}

/** BuildKit runs its platform probes on each build; with the registration its amd64 probe runs under qemu. */
async function buildCost(host: VmHost, log: (message: string) => void): Promise<Record<string, unknown>> {
  await ok(host, "mkdir -p /tmp/emu-bench-build && printf 'FROM busybox\\nRUN echo built > /built\\n' >/tmp/emu-bench-build/Dockerfile");
  const build = 'docker build --no-cache -q /tmp/emu-bench-build >/dev/null';
  const ms: Record<'registered' | 'disabled', number[]> = { registered: [], disabled: [] };
  for (const round of [0, 1]) {
    for (const state of round === 0 ? (['registered', 'disabled'] as const) : (['disabled', 'registered'] as const)) {
      await ok(host, `echo ${state === 'registered' ? 1 : 0} > /proc/sys/fs/binfmt_misc/qemu-x86_64`);
      ms[state].push((await ok(host, build)).ms);
    }
  }
  await ok(host, 'echo 1 > /proc/sys/fs/binfmt_misc/qemu-x86_64');
  log(`emulation: BuildKit build with the registration ${ms.registered.join(', ')} ms, without ${ms.disabled.join(', ')} ms`);
  return { buildkitNoCacheMs: ms, medianExtraMs: median(ms.registered) - median(ms.disabled) };
}

export const emulationSection: BenchSection = {
  name: 'emulation',
  async prepare(log) {
    const testImages = join(process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, 'test-images');
    const layouts = await buildEmulationImages(testImages, log);
    workDir = await mkdtemp(join(tmpdir(), 'tabdock-bench-emulation-'));
    registry = await startRegistry();
    for (const arch of ['386', 'amd64'] as const) {
      await pushLayout(layouts.tools[arch], arch, registry.host, 'library/emu-tools');
      await pushLayout(layouts.debian[arch], arch, registry.host, 'library/emu-debian');
    }
    log(`emulation: images pushed to ${registry.host}`);
    return {
      network: { dockerHubUpstream: `http://${registry.host}` },
      async dispose() {
        await registry?.stop();
        if (workDir) await rm(workDir, { recursive: true, force: true });
      },
    };
  },
  async run({ host, log }) {
    const pullMs: Record<string, number> = {};
    for (const image of ['emu-tools:386', 'emu-debian:386']) pullMs[image] = (await ok(host, `docker pull -q ${image}`)).ms;
    for (const image of ['emu-tools:amd64', 'emu-debian:amd64']) pullMs[image] = (await ok(host, `docker pull -q --platform linux/amd64 ${image}`)).ms;
    log(`emulation: pulls ${JSON.stringify(pullMs)}`);
    const native = await perPlatform(host, '386');
    log(`emulation: linux/386 ${JSON.stringify(native)}`);
    const emulated = await perPlatform(host, 'amd64');
    log(`emulation: linux/amd64 ${JSON.stringify(emulated)}`);
    const build = await buildCost(host, log);
    // Last: the biggest image (about 100 MB of layer), so the figures above come first.
    if (!registry) throw new Error('emulation section was not prepared');
    let runtimes: Record<string, unknown>;
    try {
      await pushLayout(await buildRuntimesImage(log), 'amd64', registry.host, 'library/emu-runtimes');
      pullMs['emu-runtimes:amd64'] = (await ok(host, 'docker pull -q --platform linux/amd64 emu-runtimes:amd64')).ms;
      runtimes = { node: await runtime(host, "node -e 'console.log(process.arch, process.version)'"), java: await runtime(host, 'java -version') };
    } catch (error) {
      // The figures above stay: the runtimes image is the part most likely to fail to build.
      runtimes = { error: error instanceof Error ? error.message.slice(0, 2000) : String(error) };
    }
    log(`emulation: runtimes ${JSON.stringify(runtimes)}`);
    await timed(host, 'docker rmi -f emu-tools:386 emu-tools:amd64 emu-debian:386 emu-debian:amd64 emu-runtimes:amd64 >/dev/null; docker image prune -f >/dev/null');
    const ratio = (key: string) => Math.round(((emulated[key] as number) / (native[key] as number)) * 10) / 10;
    return {
      pullMs,
      native,
      emulated,
      slowdown: { echoWarm: ratio('echoWarmMedianMs'), shellLoop: ratio('shellLoop5000Ms'), dpkgInstall: ratio('dpkgInstallMs') },
      runtimes,
      build,
    };
  },
};
