// Docker in the real guest, driven through the agent: engine facts, run/exit codes, published ports, user
// networks, volumes, build, and the container lifecycle. Boots once; images come from the disk (no registry).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmHost } from '../vm-host.ts';
import { BOOT_HOOK_TIMEOUT_MS, COMMAND_TIMEOUT_MS, TEST_TIMEOUT_MS, bootTestVm, run } from './vm-test-boot.ts';

let host: VmHost;
beforeAll(async () => {
  host = await bootTestVm();
}, BOOT_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await host?.shutdown();
});

describe('docker in the guest', { timeout: TEST_TIMEOUT_MS }, () => {
  it('answers docker version with client and server', async () => {
    const output = await run(host, 'docker version');
    expect(output).toMatch(/Client:/);
    expect(output).toMatch(/Server:/);
    expect(output).toMatch(/OS\/Arch:\s+linux\/386/);
  });

  it('runs on cgroup v2 with overlay2', async () => {
    const output = await run(host, 'docker info');
    expect(output).toMatch(/Cgroup Version: 2/);
    expect(output).toMatch(/Storage Driver: overlay2/);
  });

  it('runs a container and prints its output', async () => {
    expect(await run(host, 'docker run --rm busybox echo hello-from-busybox')).toContain('hello-from-busybox');
  });

  it('propagates a container exit code', async () => {
    const result = await host.exec("docker run --rm busybox sh -c 'exit 3'", { timeoutMs: COMMAND_TIMEOUT_MS });
    expect(result.exitCode).toBe(3);
  });

  it('serves a published port to the guest', async () => {
    await run(host, 'docker run -d --name web -p 8080:80 tabdock/httpd');
    // busybox wget -T segfaults in this guest (FINDINGS.md); bound it with timeout and retry while httpd starts.
    const page = await run(
      host,
      'for i in $(seq 1 15); do timeout 20 busybox wget -qO- http://localhost:8080/ && exit 0; sleep 1; done; exit 1',
    );
    expect(page).toContain('tabdock test page');
    await run(host, 'docker rm -f web');
  });

  it('lets two containers on a user network reach each other by name', async () => {
    await run(host, 'docker network create testnet && docker run -d --name srv --network testnet tabdock/httpd');
    const page = await run(
      host,
      "docker run --rm --network testnet busybox sh -c 'for i in $(seq 1 15); do timeout 20 wget -qO- http://srv/ && exit 0; sleep 1; done; exit 1'",
    );
    expect(page).toContain('tabdock test page');
    await run(host, 'docker rm -f srv && docker network rm testnet');
  });

  it('keeps data in a named volume across containers', async () => {
    await run(host, "docker volume create keep && docker run --rm -v keep:/data busybox sh -c 'echo persisted-42 > /data/f'");
    expect(await run(host, 'docker run --rm -v keep:/data busybox cat /data/f')).toContain('persisted-42');
  });

  it('builds an image from a two-line Dockerfile', async () => {
    await run(host, "mkdir -p /tmp/b && printf 'FROM busybox\\nRUN echo built-ok > /built\\n' > /tmp/b/Dockerfile");
    await run(host, 'docker build -t tabdock/built /tmp/b');
    expect(await run(host, 'docker run --rm tabdock/built cat /built')).toContain('built-ok');
  });

  it('supports logs, exec, stop and rm', async () => {
    await run(host, "docker run -d --name life busybox sh -c 'echo log-line-7; exec sleep 600'");
    expect(await run(host, 'for i in $(seq 1 20); do docker logs life | grep -q log-line-7 && break; sleep 1; done; docker logs life')).toContain(
      'log-line-7',
    );
    expect(await run(host, 'docker exec life echo inside-exec')).toContain('inside-exec');
    await run(host, 'docker stop -t 1 life');
    expect(await run(host, "docker inspect -f '{{.State.Running}}' life")).toContain('false');
    await run(host, 'docker rm life');
    expect(await run(host, "docker ps -a --format '{{.Names}}'")).not.toMatch(/\blife\b/);
  });
});
