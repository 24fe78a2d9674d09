// The guest's C helpers, built for this host with its gcc and run against stand-ins: a bundle whose config.json
// has dockerd's libnetwork-setkey hook, a fake runtime that records what it was run with, and a unix socket
// that answers like dockerd's external-key listener (moby libnetwork/sandbox_externalkey_unix.go).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(new URL(import.meta.url).pathname);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tabdock-helpers-'));
  const defines = [`-DSETKEY_PATH="${dir}/setkey"`, `-DCRUN_PATH="${dir}/fake-crun"`, `-DRUNC_PATH="${dir}/fake-runc"`];
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', ...defines, '-o', `${dir}/tabdock-crun`, `${here}/tabdock-runtime.c`]);
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-o', `${dir}/setkey`, `${here}/tabdock-setkey.c`]);
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-o', `${dir}/sealed-copy`, `${here}/tabdock-sealed-copy.c`]);
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', `-DMODPROBE_PATH="${dir}/fake-modprobe"`, '-o', `${dir}/tabdock-modprobe`, `${here}/tabdock-modprobe.c`]);
  execFileSync('ln', [`${dir}/tabdock-crun`, `${dir}/tabdock-runc`]);
  // As in the guest's tabdock-buildkit folder: a symlink named runc that points at tabdock-crun.
  mkdirSync(`${dir}/buildkit`);
  execFileSync('ln', ['-s', `${dir}/tabdock-crun`, `${dir}/buildkit/runc`]);
  for (const name of ['fake-crun', 'fake-runc', 'fake-modprobe']) {
    writeFileSync(`${dir}/${name}`, `#!/bin/sh\nprintf '%s\\n' "$0" "$@" > ${dir}/${name}.args\n`);
    chmodSync(`${dir}/${name}`, 0o755);
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const HOOK_CONFIG = (pid: number) =>
  `{"ociVersion":"1.1.0","process":{"args":["true"]},"hooks":{"prestart":[{"path":"/proc/${pid}/exe","args":["libnetwork-setkey","-exec-root=/var/run/docker","c0ffee","abc123"]}]}}`;

describe('tabdock-runtime', () => {
  it("puts tabdock-setkey in the place of dockerd's hook on create, then runs crun with the same arguments", () => {
    const bundle = `${dir}/bundle`;
    mkdirSync(bundle);
    writeFileSync(`${bundle}/config.json`, HOOK_CONFIG(4321));
    const args = ['--root', '/run/x', '--log', '/l.json', 'create', '--bundle', bundle, '--pid-file', '/p', 'c0ffee'];
    execFileSync(`${dir}/tabdock-crun`, args);
    expect(JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')).hooks.prestart[0]).toEqual({
      path: `${dir}/setkey`,
      args: ['libnetwork-setkey', '-exec-root=/var/run/docker', 'c0ffee', 'abc123'],
    });
    expect(readFileSync(`${dir}/fake-crun.args`, 'utf8').trim().split('\n')).toEqual([`${dir}/fake-crun`, ...args]);
  });

  it('runs runc under its other name, and leaves every other command and config alone', () => {
    const bundle = `${dir}/other`;
    mkdirSync(bundle);
    const other = '{"hooks":{"prestart":[{"path":"/usr/bin/my-hook","args":["my-hook"]}]}}';
    writeFileSync(`${bundle}/config.json`, other);
    execFileSync(`${dir}/tabdock-runc`, ['create', '-b', bundle, 'id1']);
    expect(readFileSync(`${bundle}/config.json`, 'utf8')).toBe(other);
    expect(readFileSync(`${dir}/fake-runc.args`, 'utf8').trim().split('\n')).toEqual([`${dir}/fake-runc`, 'create', '-b', bundle, 'id1']);
    writeFileSync(`${bundle}/config.json`, HOOK_CONFIG(77));
    execFileSync(`${dir}/tabdock-runc`, ['--root', '/r', 'delete', '--force', 'id1']);
    expect(readFileSync(`${bundle}/config.json`, 'utf8')).toBe(HOOK_CONFIG(77));
  });
});

describe('tabdock-runtime for emulated linux/amd64 containers', () => {
  /** The first bytes of an ELF file of a class (1: 32-bit, 2: 64-bit) and machine (3: i386, 0x3e: x86-64). */
  const elf = (elfClass: number, machine: number) => Buffer.from([0x7f, 0x45, 0x4c, 0x46, elfClass, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, machine, 0]);
  const config = (args: string[], mounts: string) =>
    JSON.stringify({ ociVersion: '1.1.0', process: { args, env: ['HOME=/root', 'PATH=/usr/bin:/bin'], cwd: '/' }, root: { path: 'rootfs' }, hostname: 'x', mounts: JSON.parse(mounts) });
  const initMount = { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/docker-init', options: ['bind', 'ro'] };

  function bundleWith(name: string, files: (root: string) => void): string {
    const bundle = `${dir}/${name}`;
    mkdirSync(`${bundle}/rootfs/bin`, { recursive: true });
    mkdirSync(`${bundle}/rootfs/usr/bin`, { recursive: true });
    files(`${bundle}/rootfs`);
    return bundle;
  }

  it('puts docker-init in front of an x86-64 program found on PATH through an absolute symlink, or a script it runs', () => {
    const bundle = bundleWith('amd64', (root) => {
      writeFileSync(`${root}/bin/busybox`, elf(2, 0x3e));
      // Absolute symlinks resolve inside the root, as in the container.
      execFileSync('ln', ['-s', '/bin/busybox', `${root}/usr/bin/app`]);
      writeFileSync(`${root}/entry.sh`, '#!/usr/bin/app sh\necho hi\n');
    });
    for (const args of [['app', '-x'], ['/entry.sh']]) {
      writeFileSync(`${bundle}/config.json`, config(args, '[{"destination":"/proc","type":"proc","source":"proc"}]'));
      execFileSync(`${dir}/tabdock-crun`, ['create', '--bundle', bundle, 'id']);
      const written = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
      expect(written.process.args).toEqual(['/sbin/docker-init', '--', ...args]);
      expect(written.mounts).toEqual([initMount, { destination: '/proc', type: 'proc', source: 'proc' }]);
    }
    writeFileSync(`${bundle}/config.json`, config(['app'], '[]'));
    execFileSync(`${dir}/tabdock-crun`, ['create', '--bundle', bundle, 'id']);
    expect(JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')).mounts).toEqual([initMount]);
  });

  it('leaves i386 programs, missing ones, and containers that already have docker-init alone', () => {
    const bundle = bundleWith('i386', (root) => {
      writeFileSync(`${root}/bin/sh`, elf(1, 3));
      writeFileSync(`${root}/bin/amd64`, elf(2, 0x3e));
    });
    for (const args of [['sh'], ['nothere'], ['/sbin/docker-init', '--', 'amd64'], ['/bin/sh', '-c', 'amd64']]) {
      const text = config(args, '[]');
      writeFileSync(`${bundle}/config.json`, text);
      execFileSync(`${dir}/tabdock-crun`, ['create', '--bundle', bundle, 'id']);
      expect(readFileSync(`${bundle}/config.json`, 'utf8'), args.join(' ')).toBe(text);
    }
  });
});

describe('tabdock-runtime for BuildKit', () => {
  it("runs crun when started through a symlink named runc, and replaces the hook on `run` as on create", () => {
    const bundle = `${dir}/buildkit-bundle`;
    mkdirSync(bundle);
    writeFileSync(`${bundle}/config.json`, HOOK_CONFIG(999));
    const args = ['--log', '/l.json', '--log-format', 'json', 'run', '--bundle', bundle, '--no-pivot', 'step1'];
    // BuildKit runs it by the bare name from its PATH, so argv[0] says runc.
    const result = spawnSync('runc', args, { env: { PATH: `${dir}/buildkit` } });
    expect(result.status).toBe(0);
    expect(readFileSync(`${dir}/fake-crun.args`, 'utf8').trim().split('\n')).toEqual([`${dir}/fake-crun`, ...args]);
    expect(JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')).hooks.prestart[0].path).toBe(`${dir}/setkey`);
  });
});

describe('tabdock-modprobe', () => {
  it('fails binfmt- requests without running modprobe, and passes every other request on unchanged', () => {
    rmSync(`${dir}/fake-modprobe.args`, { force: true });
    expect(spawnSync(`${dir}/tabdock-modprobe`, ['-q', '--', 'binfmt-464c']).status).toBe(1);
    expect(() => readFileSync(`${dir}/fake-modprobe.args`)).toThrow();
    expect(spawnSync(`${dir}/tabdock-modprobe`, ['-q', '--', 'rtnl-link-dummy']).status).toBe(0);
    expect(readFileSync(`${dir}/fake-modprobe.args`, 'utf8').trim().split('\n')).toEqual([`${dir}/fake-modprobe`, '-q', '--', 'rtnl-link-dummy']);
  });
});

describe('tabdock-setkey', () => {
  let server: Server;
  let received = '';
  let answer = 'success';

  beforeAll(async () => {
    mkdirSync(`${dir}/exec-root/libnetwork`, { recursive: true });
    server = createServer((socket) => {
      socket.once('data', (data) => {
        received = data.toString();
        socket.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(`${dir}/exec-root/libnetwork/abc123.sock`, resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  // Asynchronous: the stand-in dockerd listens in this process, so a synchronous spawn would never see an answer.
  const runHook = (state: string, args = [`-exec-root=${dir}/exec-root`, 'c0ffee', 'abc123']) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(`${dir}/setkey`, args, { argv0: 'libnetwork-setkey' });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stderr }));
      // A hook that refuses its arguments exits before reading its state: the write then fails with EPIPE,
      // which is the hook's business, not the test's.
      child.stdin.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
      child.stdin.end(state);
    });

  it("sends dockerd the container's network namespace as the re-exec does, and succeeds on its answer", async () => {
    const result = await runHook('{"ociVersion":"1.1.0","id":"c0ffee","status":"creating","pid":1234,"bundle":"/b","annotations":{"pid":"9"}}');
    expect(result.status).toBe(0);
    expect(JSON.parse(received)).toEqual({ ContainerID: 'c0ffee', Key: '/proc/1234/ns/net' });
    expect(received.endsWith('\n')).toBe(true);
  });

  it("fails with dockerd's reason, and refuses a state without a pid or odd ids", async () => {
    answer = 'failed to get sandbox for c0ffee';
    const refused = await runHook('{"pid": 55}');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('failed to get sandbox for c0ffee');
    answer = 'success';
    expect(await runHook('{"id":"x"}')).toMatchObject({ status: 1, stderr: expect.stringContaining('no pid') });
    expect(await runHook('{"pid":1}', [`-exec-root=${dir}/exec-root`, 'c0"ffee', 'abc123'])).toMatchObject({ status: 1, stderr: expect.stringContaining('unexpected characters') });
    expect(await runHook('{"pid":1}', ['-exec-root', `${dir}/nowhere`, 'c0ffee', 'abc123'])).toMatchObject({ status: 1, stderr: expect.stringContaining('nowhere/libnetwork/abc123.sock') });
  });
});

describe('tabdock-sealed-copy', () => {
  // Mounting needs root and a mount namespace of its own (so nothing outside this test sees the mount); the
  // project's setup and CI run as root, as the image build does.
  it('puts a sealed copy over the file: same bytes, runs, cannot be written, and is what /proc/self/exe sees', () => {
    const program = `${dir}/self-seals`;
    writeFileSync(
      `${dir}/self-seals.c`,
      '#define _GNU_SOURCE\n#include <fcntl.h>\n#include <stdio.h>\nint main(void){int fd=open("/proc/self/exe",O_RDONLY);printf("seals=%d\\n",fcntl(fd,F_GET_SEALS));return 0;}\n',
    );
    execFileSync('gcc', ['-o', program, `${dir}/self-seals.c`]);
    const original = readFileSync(program);
    const script = [
      `${dir}/sealed-copy ${program} || exit 10`,
      `${program}`,
      `cmp -s ${program} ${dir}/self-seals.orig && echo same-bytes`,
      `(printf x >> ${program}) 2>/dev/null && echo writable || echo not-writable`,
      // TERM is ignored: the copy must outlive anything but KILL, or the path would answer EINVAL.
      `pkill -TERM -x sealed-copy; sleep 0.2; ${program} >/dev/null && echo survives-term`,
      'pkill -KILL -x sealed-copy',
    ].join('\n');
    writeFileSync(`${dir}/self-seals.orig`, original);
    const output = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    // F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE = 15: what crun and runc check before skipping their copy.
    expect(output.split('\n')).toEqual(['seals=15', 'same-bytes', 'not-writable', 'survives-term', '']);
    // Outside that namespace the file was never touched.
    expect(readFileSync(program).equals(original)).toBe(true);
    const plain = execFileSync(program, { encoding: 'utf8' });
    expect(plain).toBe('seals=-1\n');
  });

  it('says what went wrong and exits 1 for a path it cannot copy, 2 without one', () => {
    const missing = spawnSync(`${dir}/sealed-copy`, [`${dir}/no-such-file`], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no-such-file: No such file or directory');
    expect(spawnSync(`${dir}/sealed-copy`, [], { encoding: 'utf8' }).status).toBe(2);
  });
});
