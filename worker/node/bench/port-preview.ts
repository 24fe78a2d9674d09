// Port preview figures: what one poll for published ports costs in the guest (the listening-socket read and
// docker ps, through the agent), and HTTP from the host into a published port through v86's connect():
// a small page's latency and a 1 MiB file's throughput (worker/net/guest-http-client.ts).
import { DOCKER_PS_COMMAND, LISTENING_SOCKETS_COMMAND } from '../../../src/port-preview/published-ports.ts';
import type { BenchSection } from './section.ts';
import { median, roundMs } from './section.ts';

const PORT = 18080;
const RUNS = 5;
const FILE_BYTES = 1024 * 1024;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const startedMs = performance.now();
  const value = await work();
  return [value, performance.now() - startedMs];
}

export const portPreviewSection: BenchSection = {
  name: 'portPreview',
  async run({ host, log }) {
    const must = async (command: string) => {
      const result = await host.exec(command, { timeoutMs: 300_000 });
      if (result.exitCode !== 0) throw new Error(`\`${command}\` failed (${result.exitCode}): ${result.output}`);
    };
    await must(`docker run -d --name bench-preview -p ${PORT}:80 tabdock/httpd >/dev/null`);
    try {
      await must(`for i in $(seq 1 30); do timeout 20 busybox wget -qO- http://localhost:${PORT}/ >/dev/null && exit 0; sleep 1; done; exit 1`);
      await must(`docker exec bench-preview sh -c 'head -c ${FILE_BYTES} /dev/zero > /www/1m.bin'`);
      const socketPollMs: number[] = [];
      const dockerPsMs: number[] = [];
      const pageMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        socketPollMs.push((await timed(() => host.exec(LISTENING_SOCKETS_COMMAND, { timeoutMs: 60_000 })))[1]);
        dockerPsMs.push((await timed(() => host.exec(DOCKER_PS_COMMAND, { timeoutMs: 60_000 })))[1]);
        const [, ms] = await timed(async () => {
          const response = await host.guestFetch({ port: PORT, method: 'GET', target: '/', headers: [] });
          return new Response(response.body).arrayBuffer();
        });
        pageMs.push(ms);
      }
      const [bytes, fileMs] = await timed(async () => {
        const response = await host.guestFetch({ port: PORT, method: 'GET', target: '/1m.bin', headers: [] });
        return (await new Response(response.body).arrayBuffer()).byteLength;
      });
      if (bytes !== FILE_BYTES) throw new Error(`the 1 MiB file arrived with ${bytes} bytes`);
      const figures = {
        socketPollMedianMs: roundMs(median(socketPollMs)),
        dockerPsMedianMs: roundMs(median(dockerPsMs)),
        pageMedianMs: roundMs(median(pageMs)),
        pageRunsMs: pageMs.map(roundMs),
        fileBytes: FILE_BYTES,
        fileMs: roundMs(fileMs),
        fileMBps: Math.round((FILE_BYTES / 1e6 / (fileMs / 1000)) * 100) / 100,
      };
      log(`port preview: page ${figures.pageMedianMs} ms, 1 MiB in ${figures.fileMs} ms, poll ${figures.socketPollMedianMs} ms, docker ps ${figures.dockerPsMedianMs} ms`);
      return figures;
    } finally {
      await host.exec('docker rm -f bench-preview >/dev/null', { timeoutMs: 120_000 });
    }
  },
};
