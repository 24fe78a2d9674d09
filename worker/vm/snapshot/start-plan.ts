// Decides where a boot starts: a saved session, the image's boot snapshot, or the kernel (cold boot). Every
// state is checked (sha256, image build) before v86 sees it; an unusable one becomes a notice, never a failure,
// because a cold boot still gives the user a working VM.
import type { AssetSource, Manifest, ProgressListener } from '../assets.ts';
import { VmFailure, type BootOptions, type VmNotice } from '../../shared/contract.ts';
import { payloadToV86State } from './compression.ts';
import { checkStateFile, type ImageIdentity, type StateHeader } from './state-file.ts';

export type StartPlan =
  | { kind: 'cold-boot' }
  | { kind: 'restore'; from: 'boot-snapshot' | 'session'; header: StateHeader; state: ArrayBuffer };

export interface StartPlanInputs {
  source: AssetSource;
  manifest: Manifest;
  options: Pick<BootOptions, 'snapshot' | 'sessionState' | 'memoryBytes'>;
  notify: (notice: VmNotice) => void;
  onSnapshotProgress?: ProgressListener;
}

export function imageIdentity(manifest: Manifest): ImageIdentity {
  return { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256 };
}

export async function planStart({ source, manifest, options, notify, onSnapshotProgress }: StartPlanInputs): Promise<StartPlan> {
  const image = imageIdentity(manifest);
  if (options.sessionState) {
    const check = await checkStateFile(new Uint8Array(options.sessionState), image);
    if (check.ok) {
      return { kind: 'restore', from: 'session', header: check.header, state: await payloadToV86State(check.payload, check.header.compression) };
    }
    notify({
      code: 'session-unusable',
      message: `${check.problem.message} Started a clean VM instead; the saved file was kept so you can download it.`,
      detail: `${check.problem.code}: ${check.problem.detail}`,
    });
  }
  if (options.snapshot === 'off') return { kind: 'cold-boot' };
  const entry = manifest.snapshot;
  const coldBoot = (why: string, detail: string): StartPlan => {
    notify({ code: 'snapshot-unusable', message: `${why} Booting from scratch instead, which takes about a minute.`, detail });
    return { kind: 'cold-boot' };
  };
  if (!entry) return coldBoot('This VM image has no boot snapshot.', 'manifest.json has no "snapshot" entry; `npm run images` makes one.');
  if (entry.buildId !== manifest.buildId) {
    return coldBoot('The boot snapshot belongs to an older build of the VM image.', `snapshot build ${entry.buildId}, image build ${manifest.buildId}`);
  }
  if (options.memoryBytes !== undefined && options.memoryBytes !== entry.memoryBytes) {
    const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;
    return coldBoot(`The boot snapshot has ${mib(entry.memoryBytes)} of RAM, not the ${mib(options.memoryBytes)} asked for.`, 'v86 restores a state only into the same memory size');
  }
  let file: ArrayBuffer;
  try {
    // loadFile checks the size and sha256 recorded in the manifest: a truncated download fails here.
    file = await source.loadFile(entry, onSnapshotProgress);
  } catch (error) {
    const detail = error instanceof VmFailure ? `${error.message}\n${error.detail ?? ''}` : String(error);
    return coldBoot('The boot snapshot could not be downloaded intact.', detail);
  }
  const check = await checkStateFile(new Uint8Array(file), image, { wholeFileVerified: true });
  if (!check.ok) return coldBoot(`The boot snapshot is unusable: ${check.problem.message}`, `${check.problem.code}: ${check.problem.detail}`);
  return { kind: 'restore', from: 'boot-snapshot', header: check.header, state: await payloadToV86State(check.payload, check.header.compression) };
}
