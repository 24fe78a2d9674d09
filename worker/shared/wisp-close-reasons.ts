// Wisp close reasons (Wisp protocol v2 spec, "0x04 - CLOSE") both ways: the reason the relay sends for each refusal
// code (worker/proxy/node/wisp-relay.ts), and the refusal, with a sentence, the worker's dialer makes of a reason it
// receives (worker/vm/net/wisp-dialer.ts). Numbers as in the spec (and wisp-js's packet.close_reasons).
import { RelayRefusal, type RefusalCode } from './relay-refusal.ts';

export const WISP_CLOSE = {
  Unknown: 0x01,
  Voluntary: 0x02,
  NetworkError: 0x03,
  InvalidInfo: 0x41,
  UnreachableHost: 0x42,
  NoResponse: 0x43,
  ConnRefused: 0x44,
  TransferTimeout: 0x47,
  HostBlocked: 0x48,
  ConnThrottled: 0x49,
} as const;

const REASON_FOR: Record<RefusalCode, number> = {
  'bad-target': WISP_CLOSE.HostBlocked,
  'port-not-allowed': WISP_CLOSE.HostBlocked,
  'host-port-not-allowed': WISP_CLOSE.HostBlocked,
  'address-not-allowed': WISP_CLOSE.HostBlocked,
  'not-resolved': WISP_CLOSE.UnreachableHost,
  'too-many-streams': WISP_CLOSE.ConnThrottled,
  'relay-busy': WISP_CLOSE.ConnThrottled,
  'byte-limit': WISP_CLOSE.ConnThrottled,
  'buffer-full': WISP_CLOSE.ConnThrottled,
  'connect-refused': WISP_CLOSE.ConnRefused,
  'connect-timeout': WISP_CLOSE.NoResponse,
  'idle-timeout': WISP_CLOSE.TransferTimeout,
  'connect-failed': WISP_CLOSE.NetworkError,
  'relay-unreachable': WISP_CLOSE.NetworkError,
};

/** The reason the relay sends when it closes a stream for `error` (anything but a refusal: a network error). */
export function closeReasonFor(error: unknown): number {
  return error instanceof RelayRefusal ? REASON_FOR[error.code] : WISP_CLOSE.NetworkError;
}

const REFUSAL_FOR: Record<number, [RefusalCode, string]> = {
  [WISP_CLOSE.InvalidInfo]: ['bad-target', 'the relay rejected the stream as invalid'],
  [WISP_CLOSE.UnreachableHost]: ['not-resolved', 'the relay could not resolve or reach the host'],
  [WISP_CLOSE.NoResponse]: ['connect-timeout', 'the host did not answer the relay in time'],
  [WISP_CLOSE.ConnRefused]: ['connect-refused', 'the host refused the connection'],
  [WISP_CLOSE.TransferTimeout]: ['idle-timeout', 'the relay closed the idle connection'],
  [WISP_CLOSE.HostBlocked]: [
    'address-not-allowed',
    "the relay's policy blocks it (by default only ports 80 and 443 of public addresses, and host.tabdock.internal only on ports allowed with --allow-host-port)",
  ],
  [WISP_CLOSE.ConnThrottled]: ['too-many-streams', 'the relay limits connections and data per client; try again later'],
};

/** The refusal a dialer reports for a stream to `target` that the relay closed with `reason`. */
export function refusalForCloseReason(reason: number | undefined, target: string): RelayRefusal {
  const [code, message] = REFUSAL_FOR[reason ?? 0] ?? ['connect-failed', `the relay closed the connection (reason 0x${(reason ?? 0).toString(16)})`];
  return new RelayRefusal(code, `${target}: ${message}`);
}
