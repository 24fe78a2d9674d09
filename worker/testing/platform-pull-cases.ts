// VM test cases for images of other platforms (issues #27, #29), registered inside registry-pull.vm.test.ts's boot
// (one boot for all pull tests): linux/amd64 images run emulated with --platform, the tabdock line for images
// without linux/386, an arm64-only image, and an emulated program that crashes.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { VmNotice } from '../shared/contract.ts';
import type { VmHost } from '../vm/vm-host.ts';
import { run, TEST_TIMEOUT_MS } from '../node/vm-test-boot.ts';
import { buildOciLayout } from './oci-layout.ts';
import { pushLayout } from './registry.ts';

export interface PlatformPullContext {
  host: VmHost;
  /** The registry behind the Docker Hub mirror, `127.0.0.1:<port>`. */
  registryHost: string;
  /** The guest images' OCI layouts (public/vm/test-images), holding tabdock/amd64's. */
  testImagesDir: string;
  workDir: string;
  /** Every notice the host raised since boot. */
  notices: VmNotice[];
}

/** Pushes the images the cases pull: call in beforeAll, before the boot's other pushes are needed. */
export async function pushPlatformImages(registryHost: string, testImagesDir: string, workDir: string): Promise<void> {
  // tabdock/amd64 (vm-images/lib/test-image-amd64.sh): Debian's amd64 busybox-static, linux/amd64 only.
  await pushLayout(join(testImagesDir, 'amd64'), 'latest', registryHost, 'library/amd64only');
  // The same image as a bare manifest (no index), as many single-platform images are pushed: without --all,
  // skopeo copies the index's one entry.
  await promisify(execFile)('skopeo', [
    'copy', '--quiet', '--dest-tls-verify=false', '--override-arch', 'amd64',
    `oci:${join(testImagesDir, 'amd64')}:latest`, `docker://${registryHost}/library/amd64single:latest`,
  ]);
  const armOnly = await buildOciLayout(join(workDir, 'armonly'), 'v1', 1024, ['arm64']);
  await pushLayout(armOnly.layoutDir, 'v1', registryHost, 'library/armonly');
}

const advices = (notices: readonly VmNotice[]) => notices.filter((notice) => notice.code === 'image-platform').map((notice) => notice.message);

export function describePlatformPulls(context: () => PlatformPullContext): void {
  describe('images of other platforms', { timeout: TEST_TIMEOUT_MS }, () => {
    it('registers qemu-x86_64 with binfmt_misc and BuildKit lists linux/amd64', async () => {
      const { host } = context();
      const entry = await run(host, 'cat /proc/sys/fs/binfmt_misc/qemu-x86_64');
      expect(entry).toContain('enabled');
      expect(entry).toContain('interpreter /usr/bin/qemu-x86_64-static');
      expect(entry).toMatch(/flags: \w*F/);
      expect(await run(host, 'docker buildx inspect default')).toMatch(/Platforms:.*linux\/386.*linux\/amd64/);
    });

    it('without --platform, prints the tabdock line for an amd64-only image, then dockerd\'s error', async () => {
      const { host, notices } = context();
      const before = advices(notices).length;
      const result = await host.exec('docker pull amd64only:latest 2>&1', { timeoutMs: 120_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.output).toContain('no matching manifest for linux/386 in the manifest list entries');
      const advice = advices(notices).slice(before);
      expect(advice).toHaveLength(1);
      expect(advice[0]).toContain('amd64only:latest has no linux/386 image (it has linux/amd64)');
      expect(advice[0]).toContain('add --platform linux/amd64');
    });

    it('pulls and runs it with --platform linux/amd64, emulated, without a tabdock line', async () => {
      const { host, notices } = context();
      const before = advices(notices).length;
      await run(host, 'docker pull --platform linux/amd64 amd64only:latest');
      expect((await run(host, 'docker run --rm --platform linux/amd64 amd64only:latest uname -m')).trim()).toBe('x86_64');
      // The image's own command (uname -m).
      expect(await run(host, 'docker run --rm --platform linux/amd64 amd64only:latest')).toContain('x86_64');
      expect(advices(notices).length).toBe(before);
    });

    it('runs a bare linux/amd64 manifest (no index) without --platform, as Docker does on any host', async () => {
      const { host, notices } = context();
      const before = advices(notices).length;
      const output = await run(host, 'docker run --rm amd64single:latest uname -m 2>&1');
      // dockerd's own warning, then the emulated program's answer.
      expect(output).toContain("The requested image's platform (linux/amd64) does not match the detected host platform");
      expect(output.trim().split('\n').at(-1)).toBe('x86_64');
      expect(advices(notices).length).toBe(before);
    });

    it('builds with --platform linux/amd64 through a RUN step, and runs the result', async () => {
      const { host } = context();
      await run(host, "mkdir -p /tmp/emu-build && printf 'FROM amd64only:latest\\nRUN uname -m > /arch\\nCMD [\"cat\", \"/arch\"]\\n' >/tmp/emu-build/Dockerfile");
      await run(host, 'docker build --platform linux/amd64 -t emu-built /tmp/emu-build 2>&1');
      expect((await run(host, 'docker run --rm --platform linux/amd64 emu-built')).trim()).toBe('x86_64');
    });

    it("runs a compose service with platform: linux/amd64", async () => {
      const { host } = context();
      await run(host, "mkdir -p /tmp/emu-compose && printf 'services:\\n  app:\\n    image: amd64only:latest\\n    platform: linux/amd64\\n    command: uname -m\\n' >/tmp/emu-compose/compose.yaml");
      expect(await run(host, 'cd /tmp/emu-compose && docker compose run --rm app 2>&1')).toContain('x86_64');
    });

    it('reports the exit of an emulated program that crashes or is stopped, and the daemon runs the next container', async () => {
      const { host } = context();
      // As PID 1, qemu could not die of its program's signal and hung (tabdock-runtime.c puts docker-init first).
      const crash = await host.exec("docker run --rm --platform linux/amd64 amd64only:latest sh -c 'kill -SEGV $$'", { timeoutMs: 120_000 });
      expect(crash.exitCode).toBe(139);
      // docker stop's SIGTERM ends it (143), rather than the SIGKILL after the grace period (137).
      await run(host, 'docker run -d --name emu-stop --platform linux/amd64 amd64only:latest sleep 600');
      await run(host, 'docker stop -t 60 emu-stop');
      expect((await run(host, "docker inspect -f '{{.State.ExitCode}}' emu-stop && docker rm emu-stop >/dev/null")).trim()).toBe('143');
      expect((await run(host, 'docker run --rm busybox echo still-running')).trim()).toBe('still-running');
    });

    it('says that an arm64-only image can run neither way, and names its platforms', async () => {
      const { host, notices } = context();
      const before = advices(notices).length;
      const result = await host.exec('docker pull armonly:v1 2>&1', { timeoutMs: 120_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.output).toContain('no matching manifest for linux/386');
      expect(advices(notices).slice(before)).toEqual([expect.stringContaining('armonly:v1 has neither a linux/386 nor a linux/amd64 image (it has linux/arm64)')]);
    });
  });
}
