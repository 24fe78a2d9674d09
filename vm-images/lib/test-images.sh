# Stage "test-images": busybox:latest, tabdock/httpd:latest and tabdock/curl:latest for linux/386, built without
# docker from the base's busybox-static and Debian packages: layer tars, config and manifests written here as OCI
# image layouts (an index with a linux/386 entry), then converted by skopeo to docker-archive tars that the
# guest loads at first boot.

readonly OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
readonly OCI_INDEX=application/vnd.oci.image.index.v1+json
readonly OCI_CONFIG=application/vnd.oci.image.config.v1+json
readonly OCI_LAYER=application/vnd.oci.image.layer.v1.tar+gzip

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# put_blob LAYOUT FILE -> moves FILE into LAYOUT/blobs/sha256/ and prints "<digest> <size>".
put_blob() {
  local digest size
  digest="$(sha256_of "$2")"; size="$(stat -c %s "$2")"
  mv "$2" "$1/blobs/sha256/$digest"
  printf 'sha256:%s %s\n' "$digest" "$size"
}

# make_layer DIR OUT_PREFIX: writes OUT_PREFIX.tar (for the diff_id) and OUT_PREFIX.tar.gz, reproducibly.
make_layer() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$1" -cf "$2.tar" .
  gzip -n -9 -c "$2.tar" >"$2.tar.gz"
}

# write_layout LAYOUT CONFIG_JSON_FILE LAYER_PREFIX...: OCI image layout with index.json -> image index
# (linux/386) -> manifest, tagged "latest" (OCI image-layout spec, index.json ref.name annotation).
write_layout() {
  local layout="$1" config="$2"; shift 2
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  local layers='[]' diff_ids='[]' prefix d s
  for prefix in "$@"; do
    diff_ids="$(jq -c --arg d "sha256:$(sha256_of "$prefix.tar")" '. + [$d]' <<<"$diff_ids")"
    cp "$prefix.tar.gz" "$layout/blob.tmp"
    read -r d s < <(put_blob "$layout" "$layout/blob.tmp")
    layers="$(jq -c --arg d "$d" --argjson s "$s" --arg m "$OCI_LAYER" '. + [{mediaType:$m,digest:$d,size:$s}]' <<<"$layers")"
  done
  jq -c --argjson ids "$diff_ids" '.rootfs = {type:"layers", diff_ids:$ids}' "$config" >"$layout/blob.tmp"
  local config_digest config_size
  read -r config_digest config_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_MANIFEST" --arg cm "$OCI_CONFIG" --arg cd "$config_digest" --argjson cs "$config_size" \
    --argjson layers "$layers" \
    '{schemaVersion:2, mediaType:$m, config:{mediaType:$cm,digest:$cd,size:$cs}, layers:$layers}' >"$layout/blob.tmp"
  local manifest_digest manifest_size
  read -r manifest_digest manifest_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_INDEX" --arg mm "$OCI_MANIFEST" --arg d "$manifest_digest" --argjson s "$manifest_size" \
    '{schemaVersion:2, mediaType:$m, manifests:[{mediaType:$mm,digest:$d,size:$s,platform:{architecture:"386",os:"linux"}}]}' \
    >"$layout/blob.tmp"
  local index_digest index_size
  read -r index_digest index_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_INDEX" --arg d "$index_digest" --argjson s "$index_size" \
    '{schemaVersion:2, mediaType:$m, manifests:[{mediaType:$m,digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":"latest"}}]}' \
    >"$layout/index.json"
}

# image_config FILE CMD_JSON [EXPOSED_PORTS_JSON]
image_config() {
  jq -cn --arg created "$TEST_IMAGE_CREATED" --argjson cmd "$2" --argjson ports "${3:-null}" \
    '{created:$created, architecture:"386", os:"linux",
      config:({Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd:$cmd, WorkingDir:"/"}
        + (if $ports == null then {} else {ExposedPorts:$ports} end)),
      history:[{created:$created, created_by:"tabdock vm-images/lib/test-images.sh"}]}' >"$1"
}

# merge_docker_archives OUT IN...: one docker-archive holding every image of the inputs, so the guest pays
# for one `docker load` (one CLI start, shared layers read once). Layer and config files are named by
# digest, so files that appear in several inputs are identical; manifest.json arrays and repositories
# maps are concatenated.
merge_docker_archives() {
  local out="$1"; shift
  local dir="$CACHE_DIR/preload-work" in i=0
  rm -rf "$dir"; mkdir -p "$dir/all"
  for in in "$@"; do
    mkdir -p "$dir/$i"
    tar -xf "$in" -C "$dir/$i"
    cp -a "$dir/$i/." "$dir/all/"
    i=$((i + 1))
  done
  jq -s 'add' "$dir"/[0-9]*/manifest.json >"$dir/all/manifest.json"
  jq -s 'add' "$dir"/[0-9]*/repositories >"$dir/all/repositories"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir/all" -cf "$out" .
  rm -rf "$dir"
}

# curl_layer_root DIR: Debian's curl and ca-certificates (the pins in versions.env) with their library
# dependencies, extracted without maintainer scripts (mmdebstrap's "extract" variant), for tabdock/curl. The
# image's other layer is busybox's, so it has a shell for `docker build` RUN lines and costs one layer more.
curl_layer_root() {
  local root="$1" debs="$CACHE_DIR/apt-archives"
  local -a sources=("deb $DEBIAN_MIRROR $DEBIAN_SUITE main")
  local s
  for s in $DEBIAN_EXTRA_SUITES; do sources+=("deb $DEBIAN_MIRROR $s main"); done
  mkdir -p "$debs"
  mmdebstrap --quiet --variant=extract --arch="$GUEST_ARCH" \
    --include="curl=$PKG_curl,ca-certificates=$PKG_ca_certificates" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
    "$DEBIAN_SUITE" "$root" "${sources[@]}" \
    || die curl-image "mmdebstrap could not extract curl $PKG_curl for the tabdock/curl test image; check PKG_curl in versions.env."
  # Only files the packages installed: no apt/dpkg state, no docs (copyrights stay).
  rm -rf "$root/var" "$root/etc/apt" "$root/dev" "$root/run" "$root/tmp" "$root/proc" "$root/sys"
  find "$root/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
  # glibc's iconv modules (8 MB) serve no purpose for curl.
  rm -rf "$root/usr/lib/i386-linux-gnu/gconv"
  # update-ca-certificates did not run (no maintainer scripts): the bundle it would write is every certificate
  # the package ships, concatenated, at the path Debian's OpenSSL and curl read.
  mkdir -p "$root/etc/ssl/certs"
  find "$root/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat >"$root/etc/ssl/certs/ca-certificates.crt"
  # Merged-/usr releases ship the loader under /usr/lib and leave /lib to base-files, which is not extracted.
  if [[ ! -e "$root/lib/ld-linux.so.2" && -e "$root/usr/lib/ld-linux.so.2" ]]; then ln -s usr/lib "$root/lib"; fi
  [[ -x "$root/usr/bin/curl" && -e "$root/lib/ld-linux.so.2" ]] || die curl-image "the extracted curl tree lacks usr/bin/curl or the loader"
}

build_test_images() {
  local work="$CACHE_DIR/test-images-work" out="$CACHE_DIR/test-images" layouts="$CACHE_DIR/test-images-oci"
  local busybox="$CACHE_DIR/rootfs-base/bin/busybox"
  local key
  key="$(STAGE_EXTRA="$(sha256_of "$busybox")" stage_key test-images "$VM_DIR/lib/test-images.sh" "$VM_DIR/versions.env")"
  if stage_fresh test-images "$key" && [[ -f "$out/curl.tar" ]]; then
    log "test-images: unchanged, skipped"
    return
  fi
  stage_invalidate test-images
  log "test-images: building busybox, tabdock/httpd and tabdock/curl (linux/386)"
  rm -rf "$work" "$out" "$layouts"
  mkdir -p "$work/busybox/bin" "$work/www/www" "$out" "$layouts"

  # busybox: the static binary, one symlink per applet at its usual path, minimal passwd/group.
  local root="$work/busybox" applet
  cp "$busybox" "$root/bin/busybox"
  while read -r applet; do
    [[ "$applet" == bin/busybox ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done < <("$busybox" --list-full)
  mkdir -p "$root/etc" "$root/root" "$root/tmp" "$root/var/www"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >"$root/etc/group"
  make_layer "$root" "$work/busybox-layer"

  printf '<!doctype html>\n<title>tabdock test page</title>\n<h1>tabdock test page</h1>\n<p>Served by busybox httpd in a linux/386 container.</p>\n' \
    >"$work/www/www/index.html"
  make_layer "$work/www" "$work/www-layer"

  curl_layer_root "$work/curl"
  make_layer "$work/curl" "$work/curl-layer"

  image_config "$work/busybox-config.json" '["sh"]'
  write_layout "$layouts/busybox" "$work/busybox-config.json" "$work/busybox-layer"
  image_config "$work/httpd-config.json" '["httpd","-f","-p","80","-h","/www"]' '{"80/tcp":{}}'
  write_layout "$layouts/httpd" "$work/httpd-config.json" "$work/busybox-layer" "$work/www-layer"
  image_config "$work/curl-config.json" '["curl","--version"]'
  write_layout "$layouts/curl" "$work/curl-config.json" "$work/busybox-layer" "$work/curl-layer"

  local name ref
  for name in busybox httpd curl; do
    ref="busybox:latest"; [[ "$name" != busybox ]] && ref="tabdock/$name:latest"
    skopeo copy -q --override-os linux --override-arch 386 "oci:$layouts/$name:latest" \
      "docker-archive:$out/$name.tar:$ref" \
      || die skopeo "skopeo could not convert the $name OCI layout to a docker archive (see above)."
  done
  # tabdock/curl (about 20 MB unpacked) is not preloaded: loaded at first boot it grew the boot snapshot from
  # 37 to 55 MB, past the first visit's 40 MB budget. It ships as a tar in the rootfs and tests load it first
  # (`tabdock-load-image curl`).
  merge_docker_archives "$out/preload.tar" "$out/busybox.tar" "$out/httpd.tar"
  rm -rf "$work"
  stage_done test-images "$key"
}
