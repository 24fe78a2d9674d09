// Console throughput, guest to host: the same bytes written to hvc0 (virtio console, bulk transfers) and to
// ttyS0 (16550 UART, one interrupt per byte), counted on the host as they arrive.
import type { VmHost } from '../../../worker/vm/vm-host.ts';
import type { BenchSection } from './section.ts';
import { roundMs } from './section.ts';

/** How many 'A's `base64` prints for n zero bytes: 4 per full 3-byte group, then 2 or 3 before the padding. */
export function base64LettersForZeros(bytes: number): number {
  const rest = bytes % 3;
  return Math.floor(bytes / 3) * 4 + (rest === 1 ? 2 : rest === 2 ? 3 : 0);
}

const LETTER_A = 0x41;

async function measure(
  host: VmHost,
  device: '/dev/hvc0' | '/dev/ttyS0',
  inputBytes: number,
  subscribe: (onBytes: (bytes: Uint8Array) => void) => () => void,
): Promise<Record<string, number | string>> {
  const expected = base64LettersForZeros(inputBytes);
  let seen = 0;
  let totalBytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const unsubscribe = subscribe((bytes) => {
    totalBytes += bytes.length;
    for (const byte of bytes) if (byte === LETTER_A) seen++;
    if (seen >= expected) done();
  });
  const startedMs = performance.now();
  // Written through the tty layer as a program's output would be (onlcr included); only the 'A's are counted.
  const exec = host.exec(`head -c ${inputBytes} /dev/zero | base64 > ${device}`, { timeoutMs: 600_000 });
  await Promise.all([finished, exec]);
  const elapsedMs = performance.now() - startedMs;
  unsubscribe();
  return {
    device,
    inputBytes,
    receivedBytes: totalBytes,
    elapsedMs: roundMs(elapsedMs),
    kibPerSecond: Math.round(totalBytes / 1024 / (elapsedMs / 1000)),
  };
}

export const consoleThroughputSection: BenchSection = {
  name: 'consoleThroughput',
  async run({ host, log }) {
    const hvcInputBytes = 1_000_000;
    const hvc = await measure(host, '/dev/hvc0', hvcInputBytes, (onBytes) => {
      const id = host.subscribe((event) => {
        if (event.type === 'console') onBytes(event.data);
      });
      return () => host.unsubscribe(id);
    });
    log(`hvc0: ${JSON.stringify(hvc)}`);
    // The UART is far slower; a smaller sample keeps the bench short and gives the same rate.
    const uartInputBytes = Number(process.env.TABDOCK_BENCH_UART_BYTES ?? 100_000);
    const uart = await measure(host, '/dev/ttyS0', uartInputBytes, (onBytes) =>
      host.probe.onSerialByte((byte) => onBytes(Uint8Array.of(byte))),
    );
    log(`ttyS0: ${JSON.stringify(uart)}`);
    return { hvc0: hvc, ttyS0: uart, speedup: Math.round((Number(hvc.kibPerSecond) / Number(uart.kibPerSecond)) * 10) / 10 };
  },
};
