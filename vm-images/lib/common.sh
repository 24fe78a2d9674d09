# Shared helpers for build.sh and its stage scripts: logging, failing with a hint, and input-hash caching
# of stages (a stage whose inputs hash is unchanged and whose outputs exist is skipped).

log() { printf '[vm-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die CODE "sentence that says what to do"
die() {
  printf '[vm-images] error %s: %s\n' "$1" "$2" >&2
  exit 1
}

# stage_key NAME FILE... -> prints the sha256 over the named files' contents and the extra words in STAGE_EXTRA.
stage_key() {
  local name="$1"; shift
  { printf '%s\n' "$name" "${STAGE_EXTRA:-}"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

# stage_fresh NAME KEY -> true when the stage ran before with the same inputs and left its done-marker.
stage_fresh() {
  [[ "${FORCE_REBUILD:-0}" != 1 && -f "$CACHE_DIR/$1.done" && "$(cat "$CACHE_DIR/$1.done")" == "$2" ]]
}

stage_done() { printf '%s' "$2" >"$CACHE_DIR/$1.done"; }

# stage_invalidate NAME: forget a stage before rebuilding it, so a failed run never looks finished.
stage_invalidate() { rm -f "$CACHE_DIR/$1.done"; }
