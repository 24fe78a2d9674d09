// HTTP by hand over a TCP socket on 127.0.0.1, for tests that send what fetch and ws refuse to send: malformed
// requests, chosen Host and Origin headers, raw WebSocket frames after an upgrade.
import net from 'node:net';

/** Writes raw bytes on a fresh connection; resolves with the answer's status line ('' if it closed without one). */
export function statusLine(url: string, bytes: Uint8Array | string, timeoutMs = 2000): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let received = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.split('\r\n')[0] ?? '');
    });
  });
}

/**
 * A socket after a completed WebSocket upgrade to `path`, with the Host of `url` and no Origin (what a non-browser
 * client sends) unless `headers` say otherwise; rejects with the status line when the server refuses.
 */
export function upgraded(url: string, path: string, headers: { host?: string; origin?: string } = {}): Promise<net.Socket> {
  const { port } = new URL(url);
  const host = headers.host ?? new URL(url).host;
  const origin = headers.origin === undefined ? '' : `Origin: ${headers.origin}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${origin}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}
