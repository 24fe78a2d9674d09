// Shapes as dockerd 20.10 and 26 send them (captured from the guest and the Engine API v1.41 reference).
import { describe, expect, it } from 'vitest';
import { exitCodeFromStatus, parseContainers, parseEvent, parseImages, parseNetworks, parseVolumes, engineErrorMessage } from './engine-model.ts';

describe('engine model', () => {
  it('normalises a container with published ports, networks and a volume', () => {
    const [container] = parseContainers([
      {
        Id: 'a'.repeat(64),
        Names: ['/web'],
        Image: 'tabdock/httpd',
        ImageID: 'sha256:1',
        Command: 'httpd -f',
        Created: 1700000000,
        Ports: [
          { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
          { PrivatePort: 443, Type: 'tcp' },
        ],
        Labels: {},
        State: 'running',
        Status: 'Up 3 minutes',
        HostConfig: { NetworkMode: 'default' },
        NetworkSettings: { Networks: { bridge: { NetworkID: 'n1', IPAddress: '172.17.0.2', Gateway: '172.17.0.1' } } },
        Mounts: [{ Type: 'volume', Name: 'keep', Source: '/var/lib/docker/volumes/keep/_data', Destination: '/data', Driver: 'local', RW: true }],
      },
    ]);
    expect(container).toEqual({
      id: 'a'.repeat(64),
      name: 'web',
      image: 'tabdock/httpd',
      command: 'httpd -f',
      createdS: 1700000000,
      state: 'running',
      status: 'Up 3 minutes',
      ports: [
        { privatePort: 80, publicPort: 8080, protocol: 'tcp', ip: '0.0.0.0' },
        { privatePort: 443, protocol: 'tcp' },
      ],
      networks: [{ network: 'bridge', networkId: 'n1', ipAddress: '172.17.0.2' }],
      mounts: [{ type: 'volume', name: 'keep', source: '/var/lib/docker/volumes/keep/_data', destination: '/data', readWrite: true }],
    });
  });

  it('reads the exit code from the status text and tolerates null lists', () => {
    const [container] = parseContainers([{ Id: 'b1', Names: null, Image: 'busybox', State: 'exited', Status: 'Exited (137) 2 seconds ago', Ports: null, Mounts: null, NetworkSettings: null }]);
    expect(container).toMatchObject({ name: 'b1', exitCode: 137, ports: [], mounts: [], networks: [] });
    expect(exitCodeFromStatus('Up 2 hours')).toBeUndefined();
  });

  it("leaves out tabdock's own warm-up container, whatever the user's containers are labelled", () => {
    const listed = parseContainers([
      { Id: 'w1', Names: ['/tabdock-warm-up'], Image: 'sha256:2', State: 'running', Status: 'Up 1 second', Labels: { 'tabdock.warm-up': '1' } },
      { Id: 'u1', Names: ['/mine'], Image: 'busybox', State: 'running', Status: 'Up 1 second', Labels: { 'tabdock.other': '1' } },
    ]);
    expect(listed.map((c) => c.name)).toEqual(['mine']);
  });

  it('refuses a list that is not a container list', () => {
    expect(() => parseContainers({ message: 'page not found' })).toThrow();
  });

  it('drops <none>:<none> tags, reads the subnet and the volume list', () => {
    expect(parseImages([{ Id: 'sha256:x', RepoTags: ['<none>:<none>'], Size: 10, Created: 5 }])).toEqual([{ id: 'sha256:x', tags: [], sizeBytes: 10, createdS: 5 }]);
    expect(parseNetworks([{ Id: 'n', Name: 'bridge', Driver: 'bridge', IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } }])).toEqual([
      { id: 'n', name: 'bridge', driver: 'bridge', subnet: '172.17.0.0/16' },
    ]);
    expect(parseVolumes({ Volumes: null, Warnings: null })).toEqual([]);
  });

  it('parses 20.10 events (with the deprecated status/id/from) and 26 events alike', () => {
    const v20 = { status: 'die', id: 'c1', from: 'busybox', Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: { exitCode: '3', image: 'busybox', name: 'x' } }, scope: 'local', time: 1700000000, timeNano: 1700000000123456789 };
    const v26 = { Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: { execDuration: '1', exitCode: '3', image: 'busybox', name: 'x' } }, scope: 'local', time: 1700000000, timeNano: 1700000000123456789 };
    expect(parseEvent(v20)).toEqual({ type: 'container', action: 'die', actorId: 'c1', attributes: { exitCode: '3', image: 'busybox', name: 'x' }, timeNano: 1700000000123456789 });
    expect(parseEvent(v26)?.attributes.execDuration).toBe('1');
    expect(parseEvent({ hello: 'world' })).toBeUndefined();
  });

  it('takes the message out of a daemon error body', () => {
    expect(engineErrorMessage('{"message":"No such container: nope"}')).toBe('No such container: nope');
    expect(engineErrorMessage('plain failure\n')).toBe('plain failure');
  });
});
