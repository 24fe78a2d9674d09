// Types for the server half of @mercuryworkshop/wisp-js 0.5.0 (src/server/*.mjs, src/packet.mjs, src/logging.mjs).

declare module '@mercuryworkshop/wisp-js/server' {
  export namespace server {
    /** What ServerStream needs from a socket (src/server/net.mjs NodeTCPSocket). */
    interface WispSocketLike {
      hostname: string;
      port: number;
      connect(): Promise<void>;
      recv(): Promise<Uint8Array | null | undefined>;
      send(data: Uint8Array): Promise<void>;
      close(): Promise<void> | void;
      pause(): void;
      resume(): void;
    }
    type WispSocketClass = new (hostname: string, port: number) => WispSocketLike;
    class ServerStream {
      static buffer_size: number;
      constructor(streamId: number, conn: ServerConnection, socket: WispSocketLike);
      stream_id: number;
      socket: WispSocketLike;
      send_buffer: { size: number };
      setup(): Promise<void>;
      close(reason?: number | null): Promise<void>;
      /** Queues a DATA payload for the socket (waits while 128 are queued). */
      put_data(data: Uint8Array): Promise<void>;
    }
    class ServerConnection {
      constructor(
        ws: unknown,
        path: string,
        options?: { TCPSocket?: WispSocketClass; UDPSocket?: WispSocketClass; ping_interval?: number; wisp_version?: 1 | 2 },
      );
      /** wisp-js's AsyncWebSocket around the ws WebSocket. */
      ws: { ws: unknown; send(packet: unknown): Promise<void>; close(code?: number, reason?: string): void };
      conn_id: string;
      streams: Record<number, ServerStream>;
      setup(): Promise<void>;
      run(): Promise<void>;
      cleanup(): Promise<void>;
      create_stream(streamId: number, type: number, hostname: string, port: number): void;
      close_stream(streamId: number, reason?: number | null, quiet?: boolean): Promise<void>;
      route_packet(buffer: packet.WispBuffer): void;
    }
    const options: Record<string, unknown>;
  }
  export namespace packet {
    class WispBuffer {
      constructor(data: Uint8Array | number);
      bytes: Uint8Array;
      view: DataView;
      size: number;
    }
    class WispPacket {
      static min_size: number;
      constructor(init: { type: number; stream_id: number; payload: unknown });
      static parse_all(buffer: WispBuffer): WispPacket;
      type: number;
      stream_id: number;
      serialize(): WispBuffer;
    }
    class ContinuePayload {
      static type: number;
      constructor(init: { buffer_remaining: number });
    }
    class ClosePayload {
      static type: number;
      constructor(init: { reason: number });
    }
    class ConnectPayload {
      static type: number;
      constructor(init: { stream_type: number; port: number; hostname: string });
    }
    class DataPayload {
      static type: number;
      constructor(init: { data: WispBuffer });
    }
    const close_reasons: Record<string, number>;
    const stream_types: { TCP: number; UDP: number };
  }
  export namespace logging {
    const DEBUG: number;
    const INFO: number;
    const WARN: number;
    const ERROR: number;
    const NONE: number;
    function set_level(level: number): void;
  }
}
