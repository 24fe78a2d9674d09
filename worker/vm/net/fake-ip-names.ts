// How a name reaches the relay: the worker's DNS answers each name with an address of its own from 198.18.0.0/15
// (RFC 2544's benchmarking range, the "fake-IP" range DNS-mapping proxies use) and maps the address back when the
// guest connects, so the relay receives the NAME and resolves it itself, where its policy checks the result.
// The range is outside Docker's default address pools (172.17-31.0.0/16, 192.168.0.0/16 in /20s) and the
// shim's 192.168.87.0/24, which daemon.json lists as insecure: a relayed registry keeps its TLS checks.

export const FAKE_IP_FIRST = (198 << 24) | (18 << 16); // 198.18.0.0
export const FAKE_IP_COUNT = 1 << 17; // a /15

export function ipv4ToNumber(bytes: ArrayLike<number>): number {
  return (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0;
}

export function numberToIpv4(value: number): Uint8Array {
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function isFakeIp(address: number): boolean {
  const offset = (address - (FAKE_IP_FIRST >>> 0)) >>> 0;
  return offset < FAKE_IP_COUNT;
}

/**
 * Names and their addresses, for one VM. Addresses are handed out in order (skipping .0 and .255 so no tool
 * takes one for a network or broadcast address); when all are taken, the least recently used name gives its up.
 */
export class FakeIpNames {
  private readonly byName = new Map<string, number>();
  private readonly byAddress = new Map<number, string>();
  private nextOffset = 1;

  constructor(private readonly capacity = FAKE_IP_COUNT) {}

  /** The address for `name` (lower-cased, trailing dot removed), assigning one if needed. */
  addressOf(name: string): number {
    const key = name.toLowerCase().replace(/\.$/, '');
    const known = this.byName.get(key);
    if (known !== undefined) {
      // Refresh its place in the recency order.
      this.byName.delete(key);
      this.byName.set(key, known);
      return known;
    }
    let address: number;
    if (this.byName.size >= this.usableCount()) {
      const [oldest, oldAddress] = this.byName.entries().next().value as [string, number];
      this.byName.delete(oldest);
      this.byAddress.delete(oldAddress);
      address = oldAddress;
    } else {
      address = this.takeFreeAddress();
    }
    this.byName.set(key, address);
    this.byAddress.set(address, key);
    return address;
  }

  /** The name an address was handed out for, or undefined (never handed out, or given to another name since). */
  nameOf(address: number): string | undefined {
    return this.byAddress.get(address >>> 0);
  }

  get size(): number {
    return this.byName.size;
  }

  private usableCount(): number {
    // Per 256 addresses, two (.0 and .255) are skipped.
    return Math.min(this.capacity, FAKE_IP_COUNT - 2 * (FAKE_IP_COUNT / 256));
  }

  private takeFreeAddress(): number {
    for (;;) {
      const offset = this.nextOffset++ % FAKE_IP_COUNT;
      const low = offset & 0xff;
      if (low === 0 || low === 0xff) continue;
      const address = (FAKE_IP_FIRST + offset) >>> 0;
      if (!this.byAddress.has(address)) return address;
    }
  }
}
