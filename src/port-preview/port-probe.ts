// One probe of a guest port for the preview's wait (port-wait.ts), through the same path a preview's requests take
// (the VM's forwardGuestHttp: a TCP connection into the guest port): a GET / whose response head is enough.
import type { GuestHttpControl } from '../../worker/shared/contract.ts';
import { firstIssue, guestHttpMessageSchema } from '../../worker/shared/preview-protocol.ts';
import type { PreviewVm } from './preview-connection.ts';
import { classifyProbeError, type ProbeResult } from './port-wait.ts';

/** The VM's own limits (a 5 s connect, retried) end a probe first; this only catches a VM that never answers. */
const PROBE_TIMEOUT_MS = 30_000;

export function probePort(vm: PreviewVm | undefined, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  if (!vm) {
    return Promise.resolve({ kind: 'failed', code: 'vm-not-running', message: `The VM is not running, so port ${port} cannot be reached. Restart it, start the container again, then open the port.` });
  }
  return new Promise<ProbeResult>((resolve) => {
    const channel = new MessageChannel();
    const end = (result: ProbeResult) => {
      clearTimeout(timer);
      // Only the head was wanted: the VM stops reading the body and closes the guest connection.
      const cancel: GuestHttpControl = { type: 'cancel' };
      channel.port1.postMessage(cancel);
      channel.port1.close();
      resolve(result);
    };
    const timer = setTimeout(
      () => end(classifyProbeError('probe-timeout', `The VM did not answer a probe of port ${port} within ${Math.round(timeoutMs / 1000)} s.`)),
      timeoutMs,
    );
    channel.port1.onmessage = (event: MessageEvent<unknown>) => {
      const parsed = guestHttpMessageSchema.safeParse(event.data);
      if (!parsed.success) {
        end({ kind: 'failed', code: 'bad-response', message: `The VM answered a probe with a message the page cannot read (${firstIssue(parsed.error)}).` });
        return;
      }
      const message = parsed.data;
      switch (message.type) {
        case 'head':
          end({ kind: 'answered' });
          return;
        case 'error':
          end(classifyProbeError(message.code, message.message));
          return;
        case 'data':
        case 'end':
          // After a head only, which already ended the probe.
          return;
        default: {
          const unknown: never = message;
          throw new Error(`unknown guest HTTP message ${JSON.stringify(unknown)}`);
        }
      }
    };
    vm.forwardGuestHttp({ port, method: 'GET', target: '/', headers: [['accept', 'text/html,*/*']] }, channel.port2);
  });
}
