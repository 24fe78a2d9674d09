// What the Docker Hub mirror last told dockerd it cannot give, so the next step of dockerd's pull can say so.
// dockerd treats every failure of a mirror as "try the next endpoint" (moby distribution/errors.go,
// continueOnError with a mirror endpoint), and for Docker Hub the next one is always https://registry-1.docker.io,
// whose error is the one printed: without a relay the guest cannot reach it, and the user would read
// "connection refused" for a misspelt image name. The CONNECT proxy (connect-tunnel.ts) answers that last
// attempt with the mirror's verdict instead, in dockerd's own words (moby distribution/errors.go notFoundError,
// distribution/pull_v2.go noMatchesErr).

/** The platform every guest image must have (the guest is i386). */
const GUEST_PLATFORM = { os: 'linux', architecture: '386' } as const;
/** A verdict answers the pull that follows it; dockerd tries the next endpoint at once. */
const VERDICT_TTL_MS = 60_000;

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export interface MirrorVerdict {
  /** e.g. `manifest for nosuchimage:latest not found: manifest unknown` */
  message: string;
  atMs: number;
}

/** How dockerd names a Docker Hub repository to users: `library/busybox` is `busybox`. */
export function familiarName(repository: string): string {
  return repository.startsWith('library/') ? repository.slice('library/'.length) : repository;
}

/** dockerd's message for a reference the registry does not have (status 404) or will not give (401/403). */
export function missingMessage(status: number, repository: string, reference: string): string | undefined {
  const name = familiarName(repository);
  const ref = reference.startsWith('sha256:') ? `${name}@${reference}` : `${name}:${reference}`;
  if (status === 404) return `manifest for ${ref} not found: manifest unknown: manifest unknown`;
  if (status === 401 || status === 403) {
    return `pull access denied for ${name}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`;
  }
  return undefined;
}

/** dockerd's message when an image index has no manifest for the guest's platform; undefined when it has one. */
export function platformMessage(contentType: string, manifest: Uint8Array): string | undefined {
  if (!INDEX_TYPES.has(contentType.split(';')[0]!.trim())) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(manifest));
  } catch {
    return undefined;
  }
  const entries = (parsed as { manifests?: Array<{ platform?: { os?: string; architecture?: string } }> }).manifests;
  if (!Array.isArray(entries)) return undefined;
  const fits = entries.some((entry) => entry.platform?.os === GUEST_PLATFORM.os && entry.platform?.architecture === GUEST_PLATFORM.architecture);
  return fits ? undefined : `no matching manifest for ${GUEST_PLATFORM.os}/${GUEST_PLATFORM.architecture} in the manifest list entries`;
}

/** The last verdict of the Docker Hub mirror, kept for a minute. */
export class MirrorVerdicts {
  private last: MirrorVerdict | undefined;

  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  record(message: string): void {
    this.last = { message, atMs: this.nowMs() };
  }

  /** A pull that found what it wanted ends the verdict of an earlier one. */
  clear(): void {
    this.last = undefined;
  }

  current(): string | undefined {
    if (!this.last || this.nowMs() - this.last.atMs > VERDICT_TTL_MS) return undefined;
    return this.last.message;
  }
}
