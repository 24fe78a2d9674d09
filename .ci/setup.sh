#!/usr/bin/env bash
# Brings a fresh Debian/Ubuntu machine to the point where `npm start` and `npm test` work:
# host packages, node modules, the guest image. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Host packages: chromium for the browser tests, docker-registry + skopeo + openssl for the offline pull tests,
# apache2-utils (htpasswd) for the push test's password-protected TLS registry.
# The image build (vm-images/build.sh) installs its own tools.
need_apt=()
for pkg in chromium docker-registry skopeo openssl ca-certificates apache2-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Node modules: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.tabdock-lock-stamp 2>/dev/null; then
  # Not `npm ci`: npm 11 rejects a lockfile that lacks rollup's foreign-platform optional packages, which
  # this registry does not serve; `install --no-save` still installs exactly the locked versions.
  echo "setup: npm install (locked versions)" >&2
  npm install --no-save --no-audit --no-fund
  cp package-lock.json node_modules/.tabdock-lock-stamp
fi

# The guest image: the build caches its stages, so an unchanged second run takes seconds.
npm run --silent images
