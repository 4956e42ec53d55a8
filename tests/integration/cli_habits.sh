#!/usr/bin/env bash
# The command line fits habits: global options before or after the command word
# (`sorad -c F list`, `sorad list -c F`, `-v` anywhere), `sorad help [COMMAND]`, the
# configuration found without -c in the documented order ($SORAD_CONF, ./sorad.conf,
# $XDG_CONFIG_HOME or ~/.config, the system file) and named by --verbose, `submit`
# refusing to make an inbox in a random directory when no configuration exists, and
# the bash completion offering commands, options, states, prompt files and job names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

S="$SORAD_BIN"
mkdir -p "$T/a" "$T/home/.config/sorad" "$T/xdg/sorad" "$T/empty"
# Each configuration names its own state directory, so that which one was read shows.
for d in a home/.config/sorad xdg/sorad; do
	printf 'inbox = "%s/inbox"\noutbox = "%s/out"\nstate_dir = "%s/state"\n' \
		"$T/$d" "$T/$d" "$T/$d" >"$T/$d/sorad.conf"
done
export HOME="$T/home"
unset SORAD_CONF XDG_CONFIG_HOME

# ---- global options anywhere ----------------------------------------------------------
for args in "-c $T/a/sorad.conf list" "list -c $T/a/sorad.conf" "--config=$T/a/sorad.conf list" \
	"-v -c $T/a/sorad.conf list --json" "list --json --verbose -c $T/a/sorad.conf"; do
	# shellcheck disable=SC2086 # the words are meant to split
	(cd "$T/empty" && "$S" $args) >"$T/out" 2>"$T/err" ||
		fail "sorad $args: exit $?: $(cat "$T/err")"
done
grep -q "configuration $T/a/sorad.conf (-c)" "$T/err" || fail "--verbose after the command: $(cat "$T/err")"
(cd "$T/empty" && "$S" -c "$T/a/sorad.conf" frobnicate) >"$T/out" 2>"$T/err" && fail "an unknown command passed"
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command message: $(cat "$T/err")"

# ---- help -----------------------------------------------------------------------------
"$S" help >"$T/out" || fail "sorad help failed"
grep -q "sorad help \[COMMAND\]" "$T/out" || fail "sorad help does not list help"
"$S" help list >"$T/out" || fail "sorad help list failed"
grep -q "^usage: sorad list" "$T/out" || fail "sorad help list: $(cat "$T/out")"
"$S" help check-config | grep -q "^usage: sorad check-config" || fail "sorad help check-config"
"$S" help nothing >"$T/out" 2>&1 && fail "sorad help nothing passed"
grep -q "unknown command 'nothing'" "$T/out" || fail "sorad help nothing: $(cat "$T/out")"

# ---- discovery --------------------------------------------------------------------------
# which DIR ARGS...: runs `sorad -v ARGS check-config` in DIR, prints the chosen file.
which_conf() {
	local dir=$1
	shift
	(cd "$dir" && "$@" "$S" -v check-config 2>&1 >/dev/null) | sed -n 's/^sorad: configuration \([^ ]*\) .*/\1/p'
}
[ "$(which_conf "$T/empty" env)" = "$T/home/.config/sorad/sorad.conf" ] ||
	fail "the user file \$HOME/.config/sorad/sorad.conf not found: $(cd "$T/empty" && "$S" -v check-config 2>&1 | head -3)"
[ "$(which_conf "$T/empty" env XDG_CONFIG_HOME="$T/xdg")" = "$T/xdg/sorad/sorad.conf" ] ||
	fail "\$XDG_CONFIG_HOME/sorad/sorad.conf not preferred"
[ "$(which_conf "$T/empty" env XDG_CONFIG_HOME=relative)" = "$T/home/.config/sorad/sorad.conf" ] ||
	fail "a relative XDG_CONFIG_HOME is not ignored"
[ "$(which_conf "$T/a" env XDG_CONFIG_HOME="$T/xdg")" = "sorad.conf" ] ||
	fail "./sorad.conf does not win over the user's file"
[ "$(which_conf "$T/a" env SORAD_CONF="$T/xdg/sorad/sorad.conf")" = "$T/xdg/sorad/sorad.conf" ] ||
	fail "\$SORAD_CONF does not win over ./sorad.conf"
# The commands use what was found: the user's state directory is the one listed.
(cd "$T/empty" && "$S" list --json) >/dev/null 2>"$T/err" || fail "list with the user's file: $(cat "$T/err")"
(cd "$T/empty" && "$S" -v check-config) 2>&1 | grep -q "$T/home/.config/sorad/state" ||
	fail "check-config does not show the user's state directory"

# Nothing anywhere: the defaults, and the places looked at are named.
rm -f "$T/home/.config/sorad/sorad.conf"
(cd "$T/empty" && "$S" -v list) >/dev/null 2>"$T/err" || true
grep -q "no configuration file (looked at .*$T/home/.config/sorad/sorad.conf" "$T/err" ||
	fail "the searched places are not named: $(cat "$T/err")"
# ...and submit does not make ./inbox where no daemon watches.
echo "A fox in the snow" >"$T/fox.txt"
(cd "$T/empty" && "$S" submit "$T/fox.txt") >"$T/out" 2>"$T/err" && fail "submit without configuration passed"
grep -q "no configuration file" "$T/err" || fail "submit's message: $(cat "$T/err")"
[ -z "$(ls -A "$T/empty")" ] || fail "submit created files: $(ls -A "$T/empty")"

# ---- bash completion ------------------------------------------------------------------
mkdir -p "$T/a/state" "$T/c"
touch "$T/c/fox.txt" "$T/c/fox.png" "$T/c/notes.md"
# complete WORDS...: the completions bash offers for the last word (cursor at its end).
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_sorad
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
PATH="$SORAD_BUILD_DIR:$PATH"
# shellcheck source=../../contrib/bash-completion/sorad
. "$SORAD_SOURCE_DIR/contrib/bash-completion/sorad"
[ "$(complete_words sorad li)" = "list " ] || fail "command word: '$(complete_words sorad li)'"
[ "$(complete_words sorad -c x.conf re)" = "reject remix resolve retry " ] || fail "command after -c: '$(complete_words sorad -c x.conf re)'"
[ "$(complete_words sorad list --state in)" = "in_doubt " ] || fail "--state values"
[ "$(complete_words sorad resolve --re)" = "--resubmit " ] || fail "resolve's options"
(cd "$T/c" && [ "$(complete_words sorad submit f)" = "fox.png fox.txt " ]) || fail "submit offers prompt files and images only"

# Job names come from `sorad list` with the same -c: a real daemon makes one job.
sim_start --gen-ms 100 --api-key "$SORAD_KEY"
sorad_conf
sorad_start
drop fox.txt "A fox in the snow"
wait_done fox
[ "$(complete_words sorad show -c "$T/sorad.conf" f)" = "fox " ] ||
	fail "job names: '$(complete_words sorad show -c "$T/sorad.conf" f)'"
sorad_stop
echo ok
