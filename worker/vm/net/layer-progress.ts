// Per-layer progress of a docker pull, seen from the registry shim: dockerd's progress bars go to the docker CLI
// that asked, not to the Engine API's /events (which says `pull` once, at the end), but every layer blob passes
// through the shim. An image manifest lists the pull's layers (the CLI's "Waiting" lines, issue #27); then the bytes
// of each blob response are counted and reported a few times a second.
import type { LayerProgress } from '../../shared/engine-contract.ts';

export type LayerProgressSink = (progress: LayerProgress) => void;

/** How often one blob reports while it streams. */
const REPORT_INTERVAL_MS = 250;
/** Config digests remembered from manifests, so their blobs are not shown as layers. */
const MAX_REMEMBERED_CONFIGS = 256;

export interface BlobIdentity {
  registry: string;
  repository: string;
  digest: string;
  /** From Content-Length (or Content-Range's total); 0 when unknown. */
  totalBytes: number;
  /** Where a resumed download (206) starts: dockerd's own count goes on from there. */
  offsetBytes?: number;
}

/** Which pull a manifest belongs to. */
export interface ManifestSource {
  registry: string;
  repository: string;
}

export class LayerProgressTracker {
  private readonly configDigests = new Set<string>();

  constructor(
    private readonly sink: LayerProgressSink,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /**
   * An image manifest passed through: its config blob is not a layer, and its layers are reported as waiting, as
   * the docker CLI lists them before any downloads. Anything unparsable (or an index) is ignored.
   */
  noteManifest(bytes: Uint8Array, source: ManifestSource): void {
    let manifest: { config?: { digest?: unknown }; layers?: unknown };
    try {
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as typeof manifest;
    } catch {
      return; // not JSON: dockerd will say so itself when it checks the manifest
    }
    const digest = manifest.config?.digest;
    if (typeof digest !== 'string') return;
    if (this.configDigests.size >= MAX_REMEMBERED_CONFIGS) this.configDigests.clear();
    this.configDigests.add(digest);
    if (!Array.isArray(manifest.layers)) return;
    for (const layer of manifest.layers as Array<{ digest?: unknown; size?: unknown }>) {
      if (typeof layer.digest !== 'string') continue;
      const totalBytes = typeof layer.size === 'number' && layer.size > 0 ? layer.size : 0;
      this.sink({ ...source, digest: layer.digest, totalBytes, loadedBytes: 0, state: 'waiting' });
    }
  }

  /** Wraps a blob body; layers report as their bytes flow, config blobs pass through untouched. */
  track(body: ReadableStream<Uint8Array> | null, blob: BlobIdentity): ReadableStream<Uint8Array> | null {
    if (body === null || this.configDigests.has(blob.digest)) return body;
    const { offsetBytes = 0, ...identity } = blob;
    let loadedBytes = offsetBytes;
    let lastReportMs = -Infinity;
    const report = (state: LayerProgress['state']) => {
      lastReportMs = this.nowMs();
      this.sink({ ...identity, loadedBytes, state });
    };
    report('downloading');
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            report('done');
            controller.close();
            return;
          }
          loadedBytes += value.byteLength;
          if (this.nowMs() - lastReportMs >= REPORT_INTERVAL_MS) report('downloading');
          controller.enqueue(value);
        } catch (error) {
          report('failed');
          controller.error(error);
        }
      },
      cancel: async (reason) => {
        report('failed');
        await reader.cancel(reason);
      },
    });
  }
}

/** Where a 206's Content-Range starts (`bytes 100-199/1000` -> 100); 0 for a whole blob. */
export function blobOffsetBytes(headers: Headers): number {
  const range = /^bytes (\d+)-/.exec(headers.get('content-range') ?? '');
  return range ? Number(range[1]) : 0;
}

/** The blob's size from a 200's Content-Length or a 206's Content-Range (`bytes 0-99/1000` -> 1000). */
export function blobTotalBytes(headers: Headers): number {
  const range = /\/(\d+)$/.exec(headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = Number(headers.get('content-length') ?? '');
  return Number.isFinite(length) && length > 0 ? length : 0;
}
