// Which guest ports the port preview may reach: never the Docker daemon's API (root on the guest), nothing while
// the VM does not run, and any other port through v86's network adapter.
import { describe, expect, it } from 'vitest';
import type { GuestDialer } from './guest-http-client.ts';
import { previewFetch } from './guest-http-port.ts';

const request = (port: number) => ({ port, method: 'GET', target: '/', headers: [] as Array<[string, string]> });

describe('previewFetch', () => {
  it("refuses the Engine API's port even while the VM runs, without dialing", async () => {
    let dialed = false;
    const dialer = { connect: () => ((dialed = true), undefined) } as unknown as GuestDialer;
    await expect(previewFetch(dialer, 'running', request(2375))).rejects.toMatchObject({ code: 'bad-request', message: expect.stringContaining("Docker daemon's own API") });
    expect(dialed).toBe(false);
  });

  it('says the VM is not running, and in which state it is', async () => {
    await expect(previewFetch(undefined, 'booting', request(8080))).rejects.toMatchObject({ code: 'vm-not-running', message: expect.stringContaining('The VM is booting, so port 8080') });
  });
});
