// Decides where a boot starts and where it goes next when that fails: a session (this tab's saved one, or a file
// the user opened), the image's boot snapshot, or the kernel (cold boot), as BootOptions.resume asks. Every state
// is checked (sha256, image build) before v86 sees it; an unusable one becomes a notice, never a failure, because
// a cold boot still gives the user a working VM.
import type { AssetSource, Manifest, ProgressListener } from '../assets.ts';
import { VmFailure, type BootOptions, type ResumeFrom, type VmNotice } from '../../shared/contract.ts';
import { payloadToV86State } from './compression.ts';
import { checkStateFile, STATE_FILE_MAGIC, type ImageIdentity, type StateHeader } from './state-file.ts';

export type StartPlan =
  | { kind: 'cold-boot' }
  | { kind: 'restore'; from: 'boot-snapshot' | 'session'; header: StateHeader; state: ArrayBuffer };

type RestorePlan = Extract<StartPlan, { kind: 'restore' }>;

/** The disk side of sessions (disk/vm-disk.ts VmDisks): format-2 files and this tab's saved session. */
export interface SessionPlans {
  /** A format-2 session file's plan; undefined, after a notice, when it cannot be used. */
  planFile(file: Blob, manifest: Manifest, diskBytes: number): Promise<RestorePlan | undefined>;
  /** The saved session's plan; 'none' without a save; undefined, after a notice, when it is damaged. */
  planSaved(manifest: Manifest, diskBytes: number): Promise<RestorePlan | 'none' | undefined>;
}

export interface StartPlannerInputs {
  source: AssetSource;
  manifest: Manifest;
  resume: ResumeFrom;
  /** BootOptions.memoryBytes: a boot snapshot of another RAM size cannot be restored. */
  memoryBytes?: number | undefined;
  sessions: SessionPlans;
  notify: (notice: VmNotice) => void;
  onSnapshotProgress?: ProgressListener;
}

export function imageIdentity(manifest: Manifest): ImageIdentity {
  return { buildId: manifest.buildId, rootDiskSha256: manifest.files.rootDisk.sha256 };
}

/** BootOptions' resume choice with its default, and a saved session only where this tab owns it. */
export function resumeChoice(options: Pick<BootOptions, 'resume' | 'disk'>): ResumeFrom {
  const resume = options.resume ?? { kind: 'boot-snapshot' };
  if (resume.kind === 'saved-session' && options.disk?.store !== 'session') {
    throw new VmFailure({
      code: 'internal',
      message: "boot() was asked to resume the saved session without owning it: resume {kind: 'saved-session'} needs disk {store: 'session'}.",
    });
  }
  return resume;
}

export class StartPlanner {
  constructor(private readonly inputs: StartPlannerInputs) {}

  /** Where the boot starts: the session asked for, else what comes after it. */
  async first(): Promise<StartPlan> {
    const { resume, sessions, manifest } = this.inputs;
    const diskBytes = manifest.files.rootDisk.bytes;
    switch (resume.kind) {
      case 'kernel':
        return { kind: 'cold-boot' };
      case 'boot-snapshot':
        return this.bootSnapshot();
      case 'file': {
        const plan = (await isFormat1(resume.file))
          ? await this.format1(await resume.file.arrayBuffer())
          : await sessions.planFile(resume.file, manifest, diskBytes);
        return plan ?? this.afterSession();
      }
      case 'saved-session': {
        const saved = await sessions.planSaved(manifest, diskBytes);
        // The page's format-1 save is resumed only when the block store has no save of its own (not even a damaged one).
        const plan = saved === 'none' ? resume.legacy && (await this.format1(await resume.legacy.arrayBuffer())) : saved;
        return plan ?? this.afterSession();
      }
      default: {
        const unknown: never = resume;
        throw new Error(`unknown resume choice ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** After `failed` did not come back: the next source (session > boot snapshot > cold boot). */
  next(failed: RestorePlan): Promise<StartPlan> {
    return failed.from === 'session' ? this.afterSession() : Promise.resolve({ kind: 'cold-boot' });
  }

  private afterSession(): Promise<StartPlan> {
    const { resume } = this.inputs;
    const then = resume.kind === 'file' || resume.kind === 'saved-session' ? (resume.otherwise ?? 'boot-snapshot') : 'kernel';
    return then === 'boot-snapshot' ? this.bootSnapshot() : Promise.resolve({ kind: 'cold-boot' });
  }

  /** A format-1 session (a file, or the page's old save): checked, or a notice and nothing. */
  private async format1(bytes: ArrayBuffer): Promise<RestorePlan | undefined> {
    const check = await checkStateFile(new Uint8Array(bytes), imageIdentity(this.inputs.manifest));
    if (check.ok) return { kind: 'restore', from: 'session', header: check.header, state: await payloadToV86State(check.payload, check.header.compression) };
    this.inputs.notify({
      code: 'session-unusable',
      message: `${check.problem.message} Started a clean VM instead; the saved file was kept so you can download it.`,
      detail: `${check.problem.code}: ${check.problem.detail}`,
    });
    return undefined;
  }

  private async bootSnapshot(): Promise<StartPlan> {
    const { source, manifest, memoryBytes, notify, onSnapshotProgress } = this.inputs;
    const entry = manifest.snapshot;
    const coldBoot = (why: string, detail: string): StartPlan => {
      notify({ code: 'snapshot-unusable', message: `${why} Booting from scratch instead, which takes about a minute.`, detail });
      return { kind: 'cold-boot' };
    };
    if (!entry) return coldBoot('This VM image has no boot snapshot.', 'manifest.json has no "snapshot" entry; `npm run images` makes one.');
    if (entry.buildId !== manifest.buildId) {
      return coldBoot('The boot snapshot belongs to an older build of the VM image.', `snapshot build ${entry.buildId}, image build ${manifest.buildId}`);
    }
    if (memoryBytes !== undefined && memoryBytes !== entry.memoryBytes) {
      const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;
      return coldBoot(`The boot snapshot has ${mib(entry.memoryBytes)} of RAM, not the ${mib(memoryBytes)} asked for.`, 'v86 restores a state only into the same memory size');
    }
    let file: ArrayBuffer;
    try {
      // loadFile checks the size and sha256 recorded in the manifest: a truncated download fails here.
      file = await source.loadFile(entry, onSnapshotProgress);
    } catch (error) {
      const detail = error instanceof VmFailure ? `${error.message}\n${error.detail ?? ''}` : String(error);
      return coldBoot('The boot snapshot could not be downloaded intact.', detail);
    }
    const check = await checkStateFile(new Uint8Array(file), imageIdentity(manifest), { wholeFileVerified: true });
    if (!check.ok) return coldBoot(`The boot snapshot is unusable: ${check.problem.message}`, `${check.problem.code}: ${check.problem.detail}`);
    return { kind: 'restore', from: 'boot-snapshot', header: check.header, state: await payloadToV86State(check.payload, check.header.compression) };
  }
}

/** A format-1 session file (state-file.ts) starts with its magic; a format-2 one (disk/session-file.ts) does not. */
async function isFormat1(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, STATE_FILE_MAGIC.length).arrayBuffer());
  return STATE_FILE_MAGIC.every((byte, i) => head[i] === byte);
}
