// The one boundary between a VM host (worker/vm/vm-host.ts) and whoever drives it: the page (through comlink)
// or the Node CLI (in-process). Only types live here, so src/ can import this file without pulling worker code.
import type { EngineAction, EngineQuery, EngineQueryResults, EngineUpdate } from './engine-contract.ts';

export type * from './engine-contract.ts';

/** Boot stages in the order a cold boot passes them; a snapshot restore jumps from 'downloading' to 'ready'. */
export type BootStage =
  | 'downloading'
  | 'booting-kernel'
  | 'starting-init'
  | 'starting-containerd'
  | 'starting-docker'
  | 'ready';

export const BOOT_STAGES: readonly BootStage[] = [
  'downloading',
  'booting-kernel',
  'starting-init',
  'starting-containerd',
  'starting-docker',
  'ready',
];

/** Every failure that can reach a user carries one of these codes. */
export type VmErrorCode =
  | 'no-webassembly'
  | 'asset-missing'
  | 'asset-http'
  | 'asset-not-binary'
  | 'asset-hash-mismatch'
  | 'manifest-invalid'
  | 'boot-timeout'
  | 'kernel-panic'
  | 'dockerd-failed'
  | 'worker-crashed'
  | 'exec-timeout'
  | 'not-running'
  | 'guest-disk-full'
  | 'internal';

export interface VmError {
  code: VmErrorCode;
  /** A sentence that says what happened and what to do about it. */
  message: string;
  /** The raw detail (URL, status, last console lines, stack), shown under the message. */
  detail?: string;
}

/** Thrown (or rejected with) across the boundary; structured-clone keeps the fields. */
export class VmFailure extends Error implements VmError {
  readonly code: VmErrorCode;
  readonly detail?: string;
  constructor(error: VmError) {
    super(error.message);
    this.name = 'VmFailure';
    this.code = error.code;
    if (error.detail !== undefined) this.detail = error.detail;
  }
}

export type VmState = 'idle' | 'booting' | 'running' | 'stopped' | 'failed';

export type VmEvent =
  /** Asset download progress; totalBytes is 0 when unknown. */
  | { type: 'download'; loadedBytes: number; totalBytes: number }
  | { type: 'stage'; stage: BootStage; atMs: number }
  /** Guest console output (the user's shell), batched: never one event per byte. */
  | { type: 'console'; data: Uint8Array }
  | { type: 'status'; state: VmState; memoryBytes: number; restoredFromSnapshot: boolean }
  | { type: 'error'; error: VmError }
  /** Something the user should know that is not a failure, e.g. a saved state could not be used (see VmNotice). */
  | { type: 'notice'; notice: VmNotice }
  /**
   * The guest's listening TCP sockets (`ADDRESS:PORT` in /proc/net/tcp's hex, one per line), sent when they change
   * and once after each start; the port preview turns them into published ports.
   */
  | { type: 'listening-sockets'; sockets: string }
  /** The Docker daemon's events and pull progress, while the page watches them (VmApi.watchEngine). */
  | { type: 'engine'; update: EngineUpdate };

/** Why a notice was raised; each comes with a sentence for the user. */
export type VmNoticeCode =
  /** The image has no boot snapshot, or it belongs to another build or is damaged: booting from scratch. */
  | 'snapshot-unusable'
  /** The session to resume (BootOptions.resume) is damaged or from another image build: started clean, the file is kept. */
  | 'session-unusable'
  /** The TCP relay (NetworkOptions.relayUrl) cannot be reached: HTTPS and other TCP from containers is off. */
  | 'relay-unreachable'
  /** The relay refused a connection a container asked for (its policy, limits, or the host refused). */
  | 'relay-refused'
  /**
   * A Docker Hub image has no linux/386 variant: which platforms it has, `--platform linux/amd64` (emulated)
   * where it has that, and images that do have linux/386. Shown in the terminal before dockerd's own error.
   */
  | 'image-platform'
  /** Browser storage is full: disk blocks the guest wrote wait in memory; saving needs space (message says how much). */
  | 'storage-full'
  /** Reading the disk image failed (network); retried until it works, the guest waits meanwhile. */
  | 'disk-read-failed';

export interface VmNotice {
  code: VmNoticeCode;
  message: string;
  detail?: string;
  /** session-unusable for a saved session: it was moved aside under this id; exportDamagedSession(id) makes a file of it. */
  damagedSessionId?: string;
}

/** Where a boot started from: the kernel, the image's boot snapshot, or a saved session. */
export type StartedFrom = 'cold-boot' | 'boot-snapshot' | 'session';

export type VmEventListener = (event: VmEvent) => void;

/**
 * What a boot starts from. A source that cannot be used gives way to the next, with a notice that says why: a
 * session, then the image's boot snapshot (or the kernel when `otherwise` says so), then the kernel.
 */
export type ResumeFrom =
  /** A cold boot (`?snapshot=off`, `npm run vm -- --cold`, making the boot snapshot). */
  | { kind: 'kernel' }
  /** The image's boot snapshot, when it matches the image. */
  | { kind: 'boot-snapshot' }
  /**
   * The saved session of this tab (it needs disk.store 'session'); when there is none, `legacy`: a format-1
   * save the page kept from before the block store.
   */
  | { kind: 'saved-session'; legacy?: Blob; otherwise?: 'boot-snapshot' | 'kernel' }
  /** A session file the user opened (format 1 or 2: Open…, Download's files). */
  | { kind: 'file'; file: Blob; otherwise?: 'boot-snapshot' | 'kernel' };

export interface BootOptions {
  /** Base URL (browser) or directory path (Node) holding manifest.json and the files it names. */
  assetBase: string;
  /** Guest RAM; defaults to the manifest's recommended size. */
  memoryBytes?: number;
  /** Give up and report 'boot-timeout' when dockerd is not ready by then. */
  bootTimeoutMs?: number;
  /** Initial terminal size, so the guest starts with the right `stty size`. */
  cols?: number;
  rows?: number;
  /** What the VM starts from; default the image's boot snapshot. */
  resume?: ResumeFrom;
  /**
   * Where the guest disk's written blocks live (worker/vm/disk/): 'session' for the tab that owns the saved
   * session (it can resume it and saves into it; `discardSaved` deletes it first: Reset), 'scratch' for any
   * other (a private store, removed once its tab is gone). Default 'scratch'.
   */
  disk?: {
    store: 'session' | 'scratch';
    discardSaved?: boolean;
  };
  /** Where the guest's traffic leaves (the page's network settings, complete); the browser worker needs them. */
  network?: NetworkOptions;
  /** Emulator settings other than the measured defaults (experiments and benchmarks). */
  tuning?: EmulatorTuning;
  /**
   * After a restore, once the guest answered and if nothing was typed yet, run one throwaway container in the
   * background (the guest's tabdock-warm-up) so the user's first `docker run` finds the emulator's JIT warm.
   * The page asks for it unless a lab is open; default off (tests and the Node harness run commands at once).
   */
  warmUp?: boolean;
}

/**
 * How the emulator runs: v86's JIT and main-loop settings (worker/vm/v86-tuning.ts). Each has a default chosen by
 * measurement; the fields exist to measure alternatives (`npm run bench`, the page's `?jit...` parameters).
 */
export interface EmulatorTuning {
  /** Heat (about one per instruction run) after which a page of guest code is compiled; v86's own is 200,000. */
  jitThreshold?: number;
  /** Compile each JIT module synchronously instead of one async compile at a time. */
  jitSyncCompile?: boolean;
  /** v86 set_jit_config: pages per module (v86: 3) and extra basic blocks per module (v86: 250). */
  jitMaxPages?: number;
  jitMaxExtraBasicBlocks?: number;
  /** Browser worker: yield between slices with a MessageChannel ('channel') or v86's helper worker ('helper'). */
  yield?: 'channel' | 'helper';
  /**
   * After a restore, load the root disk chunks the boot snapshot lists (what a first docker run reads) in the
   * background once the prompt is live. Default on.
   */
  diskPrefetch?: boolean;
}

/** What v86's JIT did since the emulator started (worker/vm/v86-tuning.ts instrumentJit). */
export interface JitStats {
  modulesCompiled: number;
  wasmBytesCompiled: number;
  /** Time spent compiling on the emulator's thread (synchronous compiles only). */
  compileMs: number;
  /**
   * Asynchronous compiles: the time from v86 handing a module to WebAssembly.instantiate until it was in use,
   * summed and at most. v86 compiles one module at a time and leaves every other hot page interpreted meanwhile.
   */
  compileWaitMs: number;
  compileWaitMaxMs: number;
  /** How often the JIT dropped every module because its table of 900 was full. */
  cacheFlushes: number;
}

/** The root disk image's read cache (worker/vm/disk/image-cache.ts): what the guest read and what it cost. */
export interface DiskImageStats {
  hits: number;
  misses: number;
  fetchedBytes: number;
  cachedBytes: number;
  prefetchedBytes: number;
}

/** Counters that say where a running VM's time went, for the bench (VmApi.diagnostics). */
export interface VmDiagnostics {
  jit?: JitStats;
  diskImage?: DiskImageStats;
  /** The background load of the boot snapshot's prefetch list after the last restore, once it finished. */
  diskPrefetch?: { loadedBytes: number; failed: number; ms: number };
  /** The warm-up after the last restore (BootOptions.warmUp): skipped because the user typed, or how it went. */
  warmUp?: { skipped: true } | { startedAfterReadyMs: number; ms: number; exitCode: number };
}

/**
 * Where the guest's traffic leaves, complete and absolute: the page turns its build's defaults and the user's
 * choices into these once (src/net-settings.ts) and sends them with boot(). The Node harness takes its network
 * from its flags instead (worker/node/network-flags.ts). Parsers for each field: network-options.ts.
 */
export interface NetworkOptions {
  /** The CORS proxy registry traffic leaves through: an absolute http(s) URL ending in '/'. */
  proxyUrl: string;
  /** Docker Hub replacement: `host[:port]` (HTTPS) or an `http(s)://host[:port]` origin, e.g. mirror.gcr.io; absent: Docker Hub. */
  dockerHubUpstream?: string;
  /** The Wisp TCP relay for everything else containers connect to: an absolute ws(s):// URL ending in '/', or 'off'. */
  relayUrl: string;
}

/**
 * Where the time of a restore goes, for the status line's tooltip and the bench: the state read and checked
 * (downloaded or from the cache, sha256, decompressed when gzip), the emulator created (wasm, firmware, disk),
 * the state loaded into it (v86's zstd decode and set_state), the guest clock set to now (the prompt waits
 * for it), the guest agent's first answer after it.
 */
export type StartStep = 'state-read' | 'emulator-loaded' | 'state-loaded' | 'clock-set' | 'guest-answered';

export interface BootResult {
  /** Milliseconds since boot() was called at which each stage was reached. */
  timeline: Partial<Record<BootStage, number>>;
  /** Milliseconds since boot() was called at which each step of the last start attempt ended. */
  steps: Partial<Record<StartStep, number>>;
  restoredFromSnapshot: boolean;
  startedFrom: StartedFrom;
}

/** A save of the session (worker/vm/disk/session-file.ts): the session file written beside the block store. */
export interface SavedState {
  /** Bytes of the session file written (machine state and block index; the blocks stay in the store). */
  fileBytes: number;
  /** Bytes of disk blocks the session holds (written since the image). */
  diskBytes: number;
  /** Size of the machine state before compression. */
  rawBytes: number;
  buildId: string;
  createdAt: string;
  /** Milliseconds each step of the save took, in order (the page shows them as the message's tooltip). */
  stepsMs: SaveSteps;
}

/**
 * The steps of a save: the guest's caches dropped (an agent command), v86's save_state(), the state compressed,
 * the session file written (atomic replace).
 */
export interface SaveSteps {
  quiesce: number;
  state: number;
  compress: number;
  write: number;
}

/** A standalone session file (state and blocks), made for Download; `file` is disk-backed where possible. */
export interface SessionExport {
  file: Blob;
  fileName: string;
  bytes: number;
  createdAt: string;
}

export interface ExecOptions {
  /** Kill the command and reject with 'exec-timeout' after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** stdout and stderr of the command, interleaved as the guest wrote them. */
  output: string;
  exitCode: number;
}

/** A browser request for a TCP port of the guest (port preview, src/port-preview/): what can cross a message. */
export interface GuestHttpRequest {
  /** The guest port, e.g. 8080 for a container started with `-p 8080:80`. */
  port: number;
  method: string;
  /** origin-form path and query as the server in the guest sees it, e.g. `/css/site.css?v=2`. */
  target: string;
  headers: Array<[name: string, value: string]>;
  body?: ArrayBuffer;
}

/** Why a guest port gave no (whole) response; each comes with a sentence for the error page. */
export type GuestHttpErrorCode =
  /** The guest refused the connection: nothing listens on that port. */
  | 'not-listening'
  /** No answer to the connection or no response head in time. */
  | 'timeout'
  /** The port answered, but not with HTTP/1.x, or cut the response short. */
  | 'bad-response'
  /** The request cannot be sent (bad method or path). */
  | 'bad-request'
  /** No VM is running in the tab that was asked. */
  | 'vm-not-running';

/** Why a preview's request never reached the guest: refused on the way (src/port-preview/), or nobody relays it. */
export type PreviewRelayErrorCode =
  /** The app or the preview shell refuses this port: the preview was opened for another one, or it is the Engine API's. */
  | 'not-allowed'
  /** No tabdock tab answers for this preview (none connected, or it closed). */
  | 'no-tab';

/** One response on the MessagePort passed to forwardGuestHttp, in this order: head, data..., end (or error). */
export type GuestHttpMessage =
  | { type: 'head'; status: number; statusText: string; headers: Array<[name: string, value: string]> }
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'end' }
  | { type: 'error'; code: GuestHttpErrorCode | PreviewRelayErrorCode; message: string; detail?: string };

/** What the reader may send back on that port: it lost interest (tab closed, navigation). */
export type GuestHttpControl = { type: 'cancel' };

/** Service Worker to page: forward this request to your VM, answer on the transferred port (ports[0]). */
export interface PortPreviewRequestMessage {
  type: 'tabdock-port-request';
  request: GuestHttpRequest;
}

/**
 * What a VM host offers. The page reaches it through comlink (callbacks passed with Comlink.proxy),
 * the Node CLI calls it directly.
 */
export interface VmApi {
  /** Subscribe before boot() to see progress; returns an id for unsubscribe(). */
  subscribe(listener: VmEventListener): number;
  unsubscribe(id: number): void;
  boot(options: BootOptions): Promise<BootResult>;
  /** Bytes or text typed by the user into the guest shell. Large input is fed in flow-controlled chunks. */
  sendInput(data: Uint8Array | string): void;
  /** The terminal's size changed; the guest shell's `stty size` follows. */
  resize(cols: number, rows: number): void;
  /** Run a command in the guest through the control channel, not the user's shell. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Saves the whole machine (RAM, devices, disk blocks written) as the saved session; the VM keeps running. */
  saveState(): Promise<SavedState>;
  /** The whole machine as one standalone session file (Download); the VM keeps running. */
  exportSession(): Promise<SessionExport>;
  /** A saved session that was moved aside (VmNotice.damagedSessionId) as a standalone file, as far as readable. */
  exportDamagedSession(id: string): Promise<SessionExport>;
  /** Sends one HTTP request into a guest TCP port and streams the answer to `reply` as GuestHttpMessages. */
  forwardGuestHttp(request: GuestHttpRequest, reply: MessagePort): void;
  /** A read-only Engine API query (the same API the docker CLI uses), answered from the guest's dockerd. */
  engineQuery<K extends EngineQuery['kind']>(query: Extract<EngineQuery, { kind: K }>): Promise<EngineQueryResults[K]>;
  /** One of the Docker view's actions (stop, start, remove a container; remove an image). */
  engineAction(action: EngineAction): Promise<void>;
  /** What the emulator's JIT and the disk image cache did so far (the bench reads it in the page). */
  diagnostics(): Promise<VmDiagnostics>;
  /** Starts or stops the daemon's event stream; updates arrive as VmEvent 'engine'. Idle, it costs the guest nothing. */
  watchEngine(on: boolean): void;
  /** Streams a container's logs (EngineLogMessage) onto `reply` until the reader sends 'cancel'. */
  followEngineLogs(containerId: string, reply: MessagePort): void;
  shutdown(): Promise<void>;
}
