# Stage "initramfs": busybox-static plus only the modules that reach the root disk (ata_piix/ata_generic,
# sd_mod, ext4 and their dependencies, in load order), packed as a gzip cpio for v86's `initrd`.

readonly INITRAMFS_MODULES="ata_piix ata_generic sd_mod crc32c_generic ext4"
# Pulled in by ext4's softdep on crc32c, but needs SSE4.2, which v86's CPU lacks: it would only fail to load.
readonly INITRAMFS_SKIP="crc32c-intel.ko"

build_initramfs() {
  local root="$CACHE_DIR/modules-root" work="$CACHE_DIR/initramfs" out="$CACHE_DIR/initrd.img"
  local key
  key="$(STAGE_EXTRA="$(cat "$CACHE_DIR/modules.done") $INITRAMFS_MODULES $INITRAMFS_SKIP" stage_key initramfs \
    "$VM_DIR/lib/initramfs.sh" "$VM_DIR/config/initramfs-init")"
  if stage_fresh initramfs "$key" && [[ -f "$out" ]]; then
    log "initramfs: unchanged, skipped"
    return
  fi
  stage_invalidate initramfs
  rm -rf "$work" "$out"
  mkdir -p "$work"/{bin,dev,proc,sys,newroot,lib/modules}
  cp "$CACHE_DIR/rootfs-base/bin/busybox" "$work/bin/busybox"
  install -m 0755 "$VM_DIR/config/initramfs-init" "$work/init"
  local module line path name
  : >"$work/modules.list"
  for module in $INITRAMFS_MODULES; do
    # --show-depends prints "insmod /path" lines, dependencies first; "builtin" lines need nothing.
    while read -r line; do
      case "$line" in
        insmod\ *)
          path="${line#insmod }"; path="${path%% *}"
          name="$(basename "$path")"
          if [[ ! -f "$work/lib/modules/$name" && " $INITRAMFS_SKIP " != *" $name "* ]]; then
            cp "$path" "$work/lib/modules/$name"
            printf '/lib/modules/%s\n' "$name" >>"$work/modules.list"
          fi
          ;;
      esac
    done < <(modprobe -d "$root" -S "$KERNEL_ABI" --show-depends "$module" \
      || die initramfs "module $module not found for $KERNEL_ABI; check INITRAMFS_MODULES in lib/initramfs.sh")
  done
  log "initramfs: $(wc -l <"$work/modules.list") modules"
  # Fixed mtimes and sorted names make the archive reproducible.
  find "$work" -exec touch -h -d @0 {} +
  (cd "$work" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --reproducible --quiet) \
    | gzip -n -9 >"$out"
  stage_done initramfs "$key"
}
