#!/usr/bin/env bash
# Installs every Debian package sorad needs to build, test and run its demo, and the
# test-only Node.js packages (the official `openai` and `@openrouter/sdk` SDKs) into
# tests/node/ and the Portkey AI gateway into tests/portkey/.
# Idempotent and quiet when everything is already present.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pkgs=(
  build-essential cmake pkg-config clang
  libcurl4-openssl-dev libcjson-dev libconfuse-dev libnotify-dev
  libmicrohttpd-dev libcmocka-dev
  ffmpeg fonts-dejavu-core curl jq nodejs wrk rsync valgrind cppcheck clang-tidy
  clang-format shellcheck # scripts/lint.sh: the tree stays formatted, the scripts warning-free
  chromium # the status page's browser test (headless, driven by playwright-core)
  dbus python3-dbusmock
  dunst xvfb xauth x11-utils # a real notification server (dunst) on a virtual X display
  syncthing rclone # test-only: real sync tools delivering into the inbox (sync_syncthing.sh, dupes_rclone.sh)
  systemd man-db mandoc
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# nodejs from nodesource ships npm itself; Debian's nodejs needs the npm package.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test-only: the official OpenAI and OpenRouter Node SDKs and playwright-core (which
# drives the Debian chromium for the status page's test), pinned by
# tests/node/package-lock.json. Installed again when any of them is missing (a checkout
# that had only the older packages gets the new one).
nodedir="$here/tests/node"
if [ -f "$nodedir/package.json" ] && { [ ! -d "$nodedir/node_modules/openai" ] ||
  [ ! -d "$nodedir/node_modules/@openrouter/sdk" ] ||
  [ ! -d "$nodedir/node_modules/playwright-core" ]; }; then
  echo "install-deps: installing Node test packages into tests/node" >&2
  (cd "$nodedir" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 ||
    npm install --silent --no-audit --no-fund >/dev/null)
fi

# Test-only: the Portkey AI gateway (@portkey-ai/gateway 1.15.2) that
# tests/integration/gateway_portkey.sh puts between sorad and sora-sim, in two copies,
# each pinned by its package-lock.json: tests/portkey/npm as npm resolved it (with
# @hono/node-server 1.19.x, which turns every 2xx into a 500, Portkey issue #1389) and
# tests/portkey/pinned with @hono/node-server 1.13.5 and hono 4.9.7 (npm overrides, the
# versions of Portkey's own lockfile). Its postinstall (patch-package) has nothing to
# patch in the published package: --ignore-scripts.
portkey_installed() { # DIR NODE_SERVER_VERSION_PREFIX
  local v
  [ -f "$1/node_modules/@portkey-ai/gateway/build/start-server.js" ] &&
    v=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
      "$1/node_modules/@hono/node-server/package.json" 2>/dev/null) &&
    [[ $v == "$2"* ]]
}
for copy in npm:1.19. pinned:1.13.5; do
  pkdir="$here/tests/portkey/${copy%%:*}"
  if [ -f "$pkdir/package.json" ] && ! portkey_installed "$pkdir" "${copy#*:}"; then
    echo "install-deps: installing the Portkey gateway into tests/portkey/${copy%%:*}" >&2
    (cd "$pkdir" && { npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null 2>&1 ||
      npm install --silent --no-audit --no-fund --ignore-scripts >/dev/null; })
    portkey_installed "$pkdir" "${copy#*:}" || {
      echo "install-deps: tests/portkey/${copy%%:*}: @hono/node-server is not ${copy#*:}*" >&2
      exit 1
    }
  fi
done
exit 0
