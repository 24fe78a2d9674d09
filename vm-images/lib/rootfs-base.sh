# Stage "base": the Debian i386 userland and kernel, installed by mmdebstrap from the pins in versions.env.
# Its output (.cache/rootfs-base/) changes only when the package list does; config is applied later.

# One "name=version" per line: the exact guest packages (their dependencies come from the same suite).
guest_packages() {
  printf '%s\n' \
    "linux-image-686=$PKG_linux_image_686" \
    "linux-image-$KERNEL_ABI=$PKG_linux_image_abi" \
    "docker.io=$PKG_docker_io" \
    "docker-cli=$PKG_docker_cli" \
    "docker-compose=$PKG_docker_compose" \
    "docker-buildx=$PKG_docker_buildx" \
    "containerd=$PKG_containerd" \
    "runc=$PKG_runc" \
    "crun=$PKG_crun" \
    "pigz=$PKG_pigz" \
    "tini=$PKG_tini" \
    "iptables=$PKG_iptables" \
    "iproute2=$PKG_iproute2" \
    "ca-certificates=$PKG_ca_certificates" \
    "busybox-static=$PKG_busybox_static" \
    "udhcpc=$PKG_udhcpc" \
    "kmod=$PKG_kmod" \
    "mount=$PKG_mount" \
    "procps=$PKG_procps" \
    "qemu-user-static=$PKG_qemu_user_static"
}

build_rootfs_base() {
  local out="$CACHE_DIR/rootfs-base" debs="$CACHE_DIR/apt-archives"
  local key
  key="$(STAGE_EXTRA="$(guest_packages)" stage_key base "$VM_DIR/versions.env" "$VM_DIR/lib/rootfs-base.sh")"
  if stage_fresh base "$key" && [[ -d "$out/usr" ]]; then
    log "base: unchanged, skipped"
    return
  fi
  stage_invalidate base
  rm -rf "$out"
  mkdir -p "$debs"
  local include
  include="$(guest_packages | paste -sd, -)"
  local -a sources=("deb $DEBIAN_MIRROR $DEBIAN_SUITE main")
  local s
  for s in $DEBIAN_EXTRA_SUITES $KERNEL_SUITE; do sources+=("deb $DEBIAN_MIRROR $s main"); done
  log "base: mmdebstrap $DEBIAN_SUITE/$GUEST_ARCH, kernel from $KERNEL_SUITE (downloads cached in $debs)"
  # The apt-archives sync-in/sync-out pattern is the one mmdebstrap(1) documents for caching downloads.
  # Docs, man pages and locales are left out by dpkg itself (copyright files stay for the licenses).
  # Default-Release: every package apt picks by itself (dependencies) comes from $DEBIAN_SUITE; the exact pins
  # of the kernel and of qemu-user-static are the only reason $KERNEL_SUITE is listed.
  # qemu-user-static ships 35 emulators (300 MB): only qemu-x86_64-static (9 MB) is unpacked, and none of its
  # binfmt registrations (tabdock-init registers x86_64 itself).
  mmdebstrap --variant=essential --arch="$GUEST_ARCH" --include="$include" \
    --aptopt="APT::Default-Release \"$DEBIAN_SUITE\"" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/bin/qemu-*' \
    --dpkgopt='path-include=/usr/bin/qemu-x86_64-static' \
    --dpkgopt='path-exclude=/usr/libexec/qemu-binfmt/*' \
    --dpkgopt='path-exclude=/usr/lib/binfmt.d/*' \
    --dpkgopt='path-exclude=/usr/share/binfmts/*' \
    --skip=download/empty --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    --customize-hook='chroot "$1" update-alternatives --set iptables /usr/sbin/iptables-legacy' \
    --customize-hook='chroot "$1" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt' \
    "$DEBIAN_SUITE" "$out" "${sources[@]}" \
    || die mmdebstrap "mmdebstrap failed (see above); check the mirror in versions.env and that every pinned version still exists there."
  # Record what was installed, for the manifest's "versions".
  chroot "$out" dpkg-query -W -f='${Package}\t${Version}\n' >"$CACHE_DIR/installed-packages.tsv"
  stage_done base "$key"
}
