// v86 0.5.462 opens connections into the guest (fake_network.js, TCPConnection.prototype.connect) with a SYN
// that carries no MSS option, so the guest falls back to 536-byte segments (RFC 9293 §3.7.1) and a preview
// response needs almost three times the segments v86's MTU allows. This adds the option to that one frame on
// its way to the guest: the SYN leaves through the adapter's `receive(frame)` while connect() runs.

const ETH_HEADER_BYTES = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IP_PROTO_TCP = 6;
const TCP_FLAG_SYN = 0x02;
const TCP_HEADER_BYTES = 20;

function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (i + 1 < end ? (bytes[i + 1] ?? 0) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The frame with an MSS option added if it is an IPv4 TCP SYN without options; otherwise the frame itself. */
export function addMssToSyn(frame: Uint8Array, mss: number): Uint8Array {
  if (frame.length < ETH_HEADER_BYTES + 20 + TCP_HEADER_BYTES) return frame;
  if ((((frame[12] ?? 0) << 8) | (frame[13] ?? 0)) !== ETHERTYPE_IPV4) return frame;
  const ip = ETH_HEADER_BYTES;
  const ipHeaderBytes = ((frame[ip] ?? 0) & 0x0f) * 4;
  if (frame[ip + 9] !== IP_PROTO_TCP || ipHeaderBytes < 20) return frame;
  const tcp = ip + ipHeaderBytes;
  const dataOffsetBytes = ((frame[tcp + 12] ?? 0) >> 4) * 4;
  if (!((frame[tcp + 13] ?? 0) & TCP_FLAG_SYN) || dataOffsetBytes !== TCP_HEADER_BYTES) return frame;
  const ipTotalBytes = ((frame[ip + 2] ?? 0) << 8) | (frame[ip + 3] ?? 0);
  const end = ip + ipTotalBytes;
  if (end > frame.length) return frame;

  const out = new Uint8Array(end + 4);
  out.set(frame.subarray(0, tcp + TCP_HEADER_BYTES));
  out.set([2, 4, (mss >> 8) & 0xff, mss & 0xff], tcp + TCP_HEADER_BYTES);
  out.set(frame.subarray(tcp + TCP_HEADER_BYTES, end), tcp + TCP_HEADER_BYTES + 4);
  out[tcp + 12] = (6 << 4) | ((frame[tcp + 12] ?? 0) & 0x0f);
  const newTotal = ipTotalBytes + 4;
  out[ip + 2] = newTotal >> 8;
  out[ip + 3] = newTotal & 0xff;
  out[ip + 10] = 0;
  out[ip + 11] = 0;
  const ipSum = checksum(out, ip, tcp);
  out[ip + 10] = ipSum >> 8;
  out[ip + 11] = ipSum & 0xff;
  // TCP checksum over the pseudo-header (source, destination, protocol, TCP length) and the segment.
  const tcpBytes = newTotal - ipHeaderBytes;
  out[tcp + 16] = 0;
  out[tcp + 17] = 0;
  const pseudo = new Uint8Array(12);
  pseudo.set(out.subarray(ip + 12, ip + 20));
  pseudo[9] = IP_PROTO_TCP;
  pseudo[10] = tcpBytes >> 8;
  pseudo[11] = tcpBytes & 0xff;
  const pseudoSum = ~checksum(pseudo, 0, 12) & 0xffff;
  const tcpSum = checksum(out, tcp, tcp + tcpBytes, pseudoSum);
  out[tcp + 16] = tcpSum >> 8;
  out[tcp + 17] = tcpSum & 0xff;
  return out;
}

/** The adapter's frame sink (FetchNetworkAdapter.prototype.receive: a frame to the guest's NIC). */
export interface FrameSink {
  receive?(frame: Uint8Array): void;
  mtu?: number;
}

/** Runs `open` (which sends a SYN through `adapter.receive`) with the MSS option added to SYN frames. */
export function withSynMss<T>(adapter: FrameSink, open: () => T): T {
  const original = adapter.receive;
  if (typeof original !== 'function') return open();
  const hadOwn = Object.prototype.hasOwnProperty.call(adapter, 'receive');
  const mss = (adapter.mtu ?? 1500) - 40;
  adapter.receive = (frame: Uint8Array) => original.call(adapter, addMssToSyn(frame, mss));
  try {
    return open();
  } finally {
    if (hadOwn) adapter.receive = original;
    else delete adapter.receive;
  }
}
