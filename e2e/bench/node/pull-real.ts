// Part of bench section `pull` (issue #22): real-sized images from a registry on 127.0.0.1 that the shim uses as
// the Docker Hub upstream, in Node. Each case is one entry of NODE_PULL_CASES; a new case (a baked image, another
// image) is one more entry, with its figures under its own key of the section's result.
import { byHandCommand, NGINX, NGINX_LAYERS5, parseByHand, type BenchImage, type BenchRegistry } from './pull-images.ts';
import { guestCpuDelta, guestCpuSnapshotCommand } from './cpu-split.ts';
import { roundMs, type BenchContext } from './section.ts';

export interface PullCase {
  /** Key of this case's figures in the section's result. */
  name: string;
  run(context: BenchContext, bench: BenchRegistry): Promise<Record<string, unknown>>;
}

const COMMAND_TIMEOUT_MS = 900_000;
const PAGE_TIMEOUT_MS = 120_000;

async function must(context: BenchContext, command: string): Promise<string> {
  const result = await context.host.exec(command, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`\`${command.slice(0, 120)}\` failed (${result.exitCode}): ${result.output.slice(-1000)}`);
  return result.output;
}

function imageOf(bench: BenchRegistry, reference: string): BenchImage {
  const image = bench.images[reference];
  if (!image) throw new Error(`bench image ${reference} was not pushed`);
  return image;
}

/** What a pull printed that a reader would not want to see (dockerd's digest-fallback warning, issue #27). */
function warnings(output: string): string[] {
  return output.split('\n').filter((line) => /WARNING|DEPRECATED/.test(line));
}

/**
 * `docker run -d -p 8080:80 nginx` on an image the guest does not have, until its page answers on the guest's
 * port 8080 (the port preview's own path, VmHost.guestFetch): what a tutorial's first nginx costs unbaked.
 */
export const unbakedNginxToPage: PullCase = {
  name: 'unbakedNginxToPage',
  async run(context) {
    const { host, log } = context;
    const started = performance.now();
    const output = await must(context, `docker run -d --name bench-nginx -p 8080:80 ${NGINX.reference} 2>&1`);
    const runReturnedMs = roundMs(performance.now() - started);
    try {
      let body = '';
      while (!body.includes('Welcome to nginx')) {
        if (performance.now() - started > COMMAND_TIMEOUT_MS + PAGE_TIMEOUT_MS) throw new Error('nginx never answered on port 8080');
        try {
          const response = await host.guestFetch({ port: 8080, method: 'GET', target: '/', headers: [] });
          body = await new Response(response.body).text();
        } catch {
          // Not listening yet: nginx is still starting. Ask again, as the preview's Reload would.
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      const pageMs = roundMs(performance.now() - started);
      log(`pull: unbaked nginx: docker run returned after ${runReturnedMs} ms, page after ${pageMs} ms`);
      return { command: `docker run -d -p 8080:80 ${NGINX.reference}`, runReturnedMs, pageMs, goalMs: 30_000, warnings: warnings(output) };
    } finally {
      await host.exec(`docker rm -f bench-nginx >/dev/null; docker rmi ${NGINX.reference} >/dev/null`, { timeoutMs: COMMAND_TIMEOUT_MS });
    }
  },
};

/**
 * The by-hand pipeline of an image's layers (pull-images.ts), then `docker pull` of the same image, in the same
 * guest, and their ratio (the goal: <= 2). The image is removed afterwards.
 */
export function pullAgainstByHand(name: string, reference: string): PullCase {
  return {
    name,
    async run(context, bench) {
      const image = imageOf(bench, reference);
      const byHandStarted = performance.now();
      const byHand = parseByHand(await must(context, byHandCommand(image)));
      const byHandMs = roundMs(performance.now() - byHandStarted);
      const guestCpu = guestCpuSnapshotCommand('$(pidof dockerd)');
      const guestBefore = await must(context, guestCpu);
      const hostBefore = process.cpuUsage();
      const pullStarted = performance.now();
      const output = await must(context, `docker pull ${image.reference} 2>&1`);
      const pullMs = roundMs(performance.now() - pullStarted);
      const host = process.cpuUsage(hostBefore);
      const guest = guestCpuDelta(guestBefore, await must(context, guestCpu));
      await must(context, `docker rmi ${image.reference} >/dev/null`);
      context.log(`pull: ${image.reference} (${image.layers.length} layers): docker pull ${pullMs} ms, by hand ${byHandMs} ms (${JSON.stringify(byHand)})`);
      return {
        image: image.reference,
        layers: image.layers.length,
        layerBytes: image.layers.reduce((sum, layer) => sum + layer.sizeBytes, 0),
        pullMs,
        /** From the command's start to its end on the host, and the guest's own per-step sums. */
        byHandMs,
        byHandSteps: byHand,
        pullToByHandRatio: Math.round((pullMs / byHandMs) * 100) / 100,
        goalRatio: 2,
        warnings: warnings(output),
        /** The guest CPU during the pull (/proc/stat, dockerd's share), and this process's (the emulator, the shim). */
        cpuDuringPull: { guest, hostProcessS: Math.round(((host.user + host.system) / 1e6) * 10) / 10 },
      };
    },
  };
}

export const NODE_PULL_CASES: readonly PullCase[] = [
  unbakedNginxToPage,
  pullAgainstByHand('nginxOneLayer', NGINX.reference),
  pullAgainstByHand('nginxFiveLayers', NGINX_LAYERS5.reference),
];
