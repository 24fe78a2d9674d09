# Stage "test-images": busybox:latest and tabdock/httpd:latest for linux/386, built without docker from the
# base's busybox-static: layer tars, config and manifests written here as OCI image layouts (an index with a
# linux/386 entry), then converted by skopeo to docker-archive tars that the guest loads at first boot.

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

build_test_images() {
  local work="$CACHE_DIR/test-images-work" out="$CACHE_DIR/test-images" layouts="$CACHE_DIR/test-images-oci"
  local busybox="$CACHE_DIR/rootfs-base/bin/busybox"
  local key
  key="$(STAGE_EXTRA="$(sha256_of "$busybox")" stage_key test-images "$VM_DIR/lib/test-images.sh" "$VM_DIR/versions.env")"
  if stage_fresh test-images "$key" && [[ -f "$out/httpd.tar" ]]; then
    log "test-images: unchanged, skipped"
    return
  fi
  stage_invalidate test-images
  log "test-images: building busybox and tabdock/httpd (linux/386)"
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

  image_config "$work/busybox-config.json" '["sh"]'
  write_layout "$layouts/busybox" "$work/busybox-config.json" "$work/busybox-layer"
  image_config "$work/httpd-config.json" '["httpd","-f","-p","80","-h","/www"]' '{"80/tcp":{}}'
  write_layout "$layouts/httpd" "$work/httpd-config.json" "$work/busybox-layer" "$work/www-layer"

  local name ref
  for name in busybox httpd; do
    ref="busybox:latest"; [[ "$name" == httpd ]] && ref="tabdock/httpd:latest"
    skopeo copy -q --override-os linux --override-arch 386 "oci:$layouts/$name:latest" \
      "docker-archive:$out/$name.tar:$ref" \
      || die skopeo "skopeo could not convert the $name OCI layout to a docker archive (see above)."
  done
  merge_docker_archives "$out/preload.tar" "$out/busybox.tar" "$out/httpd.tar"
  rm -rf "$work"
  stage_done test-images "$key"
}
