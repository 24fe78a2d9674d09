// Where the VM's files live and how long a boot may take, from build settings and the page's query string.
// URLs are made absolute here: the worker resolves relative URLs against its own script, not the page.
import type { EmulatorTuning } from '../worker/shared/contract.ts';
import { readTuningSettings } from '../worker/shared/tuning-settings.ts';

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
  return readTuningSettings({
    names: { jitThreshold: 'jitThreshold', jitMaxPages: 'jitMaxPages', jitMaxExtraBasicBlocks: 'jitMaxExtraBlocks', jitSyncCompile: 'jitSync', yield: 'yield', diskPrefetch: 'prefetch' },
    read: (name) => params.get(name),
    // A page address with a bad value still opens, with the default.
    invalid: () => undefined,
  });
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
