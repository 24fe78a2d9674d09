// The pull benchmark's real-sized images (vm-images/lib/bench-images.sh: Debian's nginx-light in one layer and
// in five, python3) in Debian's docker-registry on 127.0.0.1, and the by-hand pipeline that handles the same
// layer bytes in the guest without dockerd, for the Node and the Chromium halves of bench section `pull`.
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushLayout, startRegistry, type TestRegistry } from '../../../worker/testing/registry.ts';

const run = promisify(execFile);
const BENCH_IMAGES_DIR = process.env.TABDOCK_BENCH_IMAGES ?? join('vm-images', '.cache', 'bench-images');

export interface BenchImageLayer {
  digest: string;
  sizeBytes: number;
}

export interface BenchImage {
  /** As a user types it, through the page's Docker Hub mirror: `nginx`, `bench/nginx-layers5`. */
  reference: string;
  /** The repository on the registry (Docker Hub's `library/` for official names). */
  repository: string;
  layers: BenchImageLayer[];
}

export const NGINX: Omit<BenchImage, 'layers'> = { reference: 'nginx', repository: 'library/nginx' };
export const NGINX_LAYERS5: Omit<BenchImage, 'layers'> = { reference: 'bench/nginx-layers5', repository: 'bench/nginx-layers5' };
const LAYOUTS: ReadonlyArray<[layout: string, image: Omit<BenchImage, 'layers'>]> = [
  ['nginx', NGINX],
  ['nginx-layers5', NGINX_LAYERS5],
];

export interface BenchRegistry {
  registry: TestRegistry;
  /** `http://127.0.0.1:<port>`, the Docker Hub upstream the shim (or the page) is given. */
  mirror: string;
  images: Record<string, BenchImage>;
}

/** Builds the images when they are missing (stage-cached, needs root like `npm run images`), then pushes them. */
export async function startBenchRegistry(log: (message: string) => void): Promise<BenchRegistry> {
  try {
    await access(join(BENCH_IMAGES_DIR, 'nginx-layers5', 'index.json'));
  } catch {
    log(`pull: building the bench images into ${BENCH_IMAGES_DIR} (bash vm-images/bench-images.sh, minutes the first time)`);
    await run('bash', [join('vm-images', 'bench-images.sh')], { maxBuffer: 64 * 1024 * 1024 }).catch((error: unknown) => {
      throw new Error(`bash vm-images/bench-images.sh failed; run it by hand to see why (it needs root and Debian's mirror): ${String(error)}`);
    });
  }
  const registry = await startRegistry();
  const images: Record<string, BenchImage> = {};
  for (const [layout, image] of LAYOUTS) {
    await pushLayout(join(BENCH_IMAGES_DIR, layout), 'latest', registry.host, image.repository);
    images[image.reference] = { ...image, layers: await layoutLayers(join(BENCH_IMAGES_DIR, layout)) };
    const bytes = images[image.reference]!.layers.reduce((sum, layer) => sum + layer.sizeBytes, 0);
    log(`pull: pushed ${image.repository}:latest, ${images[image.reference]!.layers.length} layer(s), ${bytes} bytes`);
  }
  return { registry, mirror: `http://${registry.host}`, images };
}

/** The layers of a single-platform layout (index.json -> image index -> manifest), bottom first. */
export async function layoutLayers(layoutDir: string): Promise<BenchImageLayer[]> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8')) as Record<string, unknown>;
  const top = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  let manifest = await blob(top.manifests[0]?.digest ?? '');
  while (Array.isArray(manifest.manifests)) manifest = await blob((manifest.manifests as Array<{ digest: string }>)[0]?.digest ?? '');
  return (manifest.layers as Array<{ digest: string; size: number }>).map((layer) => ({ digest: layer.digest, sizeBytes: layer.size }));
}

export interface ByHandFigures {
  /** Seconds, summed over the layers, from the guest's /proc/uptime (10 ms steps). */
  wgetS: number;
  sha256S: number;
  untarS: number;
  syncS: number;
  totalS: number;
}

/**
 * One guest command line that does what dockerd does with each layer, with the guest's own tools: busybox wget
 * of the blob from the shim into a file, sha256sum -c of it, unpigz | tar -x onto the root disk, then one sync.
 * It prints one line, `byhand wget=<s> sha256=<s> untar=<s> sync=<s> total=<s>`, and removes what it wrote.
 */
export function byHandCommand(image: BenchImage, mirrorHost = 'mirror.tabdock.internal'): string {
  const dir = '/var/lib/tabdock-bench';
  const layers = image.layers.map((layer) => layer.digest.slice('sha256:'.length)).join(' ');
  const steps = [
    `rm -rf ${dir} && mkdir -p ${dir}/root && cd ${dir}`,
    't() { read -r u _ </proc/uptime; echo "$1 $u" >>times; }',
    't start',
    `for h in ${layers}; do busybox wget -q -O blob http://${mirrorHost}/v2/${image.repository}/blobs/sha256:$h || exit 1; t wget; ` +
      'echo "$h  blob" | sha256sum -c - >/dev/null || exit 1; t sha256; unpigz -c blob | tar -x -C root || exit 1; t untar; rm blob; done',
    'sync; t sync',
    "awk 'NR==1{p=$2;next}{s[$1]+=$2-p;p=$2}END{printf \"byhand wget=%.2f sha256=%.2f untar=%.2f sync=%.2f total=%.2f\\n\",s[\"wget\"],s[\"sha256\"],s[\"untar\"],s[\"sync\"],s[\"wget\"]+s[\"sha256\"]+s[\"untar\"]+s[\"sync\"]}' times",
    `cd / && rm -rf ${dir}`,
  ];
  return `(${steps.join('; ')})`;
}

const BY_HAND_LINE = /^byhand wget=([\d.]+) sha256=([\d.]+) untar=([\d.]+) sync=([\d.]+) total=([\d.]+)$/m;
export const BY_HAND_ROW = /^byhand wget=/;

export function parseByHand(output: string): ByHandFigures {
  const match = BY_HAND_LINE.exec(output);
  if (!match) throw new Error(`the by-hand pipeline printed no figures: ${output.slice(-500)}`);
  const [wgetS, sha256S, untarS, syncS, totalS] = match.slice(1).map(Number) as [number, number, number, number, number];
  return { wgetS, sha256S, untarS, syncS, totalS };
}
