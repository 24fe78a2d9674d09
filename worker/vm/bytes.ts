// Byte plumbing the VM worker's parts share: joining chunks into one buffer, and reading a fetch body whole
// (with a size limit or progress), so each reader does not carry its own copy of the loop.

export function concatBytes(chunks: readonly Uint8Array[], totalBytes?: number): Uint8Array<ArrayBuffer> {
  const size = totalBytes ?? chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

export interface ReadBodyOptions {
  /** Past this many bytes the read is cancelled and readBody answers undefined. */
  maxBytes?: number;
  /** Bytes read so far, after each chunk. */
  onBytes?: (loadedBytes: number) => void;
}

/** The whole body of `response`; undefined when it is longer than `maxBytes`. */
export async function readBody(response: Response, options: ReadBodyOptions = {}): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (response.body === null) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loadedBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loadedBytes += value.length;
    if (options.maxBytes !== undefined && loadedBytes > options.maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
    options.onBytes?.(loadedBytes);
  }
  return concatBytes(chunks, loadedBytes);
}
