# shellcheck shell=bash
# conf_keys_man.sh — sorad.conf(5) and the key table (src/conf_keys.c) agree: the key
# list between the page's BEGIN KEYS and END KEYS comments is what `sorad conf-keys
# --man` prints, and every key is also explained in the page's prose.
. "$(dirname "$0")/lib.sh"

page="$SORAD_SOURCE_DIR/docs/sorad.conf.5"
"$SORAD_BIN" conf-keys --man >"$T/want" || fail "sorad conf-keys --man failed"
awk '/^\.\\" END KEYS/ { inside = 0 } inside { print } /^\.\\" BEGIN KEYS/ { inside = 1 }' \
	"$page" >"$T/have"
[ -s "$T/have" ] || fail "no key list between BEGIN KEYS and END KEYS in $page"
if ! diff -u "$T/have" "$T/want" >"$T/diff"; then
	cat "$T/diff" >&2
	fail "the key list of docs/sorad.conf.5 differs from the table (+: the table);" \
		"run scripts/update-conf-keys-man.sh"
fi

# The prose outside the list names each key in bold (.B or .BR) at least once.
awk '/^\.\\" BEGIN KEYS/ { skip = 1 } !skip { print } /^\.\\" END KEYS/ { skip = 0 }' \
	"$page" >"$T/prose"
"$SORAD_BIN" conf-keys | awk '{ print $1 }' >"$T/keys"
[ "$(wc -l <"$T/keys")" -gt 40 ] || fail "sorad conf-keys listed too few keys"
while read -r key; do
	grep -Eq "^\.BR? (.*[ \"])?$key([ \",]|$)" "$T/prose" ||
		fail "key $key is in the table but not explained in docs/sorad.conf.5"
	grep -Eq "^(# ?)?$key *=" "$SORAD_SOURCE_DIR/sorad.conf" ||
		fail "key $key is in the table but not in the shipped sorad.conf"
done <"$T/keys"

echo "conf_keys_man: ok"
