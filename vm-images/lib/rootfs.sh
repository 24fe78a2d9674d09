# Stage "rootfs": a copy of the base with the guest config applied, the trimmed module tree (lib/modules.sh)
# swapped in, and the test images' docker archive placed for first boot.

build_rootfs() {
  local base="$CACHE_DIR/rootfs-base" out="$CACHE_DIR/rootfs"
  local key
  key="$(STAGE_EXTRA="$(cat "$CACHE_DIR/base.done" "$CACHE_DIR/modules.done" "$CACHE_DIR/helpers.done")" stage_key rootfs "$VM_DIR/lib/rootfs.sh" \
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
  install -m 0755 "$c/tabdock-proctrace" "$out/usr/local/sbin/tabdock-proctrace"
  install -m 0755 "$c/tabdock-load-image" "$out/usr/local/sbin/tabdock-load-image"
  install -D -m 0755 "$c/tabdock-warm-up" "$out/usr/local/libexec/tabdock-warm-up"
  # The OCI runtime fronts (one program; its name picks crun or runc) and the setkey hook (lib/helpers.sh).
  install -m 0755 "$CACHE_DIR/helpers/tabdock-runtime" "$out/usr/local/sbin/tabdock-crun"
  ln -f "$out/usr/local/sbin/tabdock-crun" "$out/usr/local/sbin/tabdock-runc"
  install -D -m 0755 "$CACHE_DIR/helpers/tabdock-setkey" "$out/usr/local/libexec/tabdock-setkey"
  install -D -m 0755 "$CACHE_DIR/helpers/tabdock-sealed-copy" "$out/usr/local/libexec/tabdock-sealed-copy"
  install -D -m 0755 "$CACHE_DIR/helpers/tabdock-modprobe" "$out/usr/local/libexec/tabdock-modprobe"
  # dockerd's BuildKit runs the `runc` it finds first on its PATH (tabdock-init puts this folder first).
  install -d "$out/usr/local/libexec/tabdock-buildkit"
  ln -sf /usr/local/sbin/tabdock-crun "$out/usr/local/libexec/tabdock-buildkit/runc"
  front_cli_plugins "$out"
  install -m 0755 "$c/poweroff" "$out/sbin/poweroff"
  ln -sf poweroff "$out/sbin/halt"
  ln -sf poweroff "$out/sbin/reboot"
  install -d "$out/etc/tabdock" "$out/etc/docker" "$out/var/lib/tabdock/images" "$out/etc/profile.d"
  install -m 0644 "$c/modules" "$out/etc/tabdock/modules"
  install -m 0644 "$c/prefetch" "$out/etc/tabdock/prefetch"
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
  cp "$CACHE_DIR/test-images/preload.tar" "$out/var/lib/tabdock/images/"
  install -D -m 0644 "$CACHE_DIR/test-images/curl.tar" "$out/var/lib/tabdock/extra-images/curl.tar"

  link_busybox_applets "$out"
  rm -rf "$out/lib/modules/$KERNEL_ABI"
  cp -a "$CACHE_DIR/modules-root/lib/modules/$KERNEL_ABI" "$out/lib/modules/"
  # tabdock-modprobe fails binfmt-XXXX requests without asking modprobe: right only while no module has one.
  if grep -q '^alias binfmt-' "$out/lib/modules/$KERNEL_ABI/modules.alias"; then
    die modules-binfmt "a module in the guest's tree has a binfmt- alias; vm-images/helpers/tabdock-modprobe.c would hide it"
  fi
  # The kernel and initrd live outside the disk (v86 loads them directly); /boot would only waste space.
  rm -rf "$out/boot"/* "$out/vmlinuz"* "$out/initrd.img"*
  stage_done rootfs "$key"
}

# The docker CLI runs a plugin (docker-buildx, docker-compose: 60 MB Go programs) for its metadata before every
# `docker build` or `docker compose` command, twice for a build, then runs it again for the command: on v86's
# CPU each start costs about a second. Each plugin is moved out of the CLI's folders and replaced by a small
# front that prints the metadata the real plugin printed here, at build time, and runs the real plugin for
# anything else. /usr/bin/docker-compose links to the front, so the hyphenated command works as before.
front_cli_plugins() {
  local root="$1" dir=/usr/libexec/docker/cli-plugins real=/usr/local/libexec/tabdock-cli-plugins plugin name metadata
  install -d "$root$real"
  for plugin in "$root$dir"/docker-*; do
    [[ -f "$plugin" && -x "$plugin" ]] || continue
    name="$(basename "$plugin")"
    metadata="$(chroot "$root" "$dir/$name" docker-cli-plugin-metadata)" \
      || die cli-plugins "could not run $dir/$name in the guest's root to read its metadata (the build host must run i386 programs)"
    [[ "$metadata" == *SchemaVersion* && "$metadata" != *"'"* ]] || die cli-plugins "unexpected metadata from $name: $metadata"
    mv "$plugin" "$root$real/$name"
    cat >"$plugin" <<EOF
#!/bin/sh
# tabdock (vm-images/lib/rootfs.sh): the docker CLI asks every plugin for its metadata before each command;
# answered here, as the real plugin answered at build time, instead of starting $name again.
if [ "\$#" = 1 ] && [ "\$1" = docker-cli-plugin-metadata ]; then
  printf '%s\\n' '$metadata'
  exit 0
fi
exec $real/$name "\$@"
EOF
    chmod 0755 "$plugin"
  done
  log "rootfs: CLI plugins fronted: $(cd "$root$real" && ls | paste -sd' ')"
}

# Debian's busybox-static installs no applet links. Link the applets that no Debian package provides
# (wget, nc, vi, ...) into /usr/local/bin, so the guest has them without shadowing a real tool.
link_busybox_applets() {
  local root="$1" applet dir found count=0
  while read -r applet; do
    found=0
    for dir in usr/local/sbin usr/local/bin usr/sbin usr/bin sbin bin; do
      if [[ -e "$root/$dir/$applet" || -L "$root/$dir/$applet" ]]; then found=1; break; fi
    done
    ((found)) && continue
    ln -s /bin/busybox "$root/usr/local/bin/$applet"
    count=$((count + 1))
  done < <("$root/bin/busybox" --list)
  log "rootfs: linked $count busybox applets into /usr/local/bin"
}
