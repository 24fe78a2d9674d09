# Installs the build host's tools with apt when they are missing, and enables the i386 architecture that
# mmdebstrap needs. Checks with `command -v` / `dpkg -s` first, so a ready host runs no apt at all.

ensure_host_tools() {
  local -a missing=()
  local tool pkg
  # tool:package pairs; the tool is looked up on PATH (and in /usr/sbin for root-only tools).
  # arch-test is only a Recommends of mmdebstrap, but mmdebstrap refuses a foreign (i386) chroot without it.
  for pair in mmdebstrap:mmdebstrap arch-test:arch-test mke2fs:e2fsprogs zstd:zstd cpio:cpio skopeo:skopeo depmod:kmod \
    jq:jq gzip:gzip sha256sum:coreutils; do
    tool="${pair%%:*}"; pkg="${pair#*:}"
    command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] || missing+=("$pkg")
  done
  [[ -f /usr/share/seabios/bios.bin ]] || missing+=("seabios=$HOST_SEABIOS")
  # gcc -m32 -static for the helpers stage (lib/helpers.sh): on amd64 the i386 libc and crt files come with
  # gcc-multilib; an i386 host's own gcc is enough.
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  if [[ "$(dpkg --print-architecture)" == amd64 ]] && ! dpkg -s gcc-multilib >/dev/null 2>&1; then missing+=(gcc-multilib); fi
  if ((${#missing[@]})); then
    [[ "$(id -u)" == 0 ]] || die host-tools "missing host packages (${missing[*]}): run as root or install them with apt-get."
    log "installing host tools: ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq || log "apt-get update reported errors; trying the install anyway"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || die host-tools "apt-get could not install ${missing[*]}; check the apt sources."
  fi
  local have
  have="$(dpkg-query -W -f='${Version}' seabios 2>/dev/null || true)"
  [[ "$have" == "$HOST_SEABIOS" ]] || log "warning: host seabios is $have, versions.env pins $HOST_SEABIOS"
  if ! dpkg --print-foreign-architectures | grep -qx "$GUEST_ARCH"; then
    [[ "$(id -u)" == 0 ]] || die host-tools "run as root once: dpkg --add-architecture $GUEST_ARCH"
    dpkg --add-architecture "$GUEST_ARCH"
  fi
}
