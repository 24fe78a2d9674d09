// Types for the parts of @mercuryworkshop/wisp-js 0.5.0 (which ships none) that tabdock uses, read in its
// src/client/connection.mjs, src/server/connection.mjs and src/packet.mjs. Check them when upgrading it.

declare module '@mercuryworkshop/wisp-js/client' {
  export namespace client {
    class ClientStream {
      stream_id: number;
      buffer_size: number;
      send_buffer: Uint8Array[];
      open: boolean;
      onopen: () => void;
      onclose: (reason?: number) => void;
      onmessage: (data: Uint8Array) => void;
      send(data: Uint8Array): void;
      close(reason?: number): void;
      continue_received(bufferRemaining: number): void;
    }
    class ClientConnection {
      constructor(url: string, options?: { wisp_version?: 1 | 2 });
      ws: WebSocket;
      connected: boolean;
      connecting: boolean;
      wisp_version: number;
      active_streams: Record<number, ClientStream>;
      onopen: () => void;
      onclose: () => void;
      onerror: () => void;
      on_ws_msg(event: MessageEvent): void;
      /** Opens this.ws and sets its handlers; also called again by its onerror to retry with Wisp v1 after a failed v2 one. */
      connect_ws(): void;
      create_stream(hostname: string, port: number, type?: 'tcp' | 'udp'): ClientStream;
      close(): void;
    }
  }
}
