# Stage "modules": the kernel's module tree trimmed to what a docker host in v86 can use, pruned of modules
# whose dependencies were trimmed, with modules.dep made by depmod (the kernel .deb ships none).

# Module trees kept (relative to /lib/modules/VER/kernel). Everything else (GPU, sound, wireless, USB, ...)
# is hardware v86 does not emulate.
readonly KEEP_MODULE_DIRS="fs net lib crypto arch block mm drivers/ata drivers/scsi drivers/block drivers/virtio
drivers/char drivers/net/veth.ko drivers/net/virtio_net.ko drivers/net/net_failover.ko drivers/net/dummy.ko
drivers/net/macvlan.ko drivers/net/ipvlan drivers/net/vxlan drivers/net/tun.ko drivers/net/bonding
drivers/md/dm-mod.ko drivers/md/dm-thin-pool.ko drivers/md/persistent-data drivers/md/dm-bufio.ko
drivers/md/dm-bio-prison.ko"

build_modules() {
  local root="$CACHE_DIR/modules-root" moddir="$CACHE_DIR/modules-root/lib/modules/$KERNEL_ABI"
  local key
  key="$(STAGE_EXTRA="$(cat "$CACHE_DIR/base.done")" stage_key modules "$VM_DIR/lib/modules.sh" "$VM_DIR/config/modules")"
  if stage_fresh modules "$key" && [[ -d "$moddir/kernel" ]]; then
    log "modules: unchanged, skipped"
    return
  fi
  stage_invalidate modules
  rm -rf "$root"
  mkdir -p "$root/lib/modules"
  cp -a "$CACHE_DIR/rootfs-base/lib/modules/$KERNEL_ABI" "$root/lib/modules/"
  local keep="$CACHE_DIR/modules-keep" entry
  rm -rf "$keep"
  mkdir -p "$keep"
  for entry in $KEEP_MODULE_DIRS; do
    [[ -e "$moddir/kernel/$entry" ]] || continue
    mkdir -p "$keep/$(dirname "$entry")"
    mv "$moddir/kernel/$entry" "$keep/$entry"
  done
  rm -rf "$moddir/kernel"
  mv "$keep" "$moddir/kernel"
  # The kernel .deb ships no modules.dep (its postinst makes it); make it for the trimmed tree.
  prune_unresolvable_modules "$moddir/kernel"
  depmod -b "$root" "$KERNEL_ABI" || die depmod "depmod failed for $KERNEL_ABI; is the kernel package installed in the base?"
  # Every module the guest loads at boot must resolve in the trimmed tree.
  local module
  for module in $(grep -v '^#' "$VM_DIR/config/modules"); do
    modprobe -d "$root" -S "$KERNEL_ABI" --show-depends "$module" >/dev/null \
      || die modules-trimmed "module $module (config/modules) is not in the trimmed tree; add its folder to KEEP_MODULE_DIRS in lib/modules.sh."
  done
  stage_done modules "$key"
}

# Removes kept modules whose build-time "depends" names a trimmed module, until none is left: Debian's
# System.map is a stub, so depmod itself cannot report such holes.
prune_unresolvable_modules() {
  local dir="$1" changed=1 file dep name removed=0
  while ((changed)); do
    changed=0
    local -A present=()
    while read -r file; do
      name="$(basename "$file" .ko)"; present["${name//-/_}"]=1
    done < <(find "$dir" -name '*.ko')
    while read -r file; do
      for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
        if [[ -z "${present[${dep//-/_}]:-}" ]]; then
          rm -f "$file"; changed=1; removed=$((removed + 1)); break
        fi
      done
    done < <(find "$dir" -name '*.ko')
    unset present
  done
  log "modules: pruned $removed modules whose dependencies were trimmed"
}
