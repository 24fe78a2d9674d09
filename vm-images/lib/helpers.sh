# Stage "helpers": tabdock's own small guest programs, in C (vm-images/helpers/), built static for i386 with
# the build host's gcc (-m32; Debian's gcc-multilib on amd64). They replace per-container work that costs
# seconds on v86's CPU: tabdock-runtime (the OCI runtime front dockerd calls), tabdock-setkey (dockerd's
# libnetwork-setkey hook without re-running dockerd), tabdock-sealed-copy (crun and runc run from a sealed
# in-memory copy instead of copying themselves per call) and tabdock-modprobe (the kernel's module loader,
# failing BuildKit's binfmt probes at once). See vm-images/README.md "Per-container work".

build_helpers() {
  local out="$CACHE_DIR/helpers" src="$VM_DIR/helpers"
  local names=(tabdock-runtime tabdock-setkey tabdock-sealed-copy tabdock-modprobe) name key built=1
  for name in "${names[@]}"; do [[ -x "$out/$name" ]] || built=0; done
  key="$(stage_key helpers "$VM_DIR/lib/helpers.sh" "$src"/*.c)"
  if stage_fresh helpers "$key" && ((built)); then
    log "helpers: unchanged, skipped"
    return
  fi
  stage_invalidate helpers
  rm -rf "$out"
  mkdir -p "$out"
  for name in "${names[@]}"; do
    gcc -m32 -march=i686 -static -Os -s -Wall -Wextra -Werror -o "$out/$name" "$src/$name.c" \
      || die helpers "gcc -m32 could not build $name; on amd64 install gcc-multilib (the build does it when run as root)."
  done
  log "helpers: built $(cd "$out" && ls | paste -sd' ') (static i386)"
  stage_done helpers "$key"
}
