// Bench section "build": `docker build` of a multi-stage Dockerfile in the shape of Docker's tutorials (a build
// stage that runs a step, a small final stage that copies its result), with BuildKit (the buildx plugin, Docker
// 26's default) and with the classic builder, twice each from scratch (--no-cache) and once after a source edit
// (cache used up to the edit). The figures choose the guest's default builder (vm-images/README.md).
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import { median, roundMs, type BenchSection } from './section.ts';

const CONTEXT = '/tmp/tabdock-bench-build';
const DOCKERFILE = `FROM busybox AS build
WORKDIR /src
COPY app.sh .
RUN chmod +x app.sh && ./app.sh > report.txt
FROM busybox
COPY --from=build /src/report.txt /report.txt
CMD ["cat", "/report.txt"]
`;
const APP = (version: number) => `#!/bin/sh\necho "report v${version}"\nfor i in 1 2 3 4 5; do echo "line $i"; done\n`;

function writeFile(path: string, text: string): string {
  return `echo ${Buffer.from(text).toString('base64')} | base64 -d > ${path}`;
}

async function timed(host: VmHost, command: string): Promise<number> {
  const started = performance.now();
  const result = await host.exec(command, { timeoutMs: 900_000 });
  if (result.exitCode !== 0) throw new Error(`\`${command}\` failed (${result.exitCode}): ${result.output.slice(-2000)}`);
  return roundMs(performance.now() - started);
}

export const buildSection: BenchSection = {
  name: 'build',
  async run({ host, log }) {
    await timed(host, `rm -rf ${CONTEXT} && mkdir -p ${CONTEXT} && ${writeFile(`${CONTEXT}/Dockerfile`, DOCKERFILE)} && ${writeFile(`${CONTEXT}/app.sh`, APP(1))}`);
    const builders = { classic: 'DOCKER_BUILDKIT=0 docker build', buildkit: 'DOCKER_BUILDKIT=1 docker build' } as const;
    const fromScratchMs: Record<keyof typeof builders, number[]> = { classic: [], buildkit: [] };
    const afterEditMs: Record<keyof typeof builders, number> = { classic: 0, buildkit: 0 };
    // Alternating, so neither builder always runs on a warmer emulator.
    for (const round of [0, 1]) {
      for (const name of round === 0 ? (['classic', 'buildkit'] as const) : (['buildkit', 'classic'] as const)) {
        fromScratchMs[name].push(await timed(host, `${builders[name]} --no-cache -q -t tabdock/bench-${name} ${CONTEXT} >/dev/null`));
      }
    }
    for (const name of ['classic', 'buildkit'] as const) {
      await timed(host, writeFile(`${CONTEXT}/app.sh`, APP(name === 'classic' ? 2 : 3)));
      afterEditMs[name] = await timed(host, `${builders[name]} -q -t tabdock/bench-${name} ${CONTEXT} >/dev/null`);
    }
    const output = (await host.exec('docker run --rm tabdock/bench-buildkit && docker run --rm tabdock/bench-classic', { timeoutMs: 300_000 })).output;
    if (!output.includes('report v3') || !output.includes('report v2')) throw new Error(`the built images print the wrong report: ${output}`);
    await host.exec(`docker rmi tabdock/bench-classic tabdock/bench-buildkit >/dev/null; docker builder prune -af >/dev/null; rm -rf ${CONTEXT}`, { timeoutMs: 300_000 });
    log(`build: from scratch classic ${fromScratchMs.classic.join(', ')} ms, BuildKit ${fromScratchMs.buildkit.join(', ')} ms; after an edit classic ${afterEditMs.classic} ms, BuildKit ${afterEditMs.buildkit} ms`);
    return {
      dockerfile: DOCKERFILE,
      fromScratchMs,
      fromScratchMedianMs: { classic: median(fromScratchMs.classic), buildkit: median(fromScratchMs.buildkit) },
      afterEditMs,
    };
  },
};
