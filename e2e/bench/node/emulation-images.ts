// The images the "emulation" bench section (emulation.ts) measures, built on this host and pushed to its
// registry: a tools image per platform (busybox, a multi-threaded C program, a Go program), a minimal Debian
// per platform with a few .debs to install, and an amd64 Debian with Node and a JVM. Needs root, mmdebstrap,
// gcc with -m32 and go; built once into TABDOCK_BENCH_EMULATION_CACHE (default: a folder in the temp dir).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE } from '../../../worker/testing/oci-layout.ts';

export type Arch = '386' | 'amd64';
const DEBIAN_ARCH: Record<Arch, string> = { '386': 'i386', amd64: 'amd64' };
/** What `dpkg -i` installs in the Debian images (from the build host's Debian 12): a program and a library chain. */
export const DEBS = ['hello', 'tree', 'jq', 'libjq1', 'libonig5'];

// 4 threads add to one 64-bit counter with atomics and to another under a mutex: QEMU 7.2 does not promise
// atomicity for a 64-bit guest on a 32-bit host, so the totals are checked.
const THREADS_C = `#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#define THREADS 4
#define ADDS 100000
static uint64_t atomic_total, locked_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *work(void *arg) {
  (void)arg;
  for (int i = 0; i < ADDS; i++) {
    __atomic_fetch_add(&atomic_total, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&lock);
    locked_total++;
    pthread_mutex_unlock(&lock);
  }
  return 0;
}
int main(void) {
  struct timespec a, b;
  pthread_t t[THREADS];
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], 0, work, 0);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("threads-ms %ld atomic %llu locked %llu expected %d\\n", ms, (unsigned long long)atomic_total,
         (unsigned long long)locked_total, THREADS * ADDS);
  return atomic_total == THREADS * ADDS && locked_total == THREADS * ADDS ? 0 : 3;
}
`;

const GOCPU_GO = `package main

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	t0 := time.Now()
	sum := sha256.Sum256(buf)
	shaMs := time.Since(t0).Milliseconds()
	t1 := time.Now()
	var wg sync.WaitGroup
	var n int64
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				atomic.AddInt64(&n, 1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("go-sha256-8MiB-ms %d goroutines-ms %d count %d sum %x\\n", shaMs, time.Since(t1).Milliseconds(), n, sum[:4])
}
`;

function sh(command: string, cwd?: string): void {
  execFileSync('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'], ...(cwd ? { cwd } : {}) });
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** A one-layer OCI layout of a directory tree, tagged `tag`, for one linux platform. */
async function layoutOfTree(tree: string, layoutDir: string, tag: string, arch: Arch, cmd: string[]): Promise<void> {
  await rm(layoutDir, { recursive: true, force: true });
  const blobs = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const tar = join(layoutDir, 'layer.tar');
  sh(`tar --numeric-owner --sort=name -C '${tree}' -cf '${tar}' . && gzip -n -1 -k '${tar}'`);
  const diffId = await fileSha256(tar);
  const layerDigest = await fileSha256(`${tar}.gz`);
  const layerBytes = (await stat(`${tar}.gz`)).size;
  sh(`mv '${tar}.gz' '${join(blobs, layerDigest.slice(7))}' && rm '${tar}'`);
  const put = async (value: unknown) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(blobs, digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const config = await put({
    architecture: arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  });
  const manifest = await put({
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerBytes }],
  });
  const index = await put({
    schemaVersion: 2,
    mediaType: INDEX_MEDIA_TYPE,
    manifests: [{ mediaType: MANIFEST_MEDIA_TYPE, ...manifest, platform: { architecture: arch, os: 'linux' } }],
  });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layoutDir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: INDEX_MEDIA_TYPE, ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}

/** The busybox layer of a test image's OCI layout, unpacked into `tree`. */
async function unpackBusybox(testLayout: string, tree: string): Promise<void> {
  const read = async (digest: string) => JSON.parse(await readFile(join(testLayout, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as unknown;
  const top = JSON.parse(await readFile(join(testLayout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const index = (await read(top.manifests[0]!.digest)) as { manifests: Array<{ digest: string }> };
  const manifest = (await read(index.manifests[0]!.digest)) as { layers: Array<{ digest: string }> };
  await mkdir(tree, { recursive: true });
  sh(`tar -xzf '${join(testLayout, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7))}' -C '${tree}'`);
}

export interface EmulationLayouts {
  /** tag -> OCI layout folder, for `library/emu-<name>:<tag>`. */
  tools: Record<Arch, string>;
  debian: Record<Arch, string>;
}

const cacheDir = () => process.env.TABDOCK_BENCH_EMULATION_CACHE ?? join(tmpdir(), 'tabdock-bench-emulation');

// OpenJDK's postinst registers its man page with update-alternatives, which fails when /usr/share/man/man1 (left
// out by the path filter) does not exist: the folder is made first.
const mmdebstrap = (arch: Arch, tree: string, include: string) =>
  sh(
    `mmdebstrap --quiet --variant=minbase --arch=${DEBIAN_ARCH[arch]} ${include ? `--include=${include}` : ''} ` +
      `--essential-hook='mkdir -p "$1/usr/share/man/man1"' ` +
      "--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' " +
      `trixie '${tree}' http://deb.debian.org/debian`,
  );

/** The amd64 Debian with Node and a JVM (the biggest image: built last, while the VM already runs). */
export async function buildRuntimesImage(log: (message: string) => void): Promise<string> {
  const layout = join(cacheDir(), 'runtimes-amd64');
  if (existsSync(join(layout, 'index.json'))) return layout;
  const tree = join(cacheDir(), 'runtimes-work');
  await rm(tree, { recursive: true, force: true });
  mmdebstrap('amd64', tree, 'nodejs,default-jre-headless');
  await layoutOfTree(tree, layout, 'amd64', 'amd64', ['bash']);
  await rm(tree, { recursive: true, force: true });
  log('emulation: runtimes image (Node, a JVM) for linux/amd64 built');
  return layout;
}

/** Builds (or finds, built before) the tools and Debian images. */
export async function buildEmulationImages(testImagesDir: string, log: (message: string) => void): Promise<EmulationLayouts> {
  const cache = cacheDir();
  const layouts: EmulationLayouts = {
    tools: { '386': join(cache, 'tools-386'), amd64: join(cache, 'tools-amd64') },
    debian: { '386': join(cache, 'debian-386'), amd64: join(cache, 'debian-amd64') },
  };
  const all = [...Object.values(layouts.tools), ...Object.values(layouts.debian)];
  if (all.every((dir) => existsSync(join(dir, 'index.json')))) {
    log(`emulation: images found in ${cache}`);
    return layouts;
  }
  const work = join(cache, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'threads.c'), THREADS_C);
  await writeFile(join(work, 'gocpu.go'), GOCPU_GO);
  log('emulation: building the C and Go programs');
  sh('gcc -O2 -static -pthread -o threads-amd64 threads.c && gcc -m32 -march=i686 -O2 -static -pthread -o threads-386 threads.c', work);
  sh('export HOME=$PWD GOCACHE=$PWD/.gocache CGO_ENABLED=0 && GOARCH=amd64 go build -o gocpu-amd64 gocpu.go && GOARCH=386 GO386=sse2 go build -o gocpu-386 gocpu.go', work);
  for (const arch of ['386', 'amd64'] as const) {
    const tree = join(work, `tools-${arch}`);
    await unpackBusybox(join(testImagesDir, arch === '386' ? 'busybox' : 'amd64'), tree);
    sh(`mkdir -p '${tree}/bench' && cp threads-${arch} '${tree}/bench/threads' && cp gocpu-${arch} '${tree}/bench/gocpu'`, work);
    await layoutOfTree(tree, layouts.tools[arch], arch, arch, ['sh']);
    log(`emulation: tools image for linux/${arch} built`);
  }
  for (const arch of ['386', 'amd64'] as const) {
    const tree = join(work, `debian-${arch}`);
    mmdebstrap(arch, tree, '');
    // The .debs come from this host's apt (Debian 12 with i386 added, as the image build sets it up).
    sh(`mkdir -p '${tree}/debs' && cd '${tree}/debs' && apt-get download -q ${DEBS.map((name) => `${name}:${DEBIAN_ARCH[arch]}`).join(' ')}`);
    await layoutOfTree(tree, layouts.debian[arch], arch, arch, ['bash']);
    log(`emulation: debian image for linux/${arch} built`);
  }
  await rm(work, { recursive: true, force: true });
  return layouts;
}
