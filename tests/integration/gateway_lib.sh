# shellcheck shell=bash
# gateway_lib.sh — helpers for the gateway_*.sh tests, which run sorad with one of
# examples/gateways/*.conf against sora-sim made to look like that gateway (sourced
# after lib.sh and daemon_lib.sh, not run by ctest on its own).

# gateway_conf NAME API_BASE: $T/sorad.conf is examples/gateways/NAME.conf as shipped,
# with api_base pointed at API_BASE, its api_key_file written in $T (the file's
# directory, against which the relative name resolves), and the test's folders and
# fast polling from sorad_conf added.
gateway_conf() {
	local ex="$SORAD_SOURCE_DIR/examples/gateways/$1.conf" base=$2 keyfile
	[ -f "$ex" ] || fail "no example $ex"
	grep -q '^api_base = "' "$ex" || fail "$1.conf has no api_base line to point at the simulator"
	keyfile=$(sed -n 's/^api_key_file = "\([^"/$]*\)"$/\1/p' "$ex")
	[ -n "$keyfile" ] || fail "$1.conf: expected api_key_file with a name relative to the file"
	(umask 077 && printf '%s\n' "$SORAD_KEY" >"$T/$keyfile")

	sorad_conf
	grep -v '^api_base = ' "$T/sorad.conf" >"$T/test-lines.conf"
	{
		sed "s#^api_base = \".*\"#api_base = \"$base\"#" "$ex"
		echo "# ---- added by the test ----"
		cat "$T/test-lines.conf"
	} >"$T/sorad.conf"
	# shellcheck disable=SC2153 # set by lib.sh
	"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1 ||
		fail "check-config rejects the $1 example: $(cat "$T/check.out")"
}

# gateway_sorad_start: like sorad_start, but without OPENAI_API_KEY in the environment,
# so that the key can only come from the example's api_key_file.
gateway_sorad_start() {
	env -u OPENAI_API_KEY "$SORAD_BIN" -c "$T/sorad.conf" -f >>"$T/sorad.out" 2>&1 &
	SORAD_PID=$!
	_pids+=("$SORAD_PID")
	wait_for 20 "sorad to be ready (see $T/sorad.out)" _sorad_ready_after 0
}

# created_once PROMPT: the simulator created exactly one video for PROMPT.
created_once() {
	local n
	n=$(sim_stats | jq --arg p "$1" '.creates_by_prompt[$p] // 0')
	[ "$n" = 1 ] || fail "expected one video created for \"$1\", got $n"
}
