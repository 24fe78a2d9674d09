import { describe, expect, it } from 'vitest';
import { buildDnsResponse, DNS_CLASS_IN, DNS_TYPE_A, parseDnsQuery, RCODE_SERVFAIL, type DnsQuery } from './dns-message.ts';

/** A query as a stub resolver sends it: id, RD set, one question. */
function query(name: string, type = DNS_TYPE_A, id = 0x1234): Uint8Array {
  const bytes = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split('.')) bytes.push(label.length, ...[...label].map((c) => c.charCodeAt(0)));
  bytes.push(0, type >> 8, type & 0xff, 0, DNS_CLASS_IN);
  return Uint8Array.from(bytes);
}

describe('DNS messages', () => {
  it('reads a query and answers its A question with the address given', () => {
    const parsed = parseDnsQuery(query('Example.COM'))!;
    expect(parsed).toEqual({ id: 0x1234, flags: 0x0100, questions: [{ name: 'example.com', type: DNS_TYPE_A, class: DNS_CLASS_IN }] });
    const response = buildDnsResponse(parsed, () => Uint8Array.of(198, 18, 0, 1));
    const view = new DataView(response.buffer);
    expect(view.getUint16(0)).toBe(0x1234);
    expect(view.getUint16(2) & 0x8000).toBe(0x8000); // a response
    expect(view.getUint16(2) & 0x0100).toBe(0x0100); // RD echoed
    expect(view.getUint16(2) & 0x000f).toBe(0); // NOERROR
    expect(view.getUint16(6)).toBe(1); // one answer
    expect([...response.subarray(-4)]).toEqual([198, 18, 0, 1]);
  });

  it('answers AAAA and other types with no records, so clients fall back to IPv4', () => {
    const parsed = parseDnsQuery(query('example.com', 28))!;
    const response = buildDnsResponse(parsed, () => Uint8Array.of(1, 2, 3, 4));
    expect(new DataView(response.buffer).getUint16(6)).toBe(0);
  });

  it('can answer with an error code', () => {
    const parsed: DnsQuery = parseDnsQuery(query('example.com'))!;
    const response = buildDnsResponse(parsed, () => Uint8Array.of(1, 2, 3, 4), { rcode: RCODE_SERVFAIL });
    expect(new DataView(response.buffer).getUint16(2) & 0x0f).toBe(RCODE_SERVFAIL);
    expect(new DataView(response.buffer).getUint16(6)).toBe(0);
  });

  it('follows compression pointers and refuses pointer loops, responses and truncated queries', () => {
    const looped = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(parseDnsQuery(looped)).toBeUndefined();
    const response = query('example.com');
    response[2] = 0x81;
    expect(parseDnsQuery(response)).toBeUndefined();
    const whole = query('example.com');
    for (let cut = 0; cut < whole.length; cut++) expect(parseDnsQuery(whole.subarray(0, cut))).toBeUndefined();
  });

  it('never throws on random bytes (fuzz)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 5000; round++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256));
      if (random() < 0.5 && bytes.length > 5) {
        bytes[2] = 0x01; // make more of them look like queries
        bytes[4] = 0;
        bytes[5] = 1 + Math.floor(random() * 2);
      }
      const parsed = parseDnsQuery(bytes);
      if (parsed) expect(() => buildDnsResponse(parsed, () => Uint8Array.of(198, 18, 0, 1))).not.toThrow();
    }
  });
});
