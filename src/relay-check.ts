// The Network dialog's check of a relay URL: open its WebSocket as the worker will (Wisp v2 subprotocol) and wait
// for the relay's first frame (a Wisp server speaks first: INFO or CONTINUE). No stream is opened.

/** Undefined when the relay answered like a Wisp server within the time, else a sentence saying what happened. */
export function checkRelay(url: string, timeoutMs = 5000, Socket: typeof WebSocket = WebSocket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = new Socket(url, 'wisp-v2');
    } catch (error) {
      resolve(`the browser cannot open ${url} (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    socket.binaryType = 'arraybuffer';
    let done = false;
    const finish = (problem: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close();
      resolve(problem);
    };
    const timer = setTimeout(() => finish(`no answer from ${url} within ${timeoutMs / 1000} s`), timeoutMs);
    socket.onmessage = (event) => {
      // Wisp packets are binary: type byte, 4-byte stream id, payload.
      const ok = event.data instanceof ArrayBuffer && event.data.byteLength >= 5;
      finish(ok ? undefined : `${url} answered, but not like a Wisp relay`);
    };
    socket.onerror = () => finish(`${url} refused the WebSocket (wrong URL or token, relay not running, or another origin not allowed)`);
    socket.onclose = () => finish(`${url} closed the WebSocket before answering`);
  });
}
