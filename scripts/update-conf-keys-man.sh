#!/usr/bin/env bash
# Rewrites the key list of docs/sorad.conf.5 (the lines between its "BEGIN KEYS" and
# "END KEYS" comments) with what `sorad conf-keys --man` prints from src/conf_keys.c.
# Run it after adding or changing a key; tests/integration/conf_keys_man.sh fails
# until the page and the table agree.
#
#   scripts/update-conf-keys-man.sh [SORAD]     SORAD: the binary (default build/sorad)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sorad=${1:-build/sorad}
page=docs/sorad.conf.5
list=$(mktemp)
out=$(mktemp)
trap 'rm -f "$list" "$out"' EXIT

"$sorad" conf-keys --man >"$list"
grep -q '^\.\\" BEGIN KEYS' "$page" && grep -q '^\.\\" END KEYS' "$page" || {
	echo "$page has no BEGIN KEYS / END KEYS comments" >&2
	exit 1
}
awk -v list="$list" '
	/^\.\\" END KEYS/ { skip = 0 }
	!skip { print }
	/^\.\\" BEGIN KEYS/ { while ((getline line < list) > 0) print line; skip = 1 }
' "$page" >"$out"
if cmp -s "$out" "$page"; then
	echo "$page: key list up to date"
else
	cat "$out" >"$page"
	echo "$page: key list rewritten"
fi
