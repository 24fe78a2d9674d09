# Images for the pull benchmark (and later tests that need a real-sized image), never part of the guest or
# dist/: Debian minbase (i386) plus a package, as OCI layouts in $CACHE_DIR/bench-images/<name>, tagged
# "latest", built like the test images (lib/test-images.sh: reproducible layer tars, a linux/386 index).
#   nginx          Debian's nginx-light on minbase, one layer (the size of Docker Hub's nginx for 386)
#   nginx-layers5  the same files in five layers (how official images are cut), for per-layer costs
#   python         Debian's python3 on minbase, one layer (python:3-slim-like)

# bench_rootfs ROOT PACKAGES...: minbase with PACKAGES installed (maintainer scripts run), apt state and docs
# dropped as Debian's slim images drop them.
bench_rootfs() {
  local root="$1" debs="$CACHE_DIR/apt-archives"; shift
  local -a sources=("deb $DEBIAN_MIRROR $DEBIAN_SUITE main")
  local s
  for s in $DEBIAN_EXTRA_SUITES; do sources+=("deb $DEBIAN_MIRROR $s main"); done
  mkdir -p "$debs"
  local include
  include="$(IFS=,; printf '%s' "$*")"
  mmdebstrap --quiet --variant=minbase --arch="$GUEST_ARCH" --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
    "$DEBIAN_SUITE" "$root" "${sources[@]}" \
    || die bench-images "mmdebstrap could not install $* for a bench image; check the pins in versions.env."
  rm -rf "$root/dev" "$root/proc" "$root/sys"
  mkdir -p "$root/dev" "$root/proc" "$root/sys"
}

# tar_layer OUT_PREFIX ROOT TAR_ARGS...: like make_layer, but of the paths (and excludes) in TAR_ARGS.
tar_layer() {
  local out="$1" root="$2"; shift 2
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$root" -cf "$out.tar" "$@"
  gzip -n -9 -c "$out.tar" >"$out.tar.gz"
}

# bench_image NAME ROOT LAYERS CONFIG: LAYERS is 1 (the whole tree) or 5 (cut by top-level paths).
bench_image() {
  local name="$1" root="$2" layers="$3" config="$4" work="$CACHE_DIR/bench-images-work/$1"
  mkdir -p "$work"
  if [[ "$layers" == 1 ]]; then
    tar_layer "$work/l1" "$root" .
    write_layout "$CACHE_DIR/bench-images/$name" "$config" "$work/l1"
  else
    # The base's files, the shared libraries, the rest of /usr, /usr/share, then /var: uneven, as real images are.
    tar_layer "$work/l1" "$root" --exclude=./usr --exclude=./var .
    tar_layer "$work/l2" "$root" ./usr/lib/i386-linux-gnu
    tar_layer "$work/l3" "$root" --exclude=./usr/lib/i386-linux-gnu --exclude=./usr/share ./usr
    tar_layer "$work/l4" "$root" ./usr/share
    tar_layer "$work/l5" "$root" ./var
    write_layout "$CACHE_DIR/bench-images/$name" "$config" "$work/l1" "$work/l2" "$work/l3" "$work/l4" "$work/l5"
  fi
  rm -rf "$work"
}

build_bench_images() {
  local work="$CACHE_DIR/bench-images-work" out="$CACHE_DIR/bench-images"
  local key
  key="$(stage_key bench-images "$VM_DIR/lib/bench-images.sh" "$VM_DIR/lib/test-images.sh" "$VM_DIR/versions.env" "$VM_DIR/bench-images.env")"
  if stage_fresh bench-images "$key" && [[ -f "$out/python/index.json" ]]; then
    log "bench-images: unchanged, skipped ($out)"
    return
  fi
  stage_invalidate bench-images
  rm -rf "$work" "$out"
  mkdir -p "$work" "$out"

  log "bench-images: nginx (nginx-light $PKG_nginx_light on minbase), one layer and five"
  bench_rootfs "$work/nginx-root" "nginx-light=$PKG_nginx_light"
  # Docker Hub's nginx logs to the container's output; the same here, so `docker logs` shows requests.
  ln -sf /dev/stdout "$work/nginx-root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$work/nginx-root/var/log/nginx/error.log"
  image_config "$work/nginx-config.json" '["nginx","-g","daemon off;"]' '{"80/tcp":{}}'
  bench_image nginx "$work/nginx-root" 1 "$work/nginx-config.json"
  bench_image nginx-layers5 "$work/nginx-root" 5 "$work/nginx-config.json"

  log "bench-images: python (python3 $PKG_python3 on minbase), one layer"
  bench_rootfs "$work/python-root" "python3=$PKG_python3"
  image_config "$work/python-config.json" '["python3"]'
  bench_image python "$work/python-root" 1 "$work/python-config.json"

  rm -rf "$work"
  stage_done bench-images "$key"
  log "bench-images: $(du -sh "$out" | cut -f1) of OCI layouts in $out"
}
