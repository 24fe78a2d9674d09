// VmHost's state machine against a fake v86 and an in-memory image, no VM: a boot snapshot v86 refuses falls back
// to a cold boot with a notice, detaching the refused emulator's network before the next one's is attached; the
// guest's ready marker makes the VM run; a kernel panic or a boot past its deadline fails it with its code.
import type { V86, V86Options } from 'v86';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkOptions, VmEvent } from '../shared/contract.ts';
import { sha256HexOf, type AssetFile, type AssetSource, type Manifest } from './assets.ts';
import { MemoryFolder } from './disk/disk-folder.ts';
import { encodeStateFile } from './snapshot/state-file.ts';
import { VmHost } from './vm-host.ts';

const MIB = 1024 * 1024;
const DISK_BYTES = 4 * MIB;

/** A v86 as far as VmHost sees it: a bus, 'emulator-loaded' after construction, a serial console to write to. */
class FakeV86 {
  readonly listeners = new Map<string, Set<(value: unknown) => void>>();
  readonly bus = {
    register: (name: string, listener: (value: unknown) => void) => void this.on(name).add(listener),
    unregister: (name: string, listener: (value: unknown) => void) => void this.on(name).delete(listener),
    send: () => undefined,
  };
  destroyed = false;

  constructor(
    readonly options: V86Options,
    private readonly refuseState: boolean,
  ) {
    setTimeout(() => this.fire('emulator-loaded', undefined), 0);
  }

  add_listener(name: string, listener: (value: unknown) => void): void {
    this.on(name).add(listener);
  }
  remove_listener(name: string, listener: (value: unknown) => void): void {
    this.on(name).delete(listener);
  }
  fire(name: string, value: unknown): void {
    for (const listener of [...this.on(name)]) listener(value);
  }
  /** Guest output on ttyS0, one byte per event as v86 sends it. */
  serial(text: string): void {
    for (const byte of new TextEncoder().encode(text)) this.fire('serial0-output-byte', byte);
  }
  restore_state(): Promise<void> {
    return this.refuseState ? Promise.reject(new Error('Invalid header: not a v86 state')) : Promise.resolve();
  }
  run = () => Promise.resolve();
  stop = () => Promise.resolve();
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
  private on(name: string): Set<(value: unknown) => void> {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    return set;
  }
}

async function memoryImage(): Promise<{ source: AssetSource; manifest: Manifest }> {
  const files = new Map<string, Uint8Array>();
  const entry = async (name: string, bytes: Uint8Array): Promise<AssetFile> => {
    files.set(name, bytes);
    return { file: name, bytes: bytes.length, sha256: await sha256HexOf(bytes) };
  };
  const rootDisk = { file: 'root.ext4', bytes: DISK_BYTES, sha256: 'a'.repeat(64) };
  // A well-formed state file for this image whose payload is not a v86 state: only the restore finds out.
  const state = await encodeStateFile(
    { kind: 'boot-snapshot', buildId: 'build-1', rootDiskSha256: rootDisk.sha256, memoryBytes: 64 * MIB, createdAt: '2026-01-01T00:00:00Z', compression: 'none', rawBytes: 16 },
    new Uint8Array(16).fill(7),
  );
  const manifest: Manifest = {
    formatVersion: 1,
    buildId: 'build-1',
    createdAt: '2026-01-01T00:00:00Z',
    recommendedMemoryBytes: 64 * MIB,
    cmdline: 'console=ttyS0',
    files: { bios: await entry('bios', new Uint8Array(8)), vgaBios: await entry('vga', new Uint8Array(8)), kernel: await entry('kernel', new Uint8Array(8)), initrd: await entry('initrd', new Uint8Array(8)), rootDisk },
    snapshot: { ...(await entry('snapshot.state', state)), buildId: 'build-1', memoryBytes: 64 * MIB, rawBytes: 16 },
  };
  const source: AssetSource = {
    location: 'memory',
    loadManifest: async () => manifest,
    loadFile: async (file) => files.get(file.file)!.slice().buffer,
    diskImage: async (file) => ({ url: file.file, sizeBytes: file.bytes }),
  };
  return { source, manifest };
}

const network: NetworkOptions = { proxyUrl: 'https://example.org/cors-proxy/', relayUrl: 'off' };
const hosts: VmHost[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.shutdown();
});

async function fakeHost(onEmulator: (emulator: FakeV86, index: number) => void) {
  const { source } = await memoryImage();
  const emulators: FakeV86[] = [];
  const networks: string[] = [];
  const events: VmEvent[] = [];
  const host = new VmHost({
    assets: () => source,
    wasmPath: 'v86.wasm',
    disk: { root: async () => new MemoryFolder(), imageSource: () => ({ sizeBytes: DISK_BYTES, location: 'memory', read: async (_start, length) => new Uint8Array(length) }), zstdState: () => Promise.reject(new Error('no saves here')) },
    createEmulator: (options) => {
      // Only the boot snapshot's emulator has no kernel: that is the one v86 refuses.
      const emulator = new FakeV86(options, options.bzimage === undefined);
      emulators.push(emulator);
      onEmulator(emulator, emulators.length - 1);
      return emulator as unknown as V86;
    },
    attachNetwork: (emulator, options) => {
      const index = emulators.indexOf(emulator as unknown as FakeV86);
      networks.push(`attached ${index} ${options?.relayUrl}`);
      return { detach: () => void networks.push(`detached ${index}`) };
    },
  });
  host.subscribe((event) => {
    if (event.type !== 'console' && event.type !== 'download') events.push(event);
  });
  hosts.push(host);
  return { host, emulators, networks, events };
}

/** A cold-booted fake guest that reaches its ready marker once its devices exist. */
function bootsToReady(emulator: FakeV86): void {
  emulator.add_listener('emulator-loaded', () => setTimeout(() => emulator.serial('Linux version 6.1\ntabdock-stage: ready 12.5\n'), 0));
}

describe('VmHost', () => {
  it('falls back from a boot snapshot v86 refuses to a cold boot, detaching the first network before the next is attached', async () => {
    const { host, emulators, networks, events } = await fakeHost((emulator) => bootsToReady(emulator));
    const result = await host.boot({ assetBase: 'memory', network });
    expect(result).toMatchObject({ startedFrom: 'cold-boot', restoredFromSnapshot: false });
    expect(emulators.map((emulator) => emulator.destroyed)).toEqual([true, false]);
    expect(networks).toEqual(['attached 0 off', 'detached 0', 'attached 1 off']);
    expect(events.filter((event) => event.type === 'notice')).toMatchObject([
      { notice: { code: 'snapshot-unusable', message: expect.stringMatching(/could not be resumed.*from scratch/), detail: expect.stringContaining('Invalid header') } },
    ]);
    expect(events.filter((event) => event.type === 'status').map((event) => (event.type === 'status' ? event.state : ''))).toEqual(['booting', 'running']);
    expect(host.probe.timeline.at(-1)).toMatchObject({ stage: 'ready', guestUptimeS: 12.5 });
    await host.shutdown();
    expect(networks.at(-1)).toBe('detached 1');
    expect(emulators[1]?.destroyed).toBe(true);
  });

  it('fails the boot on a kernel panic with the console lines, and stops there', async () => {
    const { host, events } = await fakeHost((emulator) =>
      emulator.add_listener('emulator-loaded', () => setTimeout(() => emulator.serial('Linux version 6.1\nKernel panic - not syncing: VFS\n'), 0)),
    );
    await expect(host.boot({ assetBase: 'memory', network, resume: { kind: 'kernel' } })).rejects.toMatchObject({ code: 'kernel-panic', detail: expect.stringContaining('Kernel panic') });
    expect(events.filter((event) => event.type === 'error')).toHaveLength(1);
    await expect(host.exec('true')).rejects.toMatchObject({ code: 'not-running' });
  });

  it('gives up at the boot deadline, naming the last stage reached', async () => {
    const { host } = await fakeHost((emulator) => emulator.add_listener('emulator-loaded', () => emulator.serial('Linux version 6.1\n')));
    await expect(host.boot({ assetBase: 'memory', network, resume: { kind: 'kernel' }, bootTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'boot-timeout',
      message: expect.stringContaining('(last stage: booting-kernel)'),
    });
  });

  it('refuses to resume the saved session without owning it', async () => {
    const { host } = await fakeHost(() => undefined);
    await expect(host.boot({ assetBase: 'memory', network, resume: { kind: 'saved-session' } })).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining("needs disk {store: 'session'}") });
  });
});
