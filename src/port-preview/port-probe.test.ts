// A probe goes the preview's own way (the VM's forwardGuestHttp) and turns its first message into a ProbeResult.
import { describe, expect, it } from 'vitest';
import type { GuestHttpMessage, GuestHttpRequest } from '../../worker/shared/contract.ts';
import { probePort } from './port-probe.ts';

function vmAnswering(messages: GuestHttpMessage[]) {
  const requests: GuestHttpRequest[] = [];
  const controls: unknown[] = [];
  return {
    requests,
    controls,
    vm: {
      forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort) {
        requests.push(request);
        reply.onmessage = (event) => controls.push(event.data);
        for (const message of messages) reply.postMessage(message);
      },
    },
  };
}

describe('probePort', () => {
  it("answers 'answered' on a response head and cancels the body", async () => {
    const fake = vmAnswering([{ type: 'head', status: 200, statusText: 'OK', headers: [] }]);
    await expect(probePort(fake.vm, 8080)).resolves.toEqual({ kind: 'answered' });
    expect(fake.requests).toEqual([{ port: 8080, method: 'GET', target: '/', headers: [['accept', 'text/html,*/*']] }]);
  });

  it('waits on a refused port, stops on a stopped VM', async () => {
    const refused = vmAnswering([{ type: 'error', code: 'not-listening', message: 'Nothing in the VM is listening on port 8080.' }]);
    await expect(probePort(refused.vm, 8080)).resolves.toMatchObject({ kind: 'not-yet', code: 'not-listening' });
    await expect(probePort(undefined, 8080)).resolves.toMatchObject({ kind: 'failed', code: 'vm-not-running' });
  });

  it('gives a silent VM a not-yet after its own timeout', async () => {
    const silent = vmAnswering([]);
    await expect(probePort(silent.vm, 8080, 50)).resolves.toMatchObject({ kind: 'not-yet', code: 'probe-timeout' });
  });
});
