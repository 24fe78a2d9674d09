// What the Docker Hub mirror last told dockerd it cannot give, so the next step of dockerd's pull can say so.
// dockerd treats every failure of a mirror as "try the next endpoint" (moby distribution/errors.go,
// continueOnError with a mirror endpoint), and for Docker Hub the next one is always https://registry-1.docker.io,
// whose error is the one printed. The CONNECT proxy (connect-tunnel.ts) answers that last attempt with the
// mirror's verdict, in dockerd's own words (moby distribution/errors.go notFoundError, distribution/pull_v2.go
// noMatchesErr), without asking the relay where Docker Hub could only repeat it (a missing tag, an index
// without linux/386).
import { hasNativePlatform, NATIVE_PLATFORM, platformAdvice } from './platform-advice.ts';

/** A verdict answers the pull that follows it; dockerd tries the next endpoint at once. */
const VERDICT_TTL_MS = 60_000;

/** Why the mirror could not give dockerd what it asked for; `message` is what dockerd prints. */
export type MirrorVerdict =
  /** The image index has no linux/386 entry; `advice` is tabdock's line for the user (platform-advice.ts). */
  | { kind: 'no-platform'; message: string; advice: string }
  /** The registry answered 404: Docker Hub itself would too. */
  | { kind: 'not-found'; message: string }
  /** 401/403 to the shim's anonymous pull: dockerd's own login may still get it from Docker Hub. */
  | { kind: 'denied'; message: string }
  /** The upstream (or the CORS proxy) could not be reached: the relay may still reach Docker Hub. */
  | { kind: 'unreachable'; message: string };

/** Whether Docker Hub, asked by dockerd itself, could only give the same answer: then the relay is not asked. */
export function isFinal(verdict: MirrorVerdict): boolean {
  switch (verdict.kind) {
    case 'no-platform':
    case 'not-found':
      return true;
    case 'denied':
    case 'unreachable':
      return false;
    default: {
      const unknown: never = verdict;
      throw new Error(`unknown verdict ${JSON.stringify(unknown)}`);
    }
  }
}

/** How dockerd names a Docker Hub repository to users: `library/busybox` is `busybox`. */
export function familiarName(repository: string): string {
  return repository.startsWith('library/') ? repository.slice('library/'.length) : repository;
}

/** `busybox:latest` or `busybox@sha256:...`, as dockerd writes a reference. */
export function familiarReference(repository: string, reference: string): string {
  const name = familiarName(repository);
  return reference.startsWith('sha256:') ? `${name}@${reference}` : `${name}:${reference}`;
}

/** dockerd's message for a reference the registry does not have (status 404) or will not give (401/403). */
export function missingVerdict(status: number, repository: string, reference: string): MirrorVerdict | undefined {
  if (status === 404) {
    return { kind: 'not-found', message: `manifest for ${familiarReference(repository, reference)} not found: manifest unknown: manifest unknown` };
  }
  if (status === 401 || status === 403) {
    const message = `pull access denied for ${familiarName(repository)}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`;
    return { kind: 'denied', message };
  }
  return undefined;
}

/** The verdict for an image index without a linux/386 entry; undefined when it has one. */
export function platformVerdict(image: string, repository: string, platforms: readonly string[]): MirrorVerdict | undefined {
  if (hasNativePlatform(platforms)) return undefined;
  return {
    kind: 'no-platform',
    message: `no matching manifest for ${NATIVE_PLATFORM} in the manifest list entries`,
    advice: platformAdvice(image, repository, platforms),
  };
}

/** The last verdict of the Docker Hub mirror, kept for a minute. */
export class MirrorVerdicts {
  private last: { verdict: MirrorVerdict; atMs: number } | undefined;

  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  record(verdict: MirrorVerdict): void {
    this.last = { verdict, atMs: this.nowMs() };
  }

  /** A pull that found what it wanted ends the verdict of an earlier one. */
  clear(): void {
    this.last = undefined;
  }

  current(): MirrorVerdict | undefined {
    if (!this.last || this.nowMs() - this.last.atMs > VERDICT_TTL_MS) return undefined;
    return this.last.verdict;
  }
}
