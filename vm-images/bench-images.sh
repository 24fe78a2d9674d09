#!/usr/bin/env bash
# Builds the pull benchmark's images (vm-images/lib/bench-images.sh) into vm-images/.cache/bench-images/ as
# OCI layouts: never part of the guest image or dist/. `npm run bench -- pull` runs it when they are missing.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${TABDOCK_CACHE_DIR:-$VM_DIR/.cache}"
FORCE_REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --help|-h) echo "Usage: bash vm-images/bench-images.sh [--force]: nginx, nginx-layers5 and python (linux/386) OCI layouts in $CACHE_DIR/bench-images/"; exit 0 ;;
    --force) FORCE_REBUILD=1 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# shellcheck source=versions.env
source "$VM_DIR/versions.env"
source "$VM_DIR/bench-images.env"
source "$VM_DIR/lib/common.sh"
source "$VM_DIR/lib/host-tools.sh"
source "$VM_DIR/lib/test-images.sh"
source "$VM_DIR/lib/bench-images.sh"

[[ "$(id -u)" == 0 ]] || die not-root "bench-images.sh needs root for mmdebstrap's chroot; on macOS/Windows run it in a Debian container (see vm-images/README.md)."
export FORCE_REBUILD
mkdir -p "$CACHE_DIR"
ensure_host_tools
build_bench_images
