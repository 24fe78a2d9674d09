// Per-layer progress of a docker pull, seen from the registry shim: dockerd's progress bars go to the docker CLI
// that asked, not to the Engine API's /events (which says `pull` once, at the end), but every layer blob passes
// through the shim. This counts the bytes of each blob response and reports them a few times a second.
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
}

export class LayerProgressTracker {
  private readonly configDigests = new Set<string>();

  constructor(
    private readonly sink: LayerProgressSink,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** An image manifest passed through: its config blob is not a layer. Anything unparsable is ignored. */
  noteManifest(bytes: Uint8Array): void {
    let digest: unknown;
    try {
      digest = (JSON.parse(new TextDecoder().decode(bytes)) as { config?: { digest?: unknown } }).config?.digest;
    } catch {
      return; // not JSON: dockerd will say so itself when it checks the manifest
    }
    if (typeof digest !== 'string') return;
    if (this.configDigests.size >= MAX_REMEMBERED_CONFIGS) this.configDigests.clear();
    this.configDigests.add(digest);
  }

  /** Wraps a blob body; layers report as their bytes flow, config blobs pass through untouched. */
  track(body: ReadableStream<Uint8Array> | null, blob: BlobIdentity): ReadableStream<Uint8Array> | null {
    if (body === null || this.configDigests.has(blob.digest)) return body;
    let loadedBytes = 0;
    let lastReportMs = -Infinity;
    const report = (state: LayerProgress['state']) => {
      lastReportMs = this.nowMs();
      this.sink({ ...blob, loadedBytes, state });
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

/** The blob's size from a 200's Content-Length or a 206's Content-Range (`bytes 0-99/1000` -> 1000). */
export function blobTotalBytes(headers: Headers): number {
  const range = /\/(\d+)$/.exec(headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = Number(headers.get('content-length') ?? '');
  return Number.isFinite(length) && length > 0 ? length : 0;
}
