import { describe, expect, it } from 'vitest';
import { parseConnectTarget, refusalReason, serveConnectTunnel, type TunnelReply } from './connect-tunnel.ts';
import { missingVerdict, platformVerdict, type MirrorVerdict } from './mirror-verdicts.ts';
import type { GuestSocket } from './guest-socket.ts';
import { FakeGuestSocket } from '../../testing/fake-socket.ts';

const CONNECT_HUB = 'CONNECT registry-1.docker.io:443 HTTP/1.1\r\nHost: registry-1.docker.io:443\r\nUser-Agent: Go-http-client/1.1\r\n\r\n';
const NOT_FOUND = missingVerdict(404, 'library/nosuchimage', 'latest')!;
const NO_386 = platformVerdict('ubuntu:latest', 'library/ubuntu', ['linux/amd64', 'linux/arm64/v8'])!;
const DENIED = missingVerdict(401, 'someone/private', 'v1')!;
const UNREACHABLE: MirrorVerdict = { kind: 'unreachable', message: 'could not reach http://127.0.0.1:9: connection refused' };

describe('parseConnectTarget', () => {
  it('takes host:port in authority form, IPv6 in brackets, and nothing else', () => {
    expect(parseConnectTarget('CONNECT registry-1.docker.io:443 HTTP/1.1')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(parseConnectTarget('CONNECT [::1]:8443 HTTP/1.1')).toEqual({ host: '::1', port: 8443 });
    expect(parseConnectTarget('CONNECT Host.Example:5000 HTTP/1.0')).toEqual({ host: 'host.example', port: 5000 });
    for (const bad of ['GET / HTTP/1.1', 'CONNECT example.com HTTP/1.1', 'CONNECT example.com:0 HTTP/1.1', 'CONNECT example.com:70000 HTTP/1.1', 'CONNECT a b:1 HTTP/1.1']) {
      expect(parseConnectTarget(bad), bad).toBeUndefined();
    }
  });
});

describe('serveConnectTunnel without a relay', () => {
  it("refuses a Docker Hub tunnel with the mirror's verdict as the reason, which Go prints as the error", async () => {
    const socket = new FakeGuestSocket();
    serveConnectTunnel(socket, { dockerHubVerdict: () => NOT_FOUND });
    socket.send(CONNECT_HUB);
    await socket.whenClosed();
    expect(socket.outputText()).toMatch(/^HTTP\/1\.1 502 manifest for nosuchimage:latest not found: manifest unknown: manifest unknown\r\n/);
  });

  it('says what to do for any other host, and refuses names the shim serves over HTTP at once', async () => {
    const other = new FakeGuestSocket();
    serveConnectTunnel(other, { dockerHubVerdict: () => NOT_FOUND });
    other.send('CONNECT ghcr.io:443 HTTP/1.1\r\n\r\n');
    await other.whenClosed();
    expect(other.outputText()).toContain('502 tabdock has no relay for ghcr.io:443: set a relay in Network...');
    const local = new FakeGuestSocket();
    let relayed = false;
    serveConnectTunnel(local, { servedLocally: (host) => host === 'registry.test', relay: () => (relayed = true) });
    local.send('CONNECT registry.test:5000 HTTP/1.1\r\n\r\n');
    await local.whenClosed();
    expect(relayed).toBe(false);
    expect(local.outputText()).toContain('502 registry.test is served by tabdock over plain HTTP');
  });

  it('refuses what is not a CONNECT, a head that never ends, and bytes sent before the 200', async () => {
    const get = new FakeGuestSocket();
    serveConnectTunnel(get, {});
    get.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await get.whenClosed();
    expect(get.outputText()).toMatch(/^HTTP\/1\.1 405 /);
    const endless = new FakeGuestSocket();
    serveConnectTunnel(endless, {});
    endless.send(`CONNECT a:1 HTTP/1.1\r\nX: ${'y'.repeat(9000)}`);
    await endless.whenClosed();
    expect(endless.outputText()).toMatch(/^HTTP\/1\.1 431 /);
    const eager = new FakeGuestSocket();
    serveConnectTunnel(eager, { relay: () => undefined });
    eager.send('CONNECT a.example:443 HTTP/1.1\r\n\r\n\x16\x03\x01');
    await eager.whenClosed();
    expect(eager.outputText()).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('serveConnectTunnel with a relay', () => {
  it('hands the socket to the relay and answers 200 when it connected, or 502 with its reason', async () => {
    const calls: Array<[string, number]> = [];
    let reply: TunnelReply | undefined;
    const relay = (_socket: GuestSocket, host: string, port: number, answer: TunnelReply) => {
      calls.push([host, port]);
      reply = answer;
    };
    const ok = new FakeGuestSocket();
    serveConnectTunnel(ok, { relay });
    ok.send('CONNECT host.tabdock.internal:8443 HTTP/1.1\r\n\r\n');
    expect(calls).toEqual([['host.tabdock.internal', 8443]]);
    reply!.connected();
    expect(ok.outputText()).toBe('HTTP/1.1 200 Connection established\r\n\r\n');
    expect(ok.closed).toBe(false);
    // Docker Hub unreachable through the relay as well: the mirror's verdict is what the user should read.
    for (const verdict of [DENIED, UNREACHABLE]) {
      const hub = new FakeGuestSocket();
      serveConnectTunnel(hub, { relay, dockerHubVerdict: () => verdict });
      hub.send(CONNECT_HUB);
      expect(calls.at(-1)).toEqual(['registry-1.docker.io', 443]);
      reply!.refused({ message: 'registry-1.docker.io:443: could not resolve or reach the host' });
      await hub.whenClosed();
      expect(hub.outputText()).toContain(`502 ${verdict.message}`);
    }
  });

  it("answers a final verdict (a missing tag, no linux/386) without the relay, and tells tabdock's advice first", async () => {
    const advice: string[] = [];
    let relayed = 0;
    const order: string[] = [];
    for (const verdict of [NOT_FOUND, NO_386]) {
      const hub = new FakeGuestSocket();
      serveConnectTunnel(hub, {
        relay: () => relayed++,
        dockerHubVerdict: () => verdict,
        onAdvice: (line) => {
          advice.push(line);
          order.push(`advice, ${hub.outputText().length} bytes answered`);
        },
      });
      hub.send(CONNECT_HUB);
      await hub.whenClosed();
      expect(hub.outputText()).toContain(`502 ${verdict.message}`);
    }
    expect(relayed).toBe(0);
    expect(advice).toEqual([NO_386.kind === 'no-platform' ? NO_386.advice : '']);
    expect(order).toEqual(['advice, 0 bytes answered']);
  });
});
