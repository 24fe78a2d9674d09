// HTTPS download of 16 MB inside a container (curl in tabdock/curl, TLS in the guest) from an HTTPS server on
// 127.0.0.1, against this process fetching the same file: once through the Node harness's own relay (node:net)
// and once through a Wisp relay over a WebSocket on 127.0.0.1 (wisp-js client and server, as the page uses).
// The same bytes over plain HTTP through the harness's relay tell the guest's TLS cost from the transport's.
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { WispDialer } from '../../../worker/vm/net/wisp-dialer.ts';
import { SwitchableDialer } from '../../../worker/testing/switchable-dialer.ts';
import { fileHandler, makeCertificates, sha256OfPattern, startHttpsServer, type TestCertificates, type TestHttpsServer } from '../../../worker/testing/tls.ts';
import { NodeTcpDialer } from '../../../worker/proxy/node/tcp-dialer.ts';
import { createWispRelay, type WispRelay } from '../../../worker/proxy/node/wisp-relay.ts';
import { roundMs, type BenchSection } from './section.ts';

const DOWNLOAD_BYTES = 16 * 1024 * 1024;
const COMMAND_TIMEOUT_MS = 900_000;

let certs: TestCertificates | undefined;
let https: TestHttpsServer | undefined;
let relayServer: Server | undefined;
let plainServer: Server | undefined;
let relay: WispRelay | undefined;
let dialer: SwitchableDialer | undefined;
let nodeDialer: NodeTcpDialer | undefined;

/** This process fetching the file (TLS in Node, loopback): the host's speed for the same bytes. */
function hostDownloadMs(port: number, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path: `/bytes/${DOWNLOAD_BYTES}`, ca, servername: 'host.tabdock.internal' }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => (bytes === DOWNLOAD_BYTES ? resolve(performance.now() - started) : reject(new Error(`host fetch got ${bytes} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const egressSection: BenchSection = {
  name: 'egress',
  async prepare(log) {
    certs = await makeCertificates();
    https = await startHttpsServer(certs, {});
    plainServer = createServer(fileHandler({}));
    await new Promise<void>((resolve) => plainServer!.listen(0, '127.0.0.1', resolve));
    const hostPorts = [https.port, (plainServer.address() as AddressInfo).port];
    relay = createWispRelay({ allowedOrigins: '*', policy: { hostPorts } });
    const mounted = relay;
    relayServer = createServer((req, res) => {
      if (!mounted.handleHttp(req, res)) res.writeHead(404).end();
    });
    relayServer.on('upgrade', (req, socket, head) => {
      if (!mounted.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => relayServer!.listen(0, '127.0.0.1', resolve));
    nodeDialer = new NodeTcpDialer({ policy: { hostPorts } });
    dialer = new SwitchableDialer(nodeDialer);
    log(`egress: HTTPS server on 127.0.0.1:${https.port}, Wisp relay on ${(relayServer.address() as AddressInfo).port}`);
    return {
      egressDialer: dialer,
      async dispose() {
        dialer?.close();
        relay?.close();
        relayServer?.closeAllConnections();
        await new Promise((resolve) => relayServer?.close(resolve));
        plainServer?.closeAllConnections();
        await new Promise((resolve) => plainServer?.close(resolve));
        await https?.close();
        await certs?.remove();
      },
    };
  },
  async run({ host, log }) {
    if (!https || !certs || !dialer || !nodeDialer || !relayServer || !plainServer) throw new Error('egress section was not prepared');
    const loaded = await host.exec('tabdock-load-image curl', { timeoutMs: COMMAND_TIMEOUT_MS });
    if (loaded.exitCode !== 0) throw new Error(`tabdock-load-image curl failed: ${loaded.output}`);
    const expectedSha = sha256OfPattern(DOWNLOAD_BYTES);
    const url = `https://host.tabdock.internal:${https.port}/bytes/${DOWNLOAD_BYTES}`;
    const plainUrl = `http://host.tabdock.internal:${(plainServer.address() as AddressInfo).port}/bytes/${DOWNLOAD_BYTES}`;
    // curl's own clock (TLS handshake to last byte) to stderr, the bytes through sha256sum: timed and verified.
    const commandFor = (target: string) =>
      `docker run --rm tabdock/curl sh -c "curl -ksS -w '%{stderr}timing %{time_appconnect} %{time_total} %{size_download}\\n' ${target} | sha256sum" 2>&1`;
    const download = async (label: string, target = url) => {
      const result = await host.exec(commandFor(target), { timeoutMs: COMMAND_TIMEOUT_MS });
      const timing = /timing ([\d.]+) ([\d.]+) (\d+)/.exec(result.output);
      if (result.exitCode !== 0 || !timing) throw new Error(`${label}: curl failed (${result.exitCode}): ${result.output}`);
      if (!result.output.includes(expectedSha)) throw new Error(`${label}: the download's sha256 is wrong: ${result.output}`);
      const totalS = Number(timing[2]);
      const bytes = Number(timing[3]);
      log(`egress: ${label} ${bytes} bytes in ${totalS} s`);
      return { tlsHandshakeMs: roundMs(Number(timing[1]) * 1000), totalMs: roundMs(totalS * 1000), bytes, MBps: round2(bytes / 1e6 / totalS) };
    };

    // Untimed first run: the first container start after a restore and curl's first TLS handshake pay the
    // emulator's warm-up (code compiled again), which would otherwise be charged to whichever path runs first.
    await download('warm-up');
    const hostMs = await hostDownloadMs(https.port, certs.caPem);
    const viaNodeRelay = await download('node relay');
    dialer.current = new WispDialer(`ws://127.0.0.1:${(relayServer.address() as AddressInfo).port}/wisp/`);
    const viaWisp = await download('wisp relay');
    dialer.current.close();
    dialer.current = nodeDialer;
    const plainViaNodeRelay = await download('plain HTTP, node relay', plainUrl);
    return {
      url: `https://host.tabdock.internal:<port>/bytes/${DOWNLOAD_BYTES}`,
      downloadBytes: DOWNLOAD_BYTES,
      hostFetchMs: roundMs(hostMs),
      hostFetchMBps: round2(DOWNLOAD_BYTES / 1e6 / (hostMs / 1000)),
      /** curl in a container, the harness relaying with node:net (what `npm run vm` does). */
      viaNodeRelay,
      /** The same through wisp-js over a WebSocket on loopback (what the page does, less the browser). */
      viaWispRelay: viaWisp,
      /** The same bytes without TLS: how much of the time is the guest's TLS rather than the transport. */
      plainHttpViaNodeRelay: plainViaNodeRelay,
      ratioNodeRelayVsHost: round2(viaNodeRelay.totalMs / Math.max(1, hostMs)),
      ratioWispRelayVsHost: round2(viaWisp.totalMs / Math.max(1, hostMs)),
    };
  },
};

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
