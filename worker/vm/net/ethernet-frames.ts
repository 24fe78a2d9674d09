// The few Ethernet/IPv4 frames egress.ts writes to the guest itself, because v86 0.5.462's fake network
// (src/browser/fake_network.js) has no call for them: a TCP reset for a SYN v86 already let through, a window
// update, and a UDP datagram (DNS answers). One parse/write pair, as in v86's own fake_network.js.

const ETH_HEADER_BYTES = 14;
const IPV4_HEADER_BYTES = 20;
const TCP_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const ETHERTYPE_IPV4 = 0x0800;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface Endpoints {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
}

/** RFC 1071 one's-complement sum over [start, end), folded, starting from `initial`. */
function sum16(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (i + 1 < end ? (bytes[i + 1] ?? 0) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function writeHeaders(out: Uint8Array, ends: Endpoints, proto: number, payloadBytes: number): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(ends.dstMac.subarray(0, 6), 0);
  out.set(ends.srcMac.subarray(0, 6), 6);
  view.setUint16(12, ETHERTYPE_IPV4);
  const ip = ETH_HEADER_BYTES;
  view.setUint8(ip, 0x45);
  view.setUint16(ip + 2, IPV4_HEADER_BYTES + payloadBytes);
  view.setUint16(ip + 6, 0x4000); // don't fragment
  view.setUint8(ip + 8, 64);
  view.setUint8(ip + 9, proto);
  out.set(ends.srcIp.subarray(0, 4), ip + 12);
  out.set(ends.dstIp.subarray(0, 4), ip + 16);
  view.setUint16(ip + 10, ~sum16(out, ip, ip + IPV4_HEADER_BYTES) & 0xffff);
  return view;
}

function pseudoHeaderSum(ends: Endpoints, proto: number, length: number): number {
  const pseudo = new Uint8Array(12);
  pseudo.set(ends.srcIp.subarray(0, 4), 0);
  pseudo.set(ends.dstIp.subarray(0, 4), 4);
  pseudo[9] = proto;
  pseudo[10] = length >> 8;
  pseudo[11] = length & 0xff;
  return sum16(pseudo, 0, 12);
}

/** A TCP segment without options or data, e.g. RST|ACK or a bare ACK carrying a window update. */
export function tcpFrame(ends: Endpoints, segment: { seq: number; ack: number; flags: number; window: number }): Uint8Array {
  const out = new Uint8Array(ETH_HEADER_BYTES + IPV4_HEADER_BYTES + TCP_HEADER_BYTES);
  const view = writeHeaders(out, ends, IP_PROTO_TCP, TCP_HEADER_BYTES);
  const tcp = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;
  view.setUint16(tcp, ends.srcPort);
  view.setUint16(tcp + 2, ends.dstPort);
  view.setUint32(tcp + 4, segment.seq >>> 0);
  view.setUint32(tcp + 8, segment.ack >>> 0);
  view.setUint8(tcp + 12, (TCP_HEADER_BYTES / 4) << 4);
  view.setUint8(tcp + 13, segment.flags);
  view.setUint16(tcp + 14, Math.max(0, Math.min(0xffff, segment.window)));
  view.setUint16(tcp + 16, ~sum16(out, tcp, tcp + TCP_HEADER_BYTES, pseudoHeaderSum(ends, IP_PROTO_TCP, TCP_HEADER_BYTES)) & 0xffff);
  return out;
}

/** A UDP datagram (checksum computed; RFC 768 allows 0 over IPv4, but a real one costs nothing here). */
export function udpFrame(ends: Endpoints, payload: Uint8Array): Uint8Array {
  const length = UDP_HEADER_BYTES + payload.length;
  const out = new Uint8Array(ETH_HEADER_BYTES + IPV4_HEADER_BYTES + length);
  const view = writeHeaders(out, ends, IP_PROTO_UDP, length);
  const udp = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;
  view.setUint16(udp, ends.srcPort);
  view.setUint16(udp + 2, ends.dstPort);
  view.setUint16(udp + 4, length);
  out.set(payload, udp + UDP_HEADER_BYTES);
  const checksum = ~sum16(out, udp, udp + length, pseudoHeaderSum(ends, IP_PROTO_UDP, length)) & 0xffff;
  view.setUint16(udp + 6, checksum === 0 ? 0xffff : checksum);
  return out;
}

export interface UdpDatagram extends Endpoints {
  payload: Uint8Array;
}

/** The UDP datagram in an Ethernet frame from the guest, or undefined for anything else or anything malformed. */
export function parseUdpFrame(frame: Uint8Array): UdpDatagram | undefined {
  if (frame.length < ETH_HEADER_BYTES + IPV4_HEADER_BYTES + UDP_HEADER_BYTES) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint16(12) !== ETHERTYPE_IPV4) return undefined;
  const ip = ETH_HEADER_BYTES;
  const versionIhl = view.getUint8(ip);
  const ihl = (versionIhl & 0x0f) * 4;
  if (versionIhl >> 4 !== 4 || ihl < IPV4_HEADER_BYTES || view.getUint8(ip + 9) !== IP_PROTO_UDP) return undefined;
  // Fragments (more-fragments flag or an offset) are not reassembled here; DNS queries are never fragmented.
  if ((view.getUint16(ip + 6) & 0x3fff) !== 0) return undefined;
  const ipTotal = view.getUint16(ip + 2);
  const udp = ip + ihl;
  if (ipTotal < ihl + UDP_HEADER_BYTES || ip + ipTotal > frame.length) return undefined;
  const udpLength = view.getUint16(udp + 4);
  if (udpLength < UDP_HEADER_BYTES || udp + udpLength > ip + ipTotal) return undefined;
  return {
    dstMac: frame.slice(0, 6),
    srcMac: frame.slice(6, 12),
    srcIp: frame.slice(ip + 12, ip + 16),
    dstIp: frame.slice(ip + 16, ip + 20),
    srcPort: view.getUint16(udp),
    dstPort: view.getUint16(udp + 2),
    payload: frame.slice(udp + UDP_HEADER_BYTES, udp + udpLength),
  };
}

export function ipv4ToString(bytes: Uint8Array): string {
  return `${bytes[0] ?? 0}.${bytes[1] ?? 0}.${bytes[2] ?? 0}.${bytes[3] ?? 0}`;
}
