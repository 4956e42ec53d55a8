# lib.sh — shared helpers for integration tests (sourced, not run).
# Every test gets its own temporary directory, starts real processes on loopback,
# waits on files or endpoints with a deadline (never a bare sleep), and cleans up.
set -euo pipefail

: "${SORAD_BUILD_DIR:?run through ctest (SORAD_BUILD_DIR unset)}"
: "${SORAD_SOURCE_DIR:?run through ctest (SORAD_SOURCE_DIR unset)}"
SIM_BIN="$SORAD_BUILD_DIR/sora-sim"
SORAD_BIN="$SORAD_BUILD_DIR/sorad"
TEST_BIN_DIR="$SORAD_BUILD_DIR/tests"

T=$(mktemp -d "${TMPDIR:-/tmp}/sorad-test.XXXXXX")
_pids=()

_cleanup() {
	local p
	for p in "${_pids[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# wait_for DEADLINE_SECONDS DESCRIPTION COMMAND...: runs COMMAND until it succeeds,
# polling every 20 ms, failing the test with DESCRIPTION after the deadline.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -gt "$deadline" ]; then
			fail "timed out waiting for: $what"
		fi
		sleep 0.02
	done
}

# sim_start [sora-sim options...]: starts sora-sim on a free loopback port and sets
# SIM_URL (e.g. http://127.0.0.1:40123) and SIM_PID. Logs go to $T/sim.log.
sim_start() {
	local pf="$T/sim.port.$RANDOM"
	"$SIM_BIN" --listen 127.0.0.1:0 --port-file "$pf" "$@" >>"$T/sim.log" 2>&1 &
	SIM_PID=$!
	_pids+=("$SIM_PID")
	wait_for 20 "sora-sim to listen (see $T/sim.log)" test -s "$pf"
	SIM_URL="http://127.0.0.1:$(cat "$pf")"
	export SIM_URL SIM_PID
}

# sim_stats: prints sora-sim's /__sim/stats JSON.
sim_stats() {
	curl -fsS "$SIM_URL/__sim/stats"
}
