#!/usr/bin/env bash
# Builds the tabdock guest (kernel, initramfs, ext4 root disk, BIOS, test images) from pinned Debian i386
# packages into public/vm/ with manifest.json. Run `npm run images`; see vm-images/README.md.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$VM_DIR")"
CACHE_DIR="${TABDOCK_CACHE_DIR:-$VM_DIR/.cache}"
OUT_DIR="${TABDOCK_OUT_DIR:-$REPO_DIR/public/vm}"
FORCE_REBUILD=0

usage() {
  cat <<USAGE
Usage: bash vm-images/build.sh [--force] [--clean] [--help]

Builds the tabdock guest image from the pins in vm-images/versions.env into public/vm/:
  bios, vgaBios   SeaBIOS from Debian's seabios package
  kernel          Debian linux-image-686 bzImage
  initrd          gzip initramfs: busybox-static + disk/ext4 modules
  rootDisk        sparse ext4 image (docker.io, containerd, runc, ...) made with mke2fs -d, no mounts
  manifest.json   file names (content-hashed), bytes, sha256, kernel cmdline, package versions
  test-images/    busybox:latest and tabdock/httpd:latest (linux/386) as OCI layouts and docker archives,
                  tabdock/amd64 (linux/amd64 only) as an OCI layout

Stages are cached in vm-images/.cache/ and skipped when their inputs are unchanged.
Needs root (mmdebstrap, chroot) on Debian bookworm; missing host tools are installed with apt-get.

  --force   rebuild every stage (downloaded .debs stay cached)
  --clean   delete vm-images/.cache/ and public/vm/, then exit
  --help    this text

Environment: TABDOCK_CACHE_DIR, TABDOCK_OUT_DIR override the two folders; TABDOCK_SKIP_SNAPSHOT=1 skips
booting the image to save its boot snapshot (the last step, minutes).
USAGE
}

for arg in "$@"; do
  case "$arg" in
    --help|-h) usage; exit 0 ;;
    --force) FORCE_REBUILD=1 ;;
    --clean) rm -rf "$CACHE_DIR" "$OUT_DIR"; echo "removed $CACHE_DIR and $OUT_DIR"; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# shellcheck source=versions.env
source "$VM_DIR/versions.env"
source "$VM_DIR/lib/common.sh"
source "$VM_DIR/lib/host-tools.sh"
source "$VM_DIR/lib/rootfs-base.sh"
source "$VM_DIR/lib/test-images.sh"
source "$VM_DIR/lib/test-image-amd64.sh"
source "$VM_DIR/lib/modules.sh"
source "$VM_DIR/lib/helpers.sh"
source "$VM_DIR/lib/rootfs.sh"
source "$VM_DIR/lib/initramfs.sh"
source "$VM_DIR/lib/publish.sh"

[[ "$(id -u)" == 0 ]] || die not-root "build.sh needs root for mmdebstrap and chroot; on macOS/Windows run it in a Debian container (see vm-images/README.md)."
export FORCE_REBUILD
mkdir -p "$CACHE_DIR"
started=$SECONDS
ensure_host_tools
build_rootfs_base
build_test_images
build_test_image_amd64
build_modules
build_helpers
build_rootfs
build_initramfs
build_disk
publish
# Boot snapshot (worker/node/make-snapshot.ts): boots the new image once and records snapshot.<sha8>.state in
# the manifest; skipped when it is already there for this build. TABDOCK_SKIP_SNAPSHOT=1 leaves it out.
if [[ "${TABDOCK_SKIP_SNAPSHOT:-0}" != 1 ]]; then
  log "snapshot: booting the image to save its boot snapshot (minutes)"
  (cd "$REPO_DIR" && npx tsx worker/node/make-snapshot.ts --assets "$OUT_DIR") || die snapshot "making the boot snapshot failed (see above); TABDOCK_SKIP_SNAPSHOT=1 builds without one"
fi
log "done in $((SECONDS - started)) s: $OUT_DIR/manifest.json"
