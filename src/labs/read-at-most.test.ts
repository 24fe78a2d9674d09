import { describe, expect, it } from 'vitest';
import { readAtMost } from './read-at-most.ts';

function streamOf(chunks: Uint8Array[], onCancel?: () => void, failAfter?: number): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAfter !== undefined && index === failAfter) {
        controller.error(new Error('connection reset'));
        return;
      }
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
    cancel: () => onCancel?.(),
  });
}

describe('readAtMost', () => {
  it('joins the chunks of a stream within the limit', async () => {
    const result = await readAtMost(streamOf([new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5])]), 5);
    expect(result).toEqual({ kind: 'bytes', bytes: new Uint8Array([1, 2, 3, 4, 5]) });
  });

  it('reads an empty stream as no bytes', async () => {
    expect(await readAtMost(streamOf([]), 10)).toEqual({ kind: 'bytes', bytes: new Uint8Array(0) });
  });

  it('stops at the first chunk past the limit and cancels the stream', async () => {
    let cancelled = false;
    let pulled = 0;
    const chunks = Array.from({ length: 100 }, () => new Uint8Array(4));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[pulled++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
      cancel: () => {
        cancelled = true;
      },
    });
    expect(await readAtMost(stream, 10)).toEqual({ kind: 'too-large' });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });

  it('reports a stream that errors midway, with its error', async () => {
    const result = await readAtMost(streamOf([new Uint8Array([1])], undefined, 1), 10);
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && String(result.error)).toContain('connection reset');
  });
});
