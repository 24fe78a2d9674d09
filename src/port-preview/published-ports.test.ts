import { describe, expect, it } from 'vitest';
import type { EngineContainer } from '../../worker/shared/engine-contract.ts';
import { listeningSockets, publishedPorts, samePorts } from './published-ports.ts';

function container(name: string, state: string, ports: EngineContainer['ports']): EngineContainer {
  return { id: `${name}-id`, name, image: 'img', command: '', createdS: 0, state, status: '', ports, networks: [], mounts: [] };
}

describe('publishedPorts', () => {
  it('takes published TCP ports of running containers, merging IPv4 and IPv6, sorted by host port', () => {
    const containers = [
      container('web', 'running', [
        { privatePort: 80, publicPort: 8080, protocol: 'tcp', ip: '0.0.0.0' },
        { privatePort: 80, publicPort: 8080, protocol: 'tcp', ip: '::' },
      ]),
      container('db', 'running', [{ privatePort: 5432, protocol: 'tcp' }]),
      container('api', 'running', [
        { privatePort: 3000, publicPort: 3000, protocol: 'tcp', ip: '127.0.0.1' },
        { privatePort: 53, publicPort: 5353, protocol: 'udp', ip: '0.0.0.0' },
      ]),
      container('old', 'exited', [{ privatePort: 80, publicPort: 9090, protocol: 'tcp' }]),
    ];
    expect(publishedPorts(containers)).toEqual([
      { hostPort: 3000, containerPort: 3000, container: 'api' },
      { hostPort: 8080, containerPort: 80, container: 'web' },
    ]);
  });

  it('takes at most 16 ports from one container, and nothing from none', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ privatePort: 1000 + i, publicPort: 1000 + i, protocol: 'tcp' }));
    expect(publishedPorts([container('big', 'running', many)])).toHaveLength(16);
    expect(publishedPorts([])).toEqual([]);
  });

  it('compares port lists by content', () => {
    const a = [{ hostPort: 8080, containerPort: 80, container: 'web' }];
    expect(samePorts(a, [{ hostPort: 8080, containerPort: 80, container: 'web' }])).toBe(true);
    expect(samePorts(a, [{ hostPort: 8080, containerPort: 80, container: 'web2' }])).toBe(false);
    expect(samePorts(a, [])).toBe(false);
  });
});

describe('listeningSockets', () => {
  it('sorts and dedupes lines so two reports of the same sockets compare equal', () => {
    expect(listeningSockets('0100007F:0050\n00000000:1F90\n0100007F:0050\n\n')).toBe('00000000:1F90\n0100007F:0050');
    expect(listeningSockets('local_address\n00000000:1F90\r\n')).toBe('00000000:1F90');
  });
});
