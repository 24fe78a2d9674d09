// Where the VM's files live and how long a boot may take, from build settings and the page's query string.
// URLs are made absolute here: the worker resolves relative URLs against its own script, not the page.
import type { EmulatorTuning } from '../worker/shared/contract.ts';

export interface PageConfig {
  /** Absolute URL of the folder holding manifest.json. */
  assetBase: string;
  bootTimeoutMs: number;
  /** What starts when no session does: the image's boot snapshot, or with `?snapshot=off` the kernel (a cold boot). */
  withoutSession: 'boot-snapshot' | 'kernel';
  /** Emulator settings other than the defaults, for measurements (`?jitThreshold=`, ...; README "Emulator settings"). */
  tuning: EmulatorTuning;
}

/** `?jitThreshold=800000&jitSync=0&jitMaxPages=3&jitMaxExtraBlocks=250&yield=helper&prefetch=1`; unset or invalid: the default. */
export function readTuning(params: URLSearchParams): EmulatorTuning {
  const tuning: EmulatorTuning = {};
  const whole = (name: string): number | undefined => {
    const value = Number(params.get(name) ?? NaN);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const threshold = whole('jitThreshold');
  if (threshold !== undefined) tuning.jitThreshold = threshold;
  const maxPages = whole('jitMaxPages');
  if (maxPages !== undefined) tuning.jitMaxPages = maxPages;
  const maxExtraBlocks = whole('jitMaxExtraBlocks');
  if (maxExtraBlocks !== undefined) tuning.jitMaxExtraBasicBlocks = maxExtraBlocks;
  const sync = params.get('jitSync');
  if (sync === '0' || sync === '1') tuning.jitSyncCompile = sync === '1';
  const yieldMode = params.get('yield');
  if (yieldMode === 'channel' || yieldMode === 'helper') tuning.yield = yieldMode;
  const prefetch = params.get('prefetch');
  if (prefetch === '0' || prefetch === '1') tuning.diskPrefetch = prefetch === '1';
  return tuning;
}

/** A cold boot takes about a minute on a fast machine; a slow laptop under load may need several. */
const DEFAULT_BOOT_TIMEOUT_MS = 10 * 60_000;

/**
 * `VITE_VM_ASSETS` (build time) points a deployment at assets hosted elsewhere, e.g. a CDN; the default
 * './vm/' is public/vm copied next to index.html. `?assets=` overrides it per visit (testing a mirror, or
 * reproducing a broken deployment); `?bootTimeoutMs=` shortens or lengthens the boot watchdog.
 */
export function readPageConfig(location: Location, baseUri: string): PageConfig {
  const params = new URLSearchParams(location.search);
  const configured = import.meta.env['VITE_VM_ASSETS'];
  const base = params.get('assets') ?? (typeof configured === 'string' && configured !== '' ? configured : './vm/');
  const withSlash = base.endsWith('/') ? base : `${base}/`;
  const timeout = Number(params.get('bootTimeoutMs'));
  return {
    assetBase: new URL(withSlash, baseUri).href,
    bootTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_BOOT_TIMEOUT_MS,
    withoutSession: params.get('snapshot') === 'off' ? 'kernel' : 'boot-snapshot',
    tuning: readTuning(params),
  };
}
