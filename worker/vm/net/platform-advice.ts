// What tabdock tells a user whose image has no linux/386 variant (issues #27 and #29): the platforms the image
// has, that the guest runs linux/386 natively and linux/amd64 emulated (`--platform linux/amd64`), and images
// that do have linux/386. Printed as one line before dockerd's own "no matching manifest for linux/386".

/** The guest's own platform (v86 is a 32-bit x86). */
export const NATIVE_PLATFORM = 'linux/386';
/** Run by qemu-x86_64-static through binfmt_misc (vm-images/config/tabdock-init). */
export const EMULATED_PLATFORM = 'linux/amd64';

/**
 * Official Docker Hub images without linux/386 -> the nearest that have it. Only images whose 386 support was
 * checked on their Docker Hub pages ("Supported architectures"); anything else gets the general advice.
 */
const NEAREST_WITH_386: Readonly<Record<string, string>> = {
  ubuntu: 'debian (the same apt and dpkg)',
  centos: 'debian or alpine',
  rockylinux: 'debian or alpine',
  almalinux: 'debian or alpine',
  fedora: 'debian or alpine',
  amazonlinux: 'debian or alpine',
  oraclelinux: 'debian or alpine',
  mysql: 'postgres (a different database)',
  mariadb: 'postgres (a different database)',
};

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

interface IndexEntry {
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
}

/**
 * The platforms an image index names, as `os/arch[/variant]`, in its order and without duplicates; undefined
 * when the manifest is not an index. BuildKit's attestation manifests (`unknown/unknown`) are not platforms.
 */
export function indexPlatforms(contentType: string, manifest: Uint8Array): string[] | undefined {
  if (!INDEX_TYPES.has(contentType.split(';')[0]!.trim().toLowerCase())) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(manifest));
  } catch {
    return undefined;
  }
  const entries = (parsed as { manifests?: unknown }).manifests;
  if (!Array.isArray(entries)) return undefined;
  const platforms: string[] = [];
  for (const entry of entries as IndexEntry[]) {
    const os = entry?.platform?.os;
    const architecture = entry?.platform?.architecture;
    if (typeof os !== 'string' || typeof architecture !== 'string' || os === 'unknown' || architecture === 'unknown') continue;
    const variant = typeof entry.platform?.variant === 'string' && entry.platform.variant !== '' ? `/${entry.platform.variant}` : '';
    const name = `${os}/${architecture}${variant}`;
    if (!platforms.includes(name)) platforms.push(name);
  }
  return platforms;
}

/** Whether dockerd on the guest would pick an entry of these platforms by itself (linux/386, any variant). */
export function hasNativePlatform(platforms: readonly string[]): boolean {
  return platforms.some((platform) => platform === NATIVE_PLATFORM || platform.startsWith(`${NATIVE_PLATFORM}/`));
}

function hasEmulatedPlatform(platforms: readonly string[]): boolean {
  return platforms.some((platform) => platform === EMULATED_PLATFORM || platform.startsWith(`${EMULATED_PLATFORM}/`));
}

/** Docker Hub's `library/ubuntu` is `ubuntu`; other repositories keep their names. */
function officialName(repository: string): string | undefined {
  return repository.startsWith('library/') ? repository.slice('library/'.length) : undefined;
}

/**
 * The one line for an image that has no linux/386 variant. `image` is what the user typed as dockerd names it
 * (`ubuntu:latest`), `repository` the registry's name (`library/ubuntu`) for the table of nearest images.
 */
export function platformAdvice(image: string, repository: string, platforms: readonly string[]): string {
  const has = platforms.length > 0 ? platforms.join(', ') : 'no platform entries';
  const nearest = NEAREST_WITH_386[officialName(repository) ?? ''];
  const alternatives = nearest === undefined
    ? 'or look for an image or tag with linux/386 (many official images have one: debian, alpine, busybox, python, golang, nginx, postgres, redis).'
    : `or use an image with linux/386: ${nearest}.`;
  if (hasEmulatedPlatform(platforms)) {
    return (
      `${image} has no ${NATIVE_PLATFORM} image (it has ${has}). tabdock runs ${NATIVE_PLATFORM} natively and ` +
      `${EMULATED_PLATFORM} emulated, about 5x slower: add --platform ${EMULATED_PLATFORM} to docker run, pull or build ` +
      `(compose: platform: ${EMULATED_PLATFORM}), ${alternatives}`
    );
  }
  return (
    `${image} has neither a ${NATIVE_PLATFORM} nor a ${EMULATED_PLATFORM} image (it has ${has}), so tabdock cannot run ` +
    `it: tabdock runs ${NATIVE_PLATFORM} natively and ${EMULATED_PLATFORM} emulated. Build it for one of those, ${alternatives}`
  );
}
