import { describe, expect, it } from 'vitest';
import type { LayerProgress } from '../../shared/engine-contract.ts';
import { blobOffsetBytes, blobTotalBytes, LayerProgressTracker } from './layer-progress.ts';

function bodyOf(chunks: number[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const size of chunks) controller.enqueue(new Uint8Array(size));
      controller.close();
    },
  });
}

const blob = { registry: 'registry.test', repository: 'library/pulled', digest: 'sha256:aa', totalBytes: 300 };

describe('LayerProgressTracker', () => {
  it('reports a layer as it streams and when it is done, a few times a second at most', async () => {
    const reports: LayerProgress[] = [];
    let now = 0;
    const tracker = new LayerProgressTracker((p) => reports.push(p), () => now);
    const tracked = tracker.track(bodyOf([100, 100, 100]), blob);
    const reader = tracked!.getReader();
    await reader.read();
    now = 300;
    await reader.read();
    await reader.read();
    expect((await reader.read()).done).toBe(true);
    expect(reports.map((r) => [r.state, r.loadedBytes])).toEqual([
      ['downloading', 0],
      ['downloading', 200],
      ['done', 300],
    ]);
    expect(reports[0]).toMatchObject({ registry: 'registry.test', repository: 'library/pulled', digest: 'sha256:aa', totalBytes: 300 });
  });

  it('leaves a config blob named by a manifest alone, and ignores a manifest that is not JSON', async () => {
    const reports: LayerProgress[] = [];
    const tracker = new LayerProgressTracker((p) => reports.push(p));
    tracker.noteManifest(new TextEncoder().encode('{"config":{"digest":"sha256:cfg"},"layers":[]}'), blob);
    tracker.noteManifest(new TextEncoder().encode('<html>'), blob);
    const body = bodyOf([10]);
    expect(tracker.track(body, { ...blob, digest: 'sha256:cfg' })).toBe(body);
    expect(reports).toEqual([]);
  });

  it("lists a manifest's layers as waiting, with their sizes, as the docker CLI does before any download", () => {
    const reports: LayerProgress[] = [];
    const tracker = new LayerProgressTracker((p) => reports.push(p));
    const manifest = { config: { digest: 'sha256:cfg' }, layers: [{ digest: 'sha256:l1', size: 35_000_000 }, { digest: 'sha256:l2', size: 512 }] };
    tracker.noteManifest(new TextEncoder().encode(JSON.stringify(manifest)), { registry: 'registry.test', repository: 'library/nginx' });
    // An image index lists manifests, not layers.
    tracker.noteManifest(new TextEncoder().encode('{"manifests":[{"digest":"sha256:m"}]}'), { registry: 'registry.test', repository: 'library/nginx' });
    expect(reports).toEqual([
      { registry: 'registry.test', repository: 'library/nginx', digest: 'sha256:l1', loadedBytes: 0, totalBytes: 35_000_000, state: 'waiting' },
      { registry: 'registry.test', repository: 'library/nginx', digest: 'sha256:l2', loadedBytes: 0, totalBytes: 512, state: 'waiting' },
    ]);
  });

  it('counts a resumed download (206) from where it starts, as dockerd does', async () => {
    const reports: LayerProgress[] = [];
    const tracker = new LayerProgressTracker((p) => reports.push(p));
    const reader = tracker.track(bodyOf([50, 50]), { ...blob, offsetBytes: 200 })!.getReader();
    while (!(await reader.read()).done);
    expect(reports[0]).toMatchObject({ loadedBytes: 200, totalBytes: 300, state: 'downloading' });
    expect(reports.at(-1)).toMatchObject({ loadedBytes: 300, state: 'done' });
    expect(reports[0]).not.toHaveProperty('offsetBytes');
  });

  it('says failed when dockerd hangs up mid-layer', async () => {
    const reports: LayerProgress[] = [];
    const tracker = new LayerProgressTracker((p) => reports.push(p));
    await tracker.track(bodyOf([10, 10]), blob)!.cancel('gone');
    expect(reports.at(-1)?.state).toBe('failed');
  });

  it('reads the total from Content-Range or Content-Length', () => {
    expect(blobTotalBytes(new Headers({ 'content-range': 'bytes 100-199/1000', 'content-length': '100' }))).toBe(1000);
    expect(blobTotalBytes(new Headers({ 'content-length': '42' }))).toBe(42);
    expect(blobTotalBytes(new Headers())).toBe(0);
    expect(blobOffsetBytes(new Headers({ 'content-range': 'bytes 100-199/1000' }))).toBe(100);
    expect(blobOffsetBytes(new Headers({ 'content-length': '42' }))).toBe(0);
  });
});
