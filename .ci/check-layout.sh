#!/usr/bin/env bash
# The layout's rules, run by `npm run check:rules` (part of `npm test`): the import rules in
# .dependency-cruiser.cjs (rooms, no cycles, the page imports only worker/shared/) and no source file over
# 400 lines (STYLE.md: split at about 300 or at a file's second reason to change).
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
depcruise --config .dependency-cruiser.cjs src worker e2e || status=1

MAX_LINES=400
too_long=$(git ls-files -co --exclude-standard -- '*.ts' '*.mts' '*.js' '*.mjs' '*.cjs' '*.sh' '*.c' '*.css' '*.html' \
    'vm-images/config/*' ':!:*.test.ts' ':!:*.spec.ts' ':!:*.d.ts' \
  | while read -r file; do
      [ -f "$file" ] || continue
      lines=$(wc -l <"$file")
      ((lines > MAX_LINES)) && echo "  $file: $lines lines"
    done || true)
if [ -n "$too_long" ]; then
  echo "check-layout: source files over $MAX_LINES lines (split them at a second reason to change):" >&2
  echo "$too_long" >&2
  status=1
else
  echo "check-layout: no source file over $MAX_LINES lines"
fi
exit "$status"
