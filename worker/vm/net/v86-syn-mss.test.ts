import { describe, expect, it } from 'vitest';
import { addMssToSyn, withSynMss } from './v86-syn-mss.ts';

/** An Ethernet + IPv4 + TCP SYN as v86 builds it: no options, window 0, correct checksums. */
function synFrame(): Uint8Array {
  const hex =
    '525400123456' + '525400010203' + '0800' +
    '4500002809290000' + '4006' + '0000' + 'c0a85601' + 'c0a85664' +
    'c4d81f90' + '00000539' + '00000000' + '5002' + '0000' + '0000' + '0000';
  const frame = Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
  return fixChecksums(frame);
}

function sum16(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (i + 1 < end ? (bytes[i + 1] ?? 0) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Independent check: a header whose checksum is right sums to 0xffff. */
function checksumsOk(frame: Uint8Array): { ip: boolean; tcp: boolean } {
  const ihl = ((frame[14] ?? 0) & 0x0f) * 4;
  const total = ((frame[16] ?? 0) << 8) | (frame[17] ?? 0);
  const tcpLen = total - ihl;
  const pseudo = [...frame.subarray(26, 34), 0, 6, tcpLen >> 8, tcpLen & 0xff];
  const pseudoSum = sum16(Uint8Array.from(pseudo), 0, 12);
  return { ip: sum16(frame, 14, 14 + ihl) === 0xffff, tcp: sum16(frame, 14 + ihl, 14 + total, pseudoSum) === 0xffff };
}

/** Fills in the fixture's checksums with the test's own arithmetic, not the module's. */
function fixChecksums(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  copy[24] = 0;
  copy[25] = 0;
  const ip = (~sum16(copy, 14, 34)) & 0xffff;
  copy[24] = ip >> 8;
  copy[25] = ip & 0xff;
  copy[50] = 0;
  copy[51] = 0;
  const pseudo = Uint8Array.from([...copy.subarray(26, 34), 0, 6, 0, 20]);
  const tcp = (~sum16(copy, 34, 54, sum16(pseudo, 0, 12))) & 0xffff;
  copy[50] = tcp >> 8;
  copy[51] = tcp & 0xff;
  return copy;
}

describe('addMssToSyn', () => {
  it('adds a 4-byte MSS option, fixes lengths and both checksums', () => {
    const before = synFrame();
    expect(checksumsOk(before)).toEqual({ ip: true, tcp: true });
    const after = addMssToSyn(before, 1460);
    expect(after.length).toBe(before.length + 4);
    expect((after[46] ?? 0) >> 4).toBe(6);
    expect([...after.subarray(54, 58)]).toEqual([2, 4, 0x05, 0xb4]);
    expect(((after[16] ?? 0) << 8) | (after[17] ?? 0)).toBe(44);
    expect(checksumsOk(after)).toEqual({ ip: true, tcp: true });
    expect([...after.subarray(0, 14)]).toEqual([...before.subarray(0, 14)]);
  });

  it('leaves other frames alone', () => {
    const ack = synFrame();
    ack[47] = 0x10;
    expect(addMssToSyn(ack, 1460)).toBe(ack);
    const arp = synFrame();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(addMssToSyn(arp, 1460)).toBe(arp);
  });
});

describe('withSynMss', () => {
  it('rewrites frames sent while opening, then restores the prototype method', () => {
    const sent: Uint8Array[] = [];
    class Adapter {
      mtu = 1500;
      receive(frame: Uint8Array): void {
        sent.push(frame);
      }
    }
    const adapter = new Adapter();
    const result = withSynMss(adapter, () => {
      adapter.receive(synFrame());
      return 'opened';
    });
    expect(result).toBe('opened');
    expect(sent[0]?.length).toBe(synFrame().length + 4);
    expect(Object.prototype.hasOwnProperty.call(adapter, 'receive')).toBe(false);
    adapter.receive(synFrame());
    expect(sent[1]?.length).toBe(synFrame().length);
  });
});
