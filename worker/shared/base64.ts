// Base64 for the guest agent's line protocol and the page's file transfers (both ride on it). Dependency-free,
// so the page can import it without pulling in the worker.

export function encodeBase64(bytes: Uint8Array): string {
  // btoa takes a "binary string"; build it in slices so a large argument list never overflows the stack.
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary);
}

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
