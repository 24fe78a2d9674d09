# Stages "disk" and "publish": the ext4 root disk made from the rootfs directory without any mount
# (mke2fs -d), then every output copied to public/vm/ under a content-hashed name, plus manifest.json.

readonly KERNEL_CMDLINE_BASE="console=ttyS0,115200 tsc=reliable mitigations=off random.trust_cpu=on quiet init_on_free=1"
readonly KERNEL_CMDLINE="$KERNEL_CMDLINE_BASE root=/dev/sda rootfstype=ext4"

build_disk() {
  local out="$CACHE_DIR/rootfs.ext4"
  local key
  key="$(STAGE_EXTRA="$(cat "$CACHE_DIR/rootfs.done") $ROOT_DISK_SIZE" stage_key disk "$VM_DIR/lib/publish.sh")"
  if stage_fresh disk "$key" && [[ -f "$out" && -f "$out.sha256" ]]; then
    log "disk: unchanged, skipped"
    return
  fi
  stage_invalidate disk
  rm -f "$out" "$out.sha256"
  log "disk: mke2fs -d ($ROOT_DISK_SIZE sparse)"
  # Fixed time, UUID and hash seed keep the image identical for identical inputs.
  # lazy_itable_init=0: mke2fs zeroes the inode tables and marks them so. Left lazy, the guest kernel's
  # ext4lazyinit thread zeroes them after the first mount: 32 MB of writes at every cold boot, which the boot
  # snapshot then carried as 127,000 written 256-byte disk blocks (12.9 MB of state JSON to parse on restore).
  # -N, -J: the inode tables and the journal stay the size they had on the 2 GiB disk (32 MiB, 64 MiB), so
  # an 8 GiB disk does not make mke2fs write 4x the zeros (mke2fs's default is one inode per 16 KiB: 128 MiB
  # of tables). 131072 inodes is what the guest had; `df -i` shows them.
  E2FSPROGS_FAKE_TIME=1 mke2fs -q -F -t ext4 -L tabdock -m 0 -N 131072 -J size=64 \
    -U 7ab0dd0c-0000-4000-8000-000000000001 \
    -E hash_seed=7ab0dd0c-0000-4000-8000-000000000002,root_owner=0:0,lazy_itable_init=0 \
    -d "$CACHE_DIR/rootfs" "$out" "$ROOT_DISK_SIZE" \
    || die mke2fs "mke2fs could not build the root disk; is ROOT_DISK_SIZE in versions.env big enough?"
  sha256sum "$out" | cut -d' ' -f1 >"$out.sha256"
  stage_done disk "$key"
}

# publish_file ROLE SOURCE STEM EXT [SHA256] -> copies SOURCE to OUT_DIR/STEM.<hash8>.EXT, prints a JSON entry.
publish_file() {
  local role="$1" src="$2" stem="$3" ext="$4" sum="${5:-}"
  [[ -n "$sum" ]] || sum="$(sha256sum "$src" | cut -d' ' -f1)"
  local name="$stem.${sum:0:8}.$ext"
  [[ -f "$OUT_DIR/$name" ]] || cp --sparse=always "$src" "$OUT_DIR/$name"
  jq -cn --arg role "$role" --arg file "$name" --argjson bytes "$(stat -c %s "$src")" --arg sha "$sum" \
    '{($role): {file:$file, bytes:$bytes, sha256:$sha}}'
}

publish() {
  mkdir -p "$OUT_DIR"
  local files
  files="$( {
    publish_file bios /usr/share/seabios/bios.bin bios bin
    publish_file vgaBios /usr/share/seabios/vgabios-stdvga.bin vgabios-stdvga bin
    publish_file kernel "$CACHE_DIR/rootfs-base/boot/vmlinuz-$KERNEL_ABI" vmlinuz bzImage
    publish_file initrd "$CACHE_DIR/initrd.img" initrd img
    publish_file rootDisk "$CACHE_DIR/rootfs.ext4" rootfs ext4 "$(cat "$CACHE_DIR/rootfs.ext4.sha256")"
  } | jq -cs 'add')"
  local versions
  versions="$(guest_packages | cut -d= -f1 | while read -r pkg; do
      awk -F'\t' -v p="$pkg" '$1 == p {print p "\t" $2}' "$CACHE_DIR/installed-packages.tsv"
    done | jq -cR 'split("\t") | {(.[0]): .[1]}' | jq -cs --arg sb "$(dpkg-query -W -f='${Version}' seabios)" \
      --arg k "$KERNEL_ABI" --arg s "$DEBIAN_SUITE" 'add + {seabios:$sb, kernelAbi:$k, debianSuite:$s}')"
  local build_id
  build_id="$(printf '%s\n' "$files" "$versions" "$KERNEL_CMDLINE" "$RECOMMENDED_MEMORY_BYTES" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$OUT_DIR/manifest.json" ]] && [[ "$(jq -r .buildId "$OUT_DIR/manifest.json")" == "$build_id" ]]; then
    log "publish: $OUT_DIR is up to date (build $build_id)"
  else
    jq -n --arg id "$build_id" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson mem "$RECOMMENDED_MEMORY_BYTES" \
      --arg cmdline "$KERNEL_CMDLINE" --argjson files "$files" --argjson versions "$versions" \
      '{formatVersion:1, buildId:$id, createdAt:$at, recommendedMemoryBytes:$mem, cmdline:$cmdline,
        files:$files, versions:$versions}' >"$OUT_DIR/manifest.json.tmp"
    mv "$OUT_DIR/manifest.json.tmp" "$OUT_DIR/manifest.json"
    log "publish: wrote $OUT_DIR/manifest.json (build $build_id)"
  fi
  # Drop outputs of earlier builds that the manifest no longer names.
  local f keep
  keep="$(jq -r '.files[].file' "$OUT_DIR/manifest.json")"
  for f in "$OUT_DIR"/*.*.bin "$OUT_DIR"/*.*.bzImage "$OUT_DIR"/*.*.img "$OUT_DIR"/*.*.ext4; do
    [[ -e "$f" ]] || continue
    grep -qxF "$(basename "$f")" <<<"$keep" || rm -f "$f"
  done
  rm -rf "$OUT_DIR/test-images"
  mkdir -p "$OUT_DIR/test-images"
  cp -a "$CACHE_DIR/test-images-oci/." "$OUT_DIR/test-images/"
  cp "$CACHE_DIR"/test-images/*.tar "$OUT_DIR/test-images/"
}
