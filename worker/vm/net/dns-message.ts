// Just enough of the DNS wire format (RFC 1035 section 4) for the guest's stub resolvers: read a query's
// questions, answer A questions with one address each. Hand-written because the maintained codec (dns-packet)
// is built on Node's Buffer, which the browser worker does not have; it is fuzzed in dns-message.test.ts.

export const DNS_TYPE_A = 1;
export const DNS_CLASS_IN = 1;
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

const HEADER_BYTES = 12;
const MAX_NAME_BYTES = 255;
const MAX_QUESTIONS = 8;

export interface DnsQuestion {
  /** Lower-case, dot-separated, without the trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface DnsQuery {
  id: number;
  flags: number;
  questions: DnsQuestion[];
}

/** A query's header and questions; undefined when the bytes are not one (a response, truncated, looping names). */
export function parseDnsQuery(bytes: Uint8Array): DnsQuery | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if (flags & 0x8000) return undefined; // QR set: a response, not a query
  const count = view.getUint16(4);
  if (count === 0 || count > MAX_QUESTIONS) return undefined;
  const questions: DnsQuestion[] = [];
  let offset = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const read = readName(bytes, offset);
    if (!read || read.next + 4 > bytes.length) return undefined;
    questions.push({ name: read.name, type: view.getUint16(read.next), class: view.getUint16(read.next + 2) });
    offset = read.next + 4;
  }
  return { id, flags, questions };
}

/** Reads a possibly compressed name (RFC 1035 4.1.4); bounded so a pointer loop cannot spin. */
function readName(bytes: Uint8Array, start: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let offset = start;
  let next: number | undefined;
  let nameBytes = 0;
  for (let hops = 0; hops < 128; hops++) {
    if (offset >= bytes.length) return undefined;
    const length = bytes[offset] ?? 0;
    if (length === 0) return { name: labels.join('.').toLowerCase(), next: next ?? offset + 1 };
    if ((length & 0xc0) === 0xc0) {
      if (offset + 1 >= bytes.length) return undefined;
      next ??= offset + 2;
      offset = ((length & 0x3f) << 8) | (bytes[offset + 1] ?? 0);
      continue;
    }
    if (length & 0xc0) return undefined; // the 0x40/0x80 label types are not in use
    if (offset + 1 + length > bytes.length) return undefined;
    nameBytes += length + 1;
    if (nameBytes > MAX_NAME_BYTES) return undefined;
    let label = '';
    for (let i = offset + 1; i <= offset + length; i++) label += String.fromCharCode(bytes[i] ?? 0);
    labels.push(label);
    offset += 1 + length;
  }
  return undefined;
}

function writeName(name: string, out: number[]): void {
  for (const label of name.split('.').filter((part) => part !== '')) {
    const length = Math.min(label.length, 63);
    out.push(length);
    for (let i = 0; i < length; i++) out.push(label.charCodeAt(i) & 0xff);
  }
  out.push(0);
}

function push16(out: number[], value: number): void {
  out.push((value >> 8) & 0xff, value & 0xff);
}

/**
 * The response to `query`: its questions echoed, one A record for each question that `answer` gives an address
 * for (type A, class IN), nothing for the rest (AAAA and others get an empty NOERROR, so clients use IPv4).
 */
export function buildDnsResponse(
  query: DnsQuery,
  answer: (question: DnsQuestion) => Uint8Array | undefined,
  options: { ttlSeconds?: number; rcode?: number } = {},
): Uint8Array {
  const out: number[] = [];
  const answers: Array<{ question: DnsQuestion; address: Uint8Array }> = [];
  if (options.rcode === undefined) {
    for (const question of query.questions) {
      if (question.type !== DNS_TYPE_A || question.class !== DNS_CLASS_IN) continue;
      const address = answer(question);
      if (address) answers.push({ question, address });
    }
  }
  push16(out, query.id);
  // QR, the query's opcode and RD, RA set; rcode.
  push16(out, 0x8000 | (query.flags & 0x7900) | 0x0080 | ((options.rcode ?? RCODE_NOERROR) & 0x0f));
  push16(out, query.questions.length);
  push16(out, answers.length);
  push16(out, 0);
  push16(out, 0);
  for (const question of query.questions) {
    writeName(question.name, out);
    push16(out, question.type);
    push16(out, question.class);
  }
  const ttl = options.ttlSeconds ?? 10;
  for (const { question, address } of answers) {
    writeName(question.name, out);
    push16(out, DNS_TYPE_A);
    push16(out, DNS_CLASS_IN);
    push16(out, (ttl >>> 16) & 0xffff);
    push16(out, ttl & 0xffff);
    push16(out, 4);
    out.push(address[0] ?? 0, address[1] ?? 0, address[2] ?? 0, address[3] ?? 0);
  }
  return Uint8Array.from(out);
}
