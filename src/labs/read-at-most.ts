// Reads a byte stream into one buffer, giving up (and cancelling the stream) once it passes a size limit.
// Used for fetched lab files and for decompressing #lab= links, so neither can be made to fill memory.

export type ReadAtMostResult =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'too-large' }
  | { kind: 'failed'; error: unknown };

/**
 * Reads `stream` to its end. More than `maxBytes` in total cancels the stream and answers 'too-large'; a
 * read that rejects (network drop, corrupt compressed data, an abort) answers 'failed' with the error.
 */
export async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<ReadAtMostResult> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        // cancel() rejects only if the stream already errored; the answer is 'too-large' either way.
        await reader.cancel().catch((error: unknown) => console.warn('tabdock labs: cancelling an oversized stream failed', error));
        return { kind: 'too-large' };
      }
      chunks.push(value);
    }
  } catch (error) {
    return { kind: 'failed', error };
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { kind: 'bytes', bytes };
}
