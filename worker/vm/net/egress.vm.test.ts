// Egress in the real guest (one boot): names resolve to the worker's per-name addresses, containers reach an
// HTTPS server on the host through the harness's relay (--allow-host-port), a `docker build` downloads over
// HTTPS, `docker login` + `docker push` + `docker pull` work against a TLS registry with a password, each
// refusal of the relay policy reaches the guest's curl as a refused connection, not a hang, and a Wisp relay
// that is down turns egress off at once with one notice naming it. Offline: every server is on 127.0.0.1,
// names the policy must refuse come from an injected resolver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmNotice } from '../../shared/contract.ts';
import type { VmHost } from '../vm-host.ts';
import type { EgressNotice } from './egress.ts';
import { RelayNotices } from './relay-notices.ts';
import { SwitchableDialer } from '../../testing/switchable-dialer.ts';
import { WispDialer } from './wisp-dialer.ts';
import { NodeTcpDialer } from '../../proxy/node/tcp-dialer.ts';
import { createNodeVmHost, DEFAULT_ASSET_DIR } from '../../node/node-platform.ts';
import { BOOT_HOOK_TIMEOUT_MS, run, TEST_BOOT_TIMEOUT_MS, TEST_TIMEOUT_MS } from '../../node/vm-test-boot.ts';
import { freePort } from '../../testing/registry.ts';
import { makeCertificates, startHttpsServer, startTlsRegistry, TLS_HOST, type TestCertificates, type TestHttpsServer, type TlsRegistry } from '../../testing/tls.ts';

let host: VmHost;
let certs: TestCertificates;
let https: TestHttpsServer;
let registry: TlsRegistry;
let closedPort: number;
let dialer: SwitchableDialer;
const notices: EgressNotice[] = [];
const pageNotices: VmNotice[] = [];

/** What the injected resolver answers: each name stands for an address class the policy must refuse. */
const REFUSED_NAMES: Record<string, string> = {
  'rebind.test': '127.0.0.1',
  'metadata.test': '169.254.169.254',
  'intranet.test': '10.20.30.40',
};

beforeAll(async () => {
  certs = await makeCertificates();
  https = await startHttpsServer(certs, { '/': 'hello over TLS from the host\n', '/file.txt': 'fetched during docker build\n' });
  registry = await startTlsRegistry(certs);
  closedPort = await freePort();
  dialer = new SwitchableDialer(
    new NodeTcpDialer({
      policy: { hostPorts: [https.port, registry.port] },
      resolve: async (name) => {
        const address = REFUSED_NAMES[name];
        if (address === undefined) throw Object.assign(new Error(`${name} is not a test name`), { code: 'ENOTFOUND' });
        return [address];
      },
    }),
  );
  host = createNodeVmHost({ egress: { dialer, onNotice: (notice) => notices.push(notice) } });
  host.subscribe((event) => {
    if (event.type === 'notice') pageNotices.push(event.notice);
  });
  await host.boot({ assetBase: process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, bootTimeoutMs: TEST_BOOT_TIMEOUT_MS });
  await run(host, 'tabdock-load-image curl');
}, BOOT_HOOK_TIMEOUT_MS);

afterAll(async () => {
  await host?.shutdown();
  await registry?.stop();
  await https?.close();
  await certs?.remove();
});

describe('egress through the relay', () => {
  it('gives each name its own address, and the shim names the shim', async () => {
    const output = await run(host, `busybox nslookup ${TLS_HOST} 2>&1; busybox nslookup mirror.tabdock.internal 2>&1`);
    expect(output).toMatch(/Address(?: \d)?:\s*198\.1[89]\.\d+\.\d+/);
    expect(output).toContain('192.168.87.1');
  }, TEST_TIMEOUT_MS);

  it('runs curl over HTTPS in a container, and refuses what the policy does not allow at once', async () => {
    // One container for every case (a container start costs more than all of them); `timeout` turns a hang
    // into 124, which the assertions then reject.
    const targets = [
      `https://${TLS_HOST}:${closedPort}/`, // a host port not opened with --allow-host-port
      `https://${TLS_HOST}:22/`, // nor this one
      'https://example.com:8443/', // a port outside 80/443 (refused before anything is resolved)
      'https://rebind.test/', // a name that resolves to loopback
      'http://metadata.test/', // a cloud metadata address
      'https://intranet.test/', // a private address
      'https://10.1.2.3/', // a private address, literal
    ];
    const script = [
      `curl -ksS https://${TLS_HOST}:${https.port}/`,
      ...targets.map((url) => `timeout 30 curl -ksS -o /dev/null ${url}; echo "exit=$? ${url}"`),
    ].join('; ');
    const output = await run(host, `docker run --rm tabdock/curl sh -c '${script}'`);
    expect(output).toContain('hello over TLS from the host');
    for (const url of targets) {
      // curl's exit 7: "Failed to connect", which is what a reset answer to the SYN gives.
      expect(output, output).toContain(`exit=7 ${url}`);
    }
    expect(notices.map((notice) => notice.target)).toEqual(
      expect.arrayContaining([`${TLS_HOST}:22`, 'rebind.test:443', 'metadata.test:80', 'intranet.test:443', '10.1.2.3:443']),
    );
  }, TEST_TIMEOUT_MS);

  it('builds an image whose RUN step downloads over HTTPS', async () => {
    const ca = Buffer.from(certs.caPem).toString('base64');
    const dockerfile = Buffer.from(
      [
        'FROM tabdock/curl',
        'COPY ca.crt /ca.crt',
        `RUN curl -sS --cacert /ca.crt -o /fetched.txt https://${TLS_HOST}:${https.port}/file.txt`,
        'CMD ["cat", "/fetched.txt"]',
        '',
      ].join('\n'),
    ).toString('base64');
    await run(host, `mkdir -p /root/egress-build && cd /root/egress-build && echo ${ca} | base64 -d > ca.crt && echo ${dockerfile} | base64 -d > Dockerfile`);
    await run(host, 'cd /root/egress-build && docker build -q -t egress-built .');
    expect(await run(host, 'docker run --rm egress-built')).toContain('fetched during docker build');
  }, TEST_TIMEOUT_MS);

  it('logs in to a TLS registry, pushes the built image, and pulls it back after removing it', async () => {
    const registryName = `${TLS_HOST}:${registry.port}`;
    const ca = Buffer.from(certs.caPem).toString('base64');
    // dockerd trusts a registry's CA from /etc/docker/certs.d/<host:port>/ca.crt, read at each connection.
    await run(host, `mkdir -p /etc/docker/certs.d/${registryName} && echo ${ca} | base64 -d > /etc/docker/certs.d/${registryName}/ca.crt`);
    const login = await run(host, `echo '${registry.password}' | docker login -u ${registry.user} --password-stdin ${registryName}`);
    expect(login).toContain('Login Succeeded');
    expect(await run(host, 'cat /root/.docker/config.json')).toContain(registryName);
    await run(host, `docker tag egress-built ${registryName}/tabdock/pushed:1 && docker push ${registryName}/tabdock/pushed:1`);
    await run(host, `docker rmi ${registryName}/tabdock/pushed:1 egress-built`);
    await run(host, `docker pull ${registryName}/tabdock/pushed:1`);
    expect(await run(host, `docker run --rm ${registryName}/tabdock/pushed:1`)).toContain('fetched during docker build');
  }, TEST_TIMEOUT_MS);

  it('falls back to the shim at once when the Wisp relay is down, and says so once, naming it', async () => {
    const deadRelay = `ws://127.0.0.1:${closedPort}/wisp/`;
    // As the browser worker wires it (net/relayed-network.ts): the relay notices go where the page reads notices.
    const relayNotices = new RelayNotices(deadRelay, (notice) => pageNotices.push(notice));
    const wisp = new WispDialer(deadRelay, { onDown: (message) => relayNotices.unreachable(message) });
    dialer.current = wisp;
    await wisp.open().catch(() => undefined);
    expect(wisp.state()).toBe('down');
    // Names resolve to the shim again, and a TLS port there is refused: bash reports it, no hang (124).
    const output = await run(host, `busybox nslookup down.example 2>&1; timeout 30 bash -c 'exec 3<>/dev/tcp/${TLS_HOST}/${https.port}' 2>&1; echo "exit=$?"`);
    expect(output).toContain('192.168.87.1');
    expect(output).toContain('Connection refused');
    expect(output).toContain('exit=1');
    const unreachable = pageNotices.filter((notice) => notice.code === 'relay-unreachable');
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]?.message).toContain(deadRelay);
  }, TEST_TIMEOUT_MS);
});
