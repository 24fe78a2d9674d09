# Stage "rootfs": a copy of the base with the guest config applied, kernel modules trimmed to what a
# docker host in v86 can use, depmod run, and the test images' docker archives placed for first boot.

# Module trees kept (relative to /lib/modules/VER/kernel). Everything else (GPU, sound, wireless, USB, ...)
# is hardware v86 does not emulate.
readonly KEEP_MODULE_DIRS="fs net lib crypto arch block mm drivers/ata drivers/scsi drivers/block drivers/virtio
drivers/char drivers/net/veth.ko drivers/net/virtio_net.ko drivers/net/net_failover.ko drivers/net/dummy.ko
drivers/net/macvlan.ko drivers/net/ipvlan drivers/net/vxlan drivers/net/tun.ko drivers/net/bonding
drivers/md/dm-mod.ko drivers/md/dm-thin-pool.ko drivers/md/persistent-data drivers/md/dm-bufio.ko
drivers/md/dm-bio-prison.ko"

build_rootfs() {
  local base="$CACHE_DIR/rootfs-base" out="$CACHE_DIR/rootfs"
  local key
  key="$(STAGE_EXTRA="$(cat "$CACHE_DIR/base.done")" stage_key rootfs "$VM_DIR/lib/rootfs.sh" \
    "$VM_DIR"/config/* "$CACHE_DIR/test-images.done")"
  if stage_fresh rootfs "$key" && [[ -d "$out/usr" ]]; then
    log "rootfs: unchanged, skipped"
    return
  fi
  stage_invalidate rootfs
  rm -rf "$out"
  log "rootfs: copying base and applying config"
  cp -a "$base" "$out"
  local c="$VM_DIR/config"
  install -m 0755 "$c/tabdock-init" "$out/sbin/tabdock-init"
  install -m 0755 "$c/tabdock-agent" "$out/usr/sbin/tabdock-agent"
  install -m 0755 "$c/poweroff" "$out/sbin/poweroff"
  ln -sf poweroff "$out/sbin/halt"
  ln -sf poweroff "$out/sbin/reboot"
  install -d "$out/etc/tabdock" "$out/etc/docker" "$out/var/lib/tabdock/images" "$out/etc/profile.d"
  install -m 0644 "$c/modules" "$out/etc/tabdock/modules"
  install -m 0644 "$c/motd" "$out/etc/tabdock/motd"
  install -m 0644 "$c/daemon.json" "$out/etc/docker/daemon.json"
  install -m 0644 "$c/containerd.toml" "$out/etc/containerd/config.toml"
  install -m 0644 "$c/bashrc" "$out/root/.bashrc"
  install -m 0644 "$c/profile" "$out/etc/profile.d/tabdock.sh"
  printf 'tabdock\n' >"$out/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\ttabdock\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$out/etc/hosts"
  printf '/dev/sda\t/\text4\trw,noatime\t0\t1\n' >"$out/etc/fstab"
  : >"$out/etc/motd"
  rm -f "$out/etc/resolv.conf"
  cp "$CACHE_DIR"/test-images/*.tar "$out/var/lib/tabdock/images/"

  trim_modules "$out"
  # The kernel and initrd live outside the disk (v86 loads them directly); /boot would only waste space.
  rm -rf "$out/boot"/* "$out/vmlinuz"* "$out/initrd.img"*
  stage_done rootfs "$key"
}

trim_modules() {
  local root="$1" moddir="$1/lib/modules/$KERNEL_ABI"
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
      || die modules-trimmed "module $module (config/modules) is not in the trimmed tree; add its folder to KEEP_MODULE_DIRS in lib/rootfs.sh."
  done
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
  log "rootfs: pruned $removed modules whose dependencies were trimmed"
}
