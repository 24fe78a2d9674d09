# Stage "test-image-amd64": tabdock/amd64, a linux/amd64-only image (Debian's amd64 busybox-static, extracted by
# mmdebstrap --arch=amd64), as an OCI layout in public/vm/test-images/amd64/. The emulation tests push it to
# their registry: it runs only with `--platform linux/amd64`, under the guest's qemu-x86_64-static. Not shipped
# in the guest. Runs after build_test_images (which rebuilds the folder it writes into) and reuses its helpers.

build_test_image_amd64() {
  local work="$CACHE_DIR/test-image-amd64-work" layout="$CACHE_DIR/test-images-oci/amd64"
  local key
  key="$(STAGE_EXTRA="$PKG_busybox_static_amd64 $TEST_IMAGE_CREATED $(sha256_of "$CACHE_DIR/rootfs-base/bin/busybox")" stage_key test-image-amd64 "$VM_DIR/lib/test-image-amd64.sh")"
  if stage_fresh test-image-amd64 "$key" && [[ -f "$layout/index.json" ]]; then
    log "test-image-amd64: unchanged, skipped"
    return
  fi
  stage_invalidate test-image-amd64
  log "test-image-amd64: building tabdock/amd64 (linux/amd64 only) from Debian's amd64 busybox-static"
  rm -rf "$work" "$layout"
  mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/tmp"
  local debs="$CACHE_DIR/apt-archives-amd64"
  mkdir -p "$debs"
  mmdebstrap --quiet --variant=extract --arch=amd64 --include="busybox-static=$PKG_busybox_static_amd64" \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$debs' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
    "$DEBIAN_SUITE" "$work/extract" "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    || die amd64-image "mmdebstrap could not extract amd64 busybox-static $PKG_busybox_static_amd64; check PKG_busybox_static_amd64 in versions.env."
  local root="$work/root" applet
  cp "$work/extract/bin/busybox" "$root/bin/busybox" 2>/dev/null || cp "$work/extract/usr/bin/busybox" "$root/bin/busybox" \
    || die amd64-image "the extracted busybox-static has no busybox binary"
  # Applet links from the i386 busybox's list (same version and configuration): the build host may not run
  # amd64 programs.
  while read -r applet; do
    [[ "$applet" == bin/busybox ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done < <("$CACHE_DIR/rootfs-base/bin/busybox" --list-full)
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  make_layer "$root" "$work/layer"

  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  local layer_digest layer_size config_digest config_size manifest_digest manifest_size index_digest index_size
  cp "$work/layer.tar.gz" "$layout/blob.tmp"
  read -r layer_digest layer_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg created "$TEST_IMAGE_CREATED" --arg diff "sha256:$(sha256_of "$work/layer.tar")" \
    '{created:$created, architecture:"amd64", os:"linux",
      config:{Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd:["uname","-m"], WorkingDir:"/"},
      rootfs:{type:"layers", diff_ids:[$diff]},
      history:[{created:$created, created_by:"tabdock vm-images/lib/test-image-amd64.sh"}]}' >"$layout/blob.tmp"
  read -r config_digest config_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_MANIFEST" --arg cm "$OCI_CONFIG" --arg cd "$config_digest" --argjson cs "$config_size" \
    --arg lm "$OCI_LAYER" --arg ld "$layer_digest" --argjson ls "$layer_size" \
    '{schemaVersion:2, mediaType:$m, config:{mediaType:$cm,digest:$cd,size:$cs}, layers:[{mediaType:$lm,digest:$ld,size:$ls}]}' \
    >"$layout/blob.tmp"
  read -r manifest_digest manifest_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_INDEX" --arg mm "$OCI_MANIFEST" --arg d "$manifest_digest" --argjson s "$manifest_size" \
    '{schemaVersion:2, mediaType:$m, manifests:[{mediaType:$mm,digest:$d,size:$s,platform:{architecture:"amd64",os:"linux"}}]}' \
    >"$layout/blob.tmp"
  read -r index_digest index_size < <(put_blob "$layout" "$layout/blob.tmp")
  jq -cn --arg m "$OCI_INDEX" --arg d "$index_digest" --argjson s "$index_size" \
    '{schemaVersion:2, mediaType:$m, manifests:[{mediaType:$m,digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":"latest"}}]}' \
    >"$layout/index.json"
  rm -rf "$work"
  stage_done test-image-amd64 "$key"
}
