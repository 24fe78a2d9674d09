// Port preview figures: how soon the agent reports a published port (it pushes its listening sockets when they
// change), what the container list that follows costs (the Engine API, as the page's port watch reads it), and
// HTTP from the host into a published port through v86's
// connect(): a small page's latency and a 1 MiB file's throughput (worker/vm/net/guest-http-client.ts).
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
    // 18080 is 0x46A0 in /proc/net/tcp's notation.
    const portPattern = new RegExp(`:${PORT.toString(16).toUpperCase().padStart(4, '0')}$`, 'm');
    let pushedAtMs: number | undefined;
    const subscription = host.subscribe((event) => {
      if (event.type === 'listening-sockets' && pushedAtMs === undefined && portPattern.test(event.sockets)) pushedAtMs = performance.now();
    });
    const runStartedMs = performance.now();
    let runReturnedMs = runStartedMs;
    try {
      await must(`docker run -d --name bench-preview -p ${PORT}:80 tabdock/httpd >/dev/null`);
      runReturnedMs = performance.now();
      while (pushedAtMs === undefined && performance.now() - runReturnedMs < 60_000) await new Promise((resolve) => setTimeout(resolve, 20));
      host.unsubscribe(subscription);
      if (pushedAtMs === undefined) throw new Error(`the agent did not report port ${PORT} within 60 s of docker run returning`);
      await must(`for i in $(seq 1 30); do timeout 20 busybox wget -qO- http://localhost:${PORT}/ >/dev/null && exit 0; sleep 1; done; exit 1`);
      await must(`docker exec bench-preview sh -c 'head -c ${FILE_BYTES} /dev/zero > /www/1m.bin'`);
      const containerListMs: number[] = [];
      const pageMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        containerListMs.push((await timed(() => host.engineQuery({ kind: 'containers' })))[1]);
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
        /** From `docker run -d -p` starting, and from it returning (negative: the report came first). */
        portReportedAfterRunStartMs: roundMs(pushedAtMs - runStartedMs),
        portReportedAfterRunReturnMs: roundMs(pushedAtMs - runReturnedMs),
        containerListMedianMs: roundMs(median(containerListMs)),
        pageMedianMs: roundMs(median(pageMs)),
        pageRunsMs: pageMs.map(roundMs),
        fileBytes: FILE_BYTES,
        fileMs: roundMs(fileMs),
        fileMBps: Math.round((FILE_BYTES / 1e6 / (fileMs / 1000)) * 100) / 100,
      };
      log(`port preview: page ${figures.pageMedianMs} ms, 1 MiB in ${figures.fileMs} ms, port reported ${figures.portReportedAfterRunReturnMs} ms after docker run returned, container list ${figures.containerListMedianMs} ms`);
      return figures;
    } finally {
      host.unsubscribe(subscription);
      await host.exec('docker rm -f bench-preview >/dev/null', { timeoutMs: 120_000 });
    }
  },
};
