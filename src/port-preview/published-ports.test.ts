import { describe, expect, it } from 'vitest';
import { listeningSockets, parseDockerPs, samePorts } from './published-ports.ts';

describe('parseDockerPs', () => {
  it('reads published TCP ports with their container, merging IPv4 and IPv6', () => {
    const output = 'web\t0.0.0.0:8080->80/tcp, :::8080->80/tcp\ndb\t5432/tcp\napi\t127.0.0.1:3000->3000/tcp, 0.0.0.0:5353->53/udp\n';
    expect(parseDockerPs(output)).toEqual([
      { hostPort: 3000, containerPort: 3000, container: 'api' },
      { hostPort: 8080, containerPort: 80, container: 'web' },
    ]);
  });

  it('expands ranges, but not without limit', () => {
    expect(parseDockerPs('r\t0.0.0.0:8000-8001->80-81/tcp').map((p) => [p.hostPort, p.containerPort])).toEqual([
      [8000, 80],
      [8001, 81],
    ]);
    expect(parseDockerPs('big\t0.0.0.0:1000-2000->1000-2000/tcp')).toHaveLength(16);
  });

  it('gives nothing for no containers, headers or junk', () => {
    expect(parseDockerPs('')).toEqual([]);
    expect(parseDockerPs('Cannot connect to the Docker daemon\n')).toEqual([]);
  });

  it('compares port lists by content', () => {
    const a = parseDockerPs('web\t0.0.0.0:8080->80/tcp');
    expect(samePorts(a, parseDockerPs('web\t:::8080->80/tcp'))).toBe(true);
    expect(samePorts(a, parseDockerPs('web2\t0.0.0.0:8080->80/tcp'))).toBe(false);
    expect(samePorts(a, [])).toBe(false);
  });
});

describe('listeningSockets', () => {
  it('sorts and dedupes lines so two reports of the same sockets compare equal', () => {
    expect(listeningSockets('0100007F:0050\n00000000:1F90\n0100007F:0050\n\n')).toBe('00000000:1F90\n0100007F:0050');
    expect(listeningSockets('local_address\n00000000:1F90\r\n')).toBe('00000000:1F90');
  });
});
