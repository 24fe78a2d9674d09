import { describe, expect, it } from 'vitest';
import type { LayerProgress } from '../../shared/engine-contract.ts';
import { blobTotalBytes, LayerProgressTracker } from './layer-progress.ts';

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
    tracker.noteManifest(new TextEncoder().encode('{"config":{"digest":"sha256:cfg"},"layers":[]}'));
    tracker.noteManifest(new TextEncoder().encode('<html>'));
    const body = bodyOf([10]);
    expect(tracker.track(body, { ...blob, digest: 'sha256:cfg' })).toBe(body);
    expect(reports).toEqual([]);
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
  });
});
