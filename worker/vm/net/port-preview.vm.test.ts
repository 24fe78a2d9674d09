// Port preview against the real guest: the agent telling the host about a published port, HTTP requests from
// the host into it through v86's network_adapter.connect (the path the browser's Service Worker uses), and a
// refused port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../vm-host.ts';
import { BOOT_HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS, bootTestVm, run } from '../../node/vm-test-boot.ts';
import { GuestHttpError } from './guest-http-client.ts';

let host: VmHost;
beforeAll(async () => {
  host = await bootTestVm();
}, BOOT_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await host?.shutdown();
});

async function text(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

describe('port preview into the guest', { timeout: TEST_TIMEOUT_MS }, () => {
  it('fetches a page and a binary file from a published container port', async () => {
    // The agent pushes the listening sockets when docker-proxy starts listening on 8080 (0x1F90).
    const pushed: string[] = [];
    const subscription = host.subscribe((event) => {
      if (event.type === 'listening-sockets') pushed.push(event.sockets);
    });
    await run(host, 'docker run -d --name web -p 8080:80 tabdock/httpd');
    await expect.poll(() => pushed.some((sockets) => /:1F90$/m.test(sockets)), { timeout: 60_000, interval: 500 }).toBe(true);
    host.unsubscribe(subscription);
    // httpd needs a moment after `docker run -d` returns; the guest's own wget says when it answers.
    await run(host, 'for i in $(seq 1 30); do timeout 20 busybox wget -qO- http://localhost:8080/ >/dev/null && exit 0; sleep 1; done; exit 1');
    const page = await host.guestFetch({ port: 8080, method: 'GET', target: '/', headers: [['accept', 'text/html']] });
    expect(page.head.status).toBe(200);
    expect(await text(page.body)).toContain('tabdock test page');

    // 100 KiB of known bytes: more than one TCP segment and one parser push.
    await run(host, "docker exec web sh -c 'head -c 102400 /dev/urandom > /www/blob.bin && md5sum /www/blob.bin > /www/blob.md5'");
    const blob = await host.guestFetch({ port: 8080, method: 'GET', target: '/blob.bin', headers: [] });
    expect(blob.head.status).toBe(200);
    const bytes = new Uint8Array(await new Response(blob.body).arrayBuffer());
    expect(bytes.length).toBe(102400);
    const md5 = await text((await host.guestFetch({ port: 8080, method: 'GET', target: '/blob.md5', headers: [] })).body);
    const { createHash } = await import('node:crypto');
    expect(md5.split(' ')[0]).toBe(createHash('md5').update(bytes).digest('hex'));

    const missing = await host.guestFetch({ port: 8080, method: 'GET', target: '/nope.html', headers: [] });
    expect(missing.head.status).toBe(404);
    await missing.body.cancel();
  });

  it('reports a port nothing listens on as not-listening', async () => {
    const failure = await host.guestFetch({ port: 9999, method: 'GET', target: '/', headers: [] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GuestHttpError);
    expect((failure as GuestHttpError).code).toBe('not-listening');
    expect((failure as GuestHttpError).message).toMatch(/Nothing in the VM is listening on port 9999/);
  });
});
