// The shape of one benchmark section. bench.ts boots the guest once and runs each section in order; to add
// figures (browser, image pulls) write a module exporting a BenchSection and list it in sections.ts.
import type { EgressDialer } from '../../../worker/shared/egress-dialer.ts';
import type { NetworkConfig } from '../../../worker/vm/net/index.ts';
import type { VmHost } from '../../../worker/vm/vm-host.ts';

export interface BenchContext {
  /** A booted VM; sections share it, so leave it usable (remove containers you start). */
  host: VmHost;
  /** Where the host keeps its block store and saves its session (the disk section resumes from it). */
  diskDirectory: string;
  /** Milliseconds since the bench process started, for absolute timelines. */
  processUptimeMs(): number;
  log(message: string): void;
}

/** What a section set up before the boot: the shim settings that reach it, and how to take it down. */
export interface PreparedSection {
  network?: NetworkConfig;
  /** Carries the guest's other TCP instead of the harness's default relay (at most one section sets it). */
  egressDialer?: EgressDialer;
  dispose(): Promise<void>;
}

export interface BenchSection {
  /** Key of this section in bench.json. */
  name: string;
  /** `npm run bench -- <group>` also runs this section (its Chromium half has a name of its own). */
  group?: string;
  /** Boots its own VMs (or a browser's): runs before the shared VM boots, so no two VMs run at once. */
  ownVm?: boolean;
  /** Runs before the boot (the network shim is configured once, when the emulator loads), e.g. a registry. */
  prepare?(log: (message: string) => void): Promise<PreparedSection>;
  run(context: BenchContext): Promise<Record<string, unknown>>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function roundMs(ms: number): number {
  return Math.round(ms);
}
