import { describe, expect, it } from 'vitest';
import { parseConnectTarget, refusalReason, serveConnectTunnel, type TunnelReply } from './connect-tunnel.ts';
import { familiarName, MirrorVerdicts, missingMessage, platformMessage } from './mirror-verdicts.ts';
import type { GuestSocket } from './guest-socket.ts';
import { FakeGuestSocket } from '../../testing/fake-socket.ts';

const CONNECT_HUB = 'CONNECT registry-1.docker.io:443 HTTP/1.1\r\nHost: registry-1.docker.io:443\r\nUser-Agent: Go-http-client/1.1\r\n\r\n';

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
    serveConnectTunnel(socket, { dockerHubVerdict: () => 'manifest for nosuchimage:latest not found: manifest unknown: manifest unknown' });
    socket.send(CONNECT_HUB);
    await socket.whenClosed();
    expect(socket.outputText()).toMatch(/^HTTP\/1\.1 502 manifest for nosuchimage:latest not found: manifest unknown: manifest unknown\r\n/);
  });

  it('says what to do for any other host, and refuses names the shim serves over HTTP at once', async () => {
    const other = new FakeGuestSocket();
    serveConnectTunnel(other, { dockerHubVerdict: () => 'ignored for other hosts' });
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
    const hub = new FakeGuestSocket();
    serveConnectTunnel(hub, { relay, dockerHubVerdict: () => 'no matching manifest for linux/386 in the manifest list entries' });
    hub.send(CONNECT_HUB);
    reply!.refused({ message: 'the relay is down' });
    await hub.whenClosed();
    // Docker Hub unreachable through the relay too: the mirror's verdict is what the user should read.
    expect(hub.outputText()).toContain('502 no matching manifest for linux/386 in the manifest list entries');
  });
});

describe('mirror verdicts', () => {
  it("words a missing manifest and a denied repository as dockerd does, with Docker Hub's familiar names", () => {
    expect(familiarName('library/busybox')).toBe('busybox');
    expect(missingMessage(404, 'library/nosuchimage', 'latest')).toBe('manifest for nosuchimage:latest not found: manifest unknown: manifest unknown');
    expect(missingMessage(401, 'someone/private', 'v1')).toMatch(/^pull access denied for someone\/private, repository does not exist or may require 'docker login'/);
    expect(missingMessage(500, 'library/busybox', 'latest')).toBeUndefined();
    expect(refusalReason('registry-1.docker.io', 443, undefined)).toContain('no relay for registry-1.docker.io:443');
  });

  it('finds an image index without linux/386, and only an index', () => {
    const index = (platforms: string[]) =>
      new TextEncoder().encode(JSON.stringify({ manifests: platforms.map((p) => ({ platform: { os: 'linux', architecture: p } })) }));
    const type = 'application/vnd.oci.image.index.v1+json';
    expect(platformMessage(type, index(['amd64', 'arm64']))).toBe('no matching manifest for linux/386 in the manifest list entries');
    expect(platformMessage(type, index(['amd64', '386']))).toBeUndefined();
    expect(platformMessage('application/vnd.oci.image.manifest.v1+json', index(['amd64']))).toBeUndefined();
    expect(platformMessage(type, new TextEncoder().encode('not json'))).toBeUndefined();
  });

  it('keeps the last verdict for a minute, until a pull that fits clears it', () => {
    let now = 0;
    const verdicts = new MirrorVerdicts(() => now);
    verdicts.record('first');
    verdicts.record('second');
    expect(verdicts.current()).toBe('second');
    now = 60_001;
    expect(verdicts.current()).toBeUndefined();
    verdicts.record('third');
    verdicts.clear();
    expect(verdicts.current()).toBeUndefined();
  });
});
