// Typings for the v86 0.5.462 internals that v86.d.ts leaves out, in one place. Names were read in
// node_modules/v86/build/libv86-debug.mjs (VirtQueue, VirtioConsole, FetchNetworkAdapter, TCPConnection) and
// survive minification in libv86.mjs (checked by grep). If a v86 upgrade renames one, only this file changes.
import type { V86 } from 'v86';

/** One virtio descriptor as VirtQueue.get_descriptor returns it (virtio 1.0 spec, section 2.6.5). */
export interface VirtqDescriptor {
  addr_low: number;
  addr_high: number;
  len: number;
  /** Bit 0: NEXT, bit 1: WRITE (device-writable), bit 2: INDIRECT. */
  flags: number;
  next: number;
}

export interface VirtQueue {
  size: number;
  desc_addr: number;
  avail_addr: number;
  used_addr: number;
  avail_last_idx: number;
  is_configured(): number | boolean;
  has_request(): boolean;
  count_requests(): number;
  avail_get_entry(index: number): number;
  get_descriptor(tableAddress: number, index: number): VirtqDescriptor;
}

export interface VirtioDevice {
  queues: VirtQueue[];
  is_feature_negotiated(feature: number): boolean;
}

export interface VirtioConsoleDevice {
  virtio: VirtioDevice;
  ports: number;
  rows: number;
  cols: number;
}

/** The connection object of v86's fake TCP stack (src/browser/fake_network.js, TCPConnection). */
export interface V86TcpConnection {
  /** The port the guest dialled (for guest-initiated connections). */
  sport: number;
  dport: number;
  state: string;
  on(event: 'data', handler: (data: Uint8Array) => void): void;
  on(event: 'shutdown' | 'close', handler: () => void): void;
  accept(packet?: unknown): void;
  write(data: Uint8Array): void;
  close(): void;
}

/** FetchNetworkAdapter (relay_url "fetch"): its fetch is an instance property, replaceable. */
export interface V86FetchNetworkAdapter {
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Guest -> network frames (the bus's `net0-send` handler calls it by name, so an own property replaces it). */
  send(frame: Uint8Array): void;
  /** Network -> guest frames. */
  receive(frame: Uint8Array): void;
  router_mac: Uint8Array;
  router_ip: Uint8Array;
  /** Open connections by "guestIp:guestPort:destIp:destPort"; a SYN whose tuple is absent after the
   * `tcp-connection` event is answered with RST (fake_network.js handle_fake_tcp). */
  tcp_conn: Record<string, unknown>;
  connect(port: number): V86TcpConnection;
  tcp_probe(port: number): Promise<boolean>;
  mtu?: number;
}

/** The bus both halves of v86 talk through (src/bus.js). */
export interface V86Bus {
  /** Handlers by event name, called in this order. */
  listeners?: Record<string, Array<{ fn: (value: never) => void; this_value: unknown }>>;
  send(name: string, value?: unknown): void;
  register(name: string, handler: (value: never) => void, thisValue?: unknown): void;
  unregister(name: string, handler: (value: never) => void): void;
}

/** Bus events v86 sends that v86.d.ts does not list; the host uses ports 0 (shell) and 1 (agent). */
export interface ExtraBusEvents {
  'virtio-console1-output-bytes': Uint8Array;
  'virtio-console1-input-bytes': Uint8Array;
  'virtio-console1-resize': [cols: number, rows: number];
  'tcp-connection': V86TcpConnection;
}

/** The guest RAM view and its zeroing function (src/cpu.js create_memory, unpack_memory). */
export interface V86CpuRam {
  mem8: Uint8Array;
  zero_memory(address: number, length: number): void;
}

/** v86's JIT hooks on its CPU object (src/cpu.js codegen_finalize and friends; src/browser/starter.js imports). */
export interface V86CpuJit {
  wasm_memory: WebAssembly.Memory;
  wm: { wasm_table: WebAssembly.Table };
  jit_imports: WebAssembly.ModuleImports;
  codegen_finalize(wasmTableIndex: number, start: number, stateFlags: number, ptr: number, len: number): void;
  codegen_finalize_finished(wasmTableIndex: number, start: number, stateFlags: number): void;
  jit_clear_all_funcs(): void;
  run_hardware_timers(acpiEnabled: number, now: number): number;
  /** Index 1: MAX_PAGES, 2: JIT_USE_LOOP_SAFETY, 3: MAX_EXTRA_BASIC_BLOCKS (src/rust/jit.rs). */
  set_jit_config?(index: number, value: number): void;
}

/** v86's main loop object (src/main.js v86): how it yields between ~1 ms slices. */
export interface V86MainLoop {
  yield(waitMs: number, tick: number): void;
  yield_callback(tick: number): void;
  unregister_yield?(): void;
}

/** The parts of a V86 instance we reach past the public API. */
export interface V86WithInternals {
  bus: V86Bus;
  network_adapter?: V86FetchNetworkAdapter;
  v86?: { cpu: { devices: { virtio_console?: VirtioConsoleDevice } } & Partial<V86CpuRam> };
}

export function internalsOf(emulator: V86): V86WithInternals {
  return emulator as unknown as V86WithInternals;
}

export function addBusListener<K extends keyof ExtraBusEvents>(
  emulator: V86,
  name: K,
  listener: (value: ExtraBusEvents[K]) => void,
): void {
  internalsOf(emulator).bus.register(name, listener as (value: never) => void);
}

/**
 * Registers a bus listener that runs BEFORE those already there (v86's fetch adapter registers its port-80
 * `tcp-connection` handler in its constructor, so a plain add_listener always runs after it). Returns the
 * function that removes it.
 */
export function prependBusListener<K extends keyof ExtraBusEvents>(
  emulator: V86,
  name: K,
  listener: (value: ExtraBusEvents[K]) => void,
): () => void {
  const bus = internalsOf(emulator).bus;
  const fn = listener as (value: never) => void;
  bus.register(name, fn);
  const list = bus.listeners?.[name];
  const index = list?.findIndex((entry) => entry.fn === fn) ?? -1;
  if (list && index > 0) list.unshift(...list.splice(index, 1));
  return () => bus.unregister(name, fn);
}

/** The receive queue of a virtio console port: port 0 uses queue 0, port n uses queue 2n+2 (virtio 1.0 §5.3.2). */
export function consoleReceiveQueueId(port: number): number {
  return port === 0 ? 0 : 2 * port + 2;
}

const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;

/**
 * How many bytes the guest can take right now on a console port: the writable length of the next receive
 * buffer it posted, or 0 when it posted none (v86 then DROPS the input; a chunk bigger than the buffer is cut).
 * Walks the descriptor chain without popping it, the same walk VirtQueueBufferChain does. The console device
 * does not offer VIRTIO_RING_F_INDIRECT_DESC, so no indirect tables appear here.
 */
export function consoleReceiveCapacity(emulator: V86, port: number): number {
  const device = internalsOf(emulator).v86?.cpu.devices.virtio_console;
  const queue = device?.virtio.queues[consoleReceiveQueueId(port)];
  if (!queue || !queue.is_configured() || !queue.has_request()) return 0;
  let index = queue.avail_get_entry(queue.avail_last_idx);
  let writableBytes = 0;
  for (let hops = 0; hops <= queue.size; hops++) {
    const descriptor = queue.get_descriptor(queue.desc_addr, index);
    if (descriptor.flags & VIRTQ_DESC_F_WRITE) writableBytes += descriptor.len >>> 0;
    if (!(descriptor.flags & VIRTQ_DESC_F_NEXT)) break;
    index = descriptor.next;
  }
  return writableBytes;
}

/**
 * What an emulator that has never run can hold in RAM: v86's init copies the BIOS and VGA BIOS below 1 MiB
 * (cpu.load_bios). Above that its RAM is the WebAssembly memory grown for it, which starts out zero; the VM
 * test fresh-restore.vm.test.ts checks this for the v86 in use.
 */
export const FRESH_RAM_WRITTEN_BYTES = 1024 * 1024;

/**
 * Runs `restore` (v86's restore_state) on an emulator that has never run, with one v86 step cut short: before
 * unpacking the saved pages, set_state zeroes all guest RAM (cpu.unpack_memory calls zero_memory(0, size)),
 * which for 1 GiB took 1.3-1.6 s in Node and made every page of it resident. Only the part init wrote is
 * zeroed; pages the state holds are written as before. Emulators without the internals restore unchanged.
 */
export async function restoreIntoFreshEmulator<T>(emulator: V86, restore: () => Promise<T>): Promise<T> {
  const cpu = internalsOf(emulator).v86?.cpu;
  const zeroMemory = cpu?.zero_memory;
  const ramBytes = cpu?.mem8?.byteLength;
  if (!cpu || typeof zeroMemory !== 'function' || ramBytes === undefined) return restore();
  cpu.zero_memory = (address, length) => {
    const wholeRam = address === 0 && length === ramBytes;
    zeroMemory.call(cpu, address, wholeRam ? Math.min(FRESH_RAM_WRITTEN_BYTES, ramBytes) : length);
  };
  try {
    return await restore();
  } finally {
    cpu.zero_memory = zeroMemory;
  }
}
