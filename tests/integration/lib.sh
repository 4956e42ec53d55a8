# shellcheck shell=bash
# lib.sh — shared helpers for integration tests (sourced, not run).
# Every test gets its own temporary directory, starts real processes on loopback,
# waits on files or endpoints with a deadline (never a bare sleep), and cleans up.
set -euo pipefail

: "${SORAD_BUILD_DIR:?run through ctest (SORAD_BUILD_DIR unset)}"
: "${SORAD_SOURCE_DIR:?run through ctest (SORAD_SOURCE_DIR unset)}"
SIM_BIN="$SORAD_BUILD_DIR/sora-sim"
# shellcheck disable=SC2034 # used by the tests that source this file
SORAD_BIN="$SORAD_BUILD_DIR/sorad"
# shellcheck disable=SC2034
TEST_BIN_DIR="$SORAD_BUILD_DIR/tests"

T=$(mktemp -d "${TMPDIR:-/tmp}/sorad-test.XXXXXX")
_pids=()

_cleanup() {
	local rc=$? p running
	# Only processes still running as jobs of this shell are killed: a pid that was
	# already waited for (say a sim killed mid-test) may by now belong to a process
	# of another test running in parallel.
	running=" $(jobs -pr | tr '\n' ' ') "
	for p in "${_pids[@]:-}"; do
		[ -n "$p" ] && [[ $running == *" $p "* ]] && kill "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "${KEEP_FAILED:-0}" = 1 ]; }; then
		echo "kept $T" >&2
	elif [ -n "${TRASH_DIR:-}" ] && mv "$T" "$TRASH_DIR/" 2>/dev/null; then
		: # deleted later, by whoever set TRASH_DIR (bench/run-all.sh)
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
# polling every WAIT_POLL_S seconds (default 0.02), failing the test with DESCRIPTION
# after the deadline.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -gt "$deadline" ]; then
			fail "timed out waiting for: $what"
		fi
		sleep "${WAIT_POLL_S:-0.02}"
	done
}

# sim_start [sora-sim options...]: starts sora-sim on a free loopback port and sets
# SIM_URL (e.g. http://127.0.0.1:40123) and SIM_PID. Logs go to $T/sim.log.
sim_start() {
	# A file of its own, made now: a name from $RANDOM was once one an earlier sim of
	# the same test had written, and the test then talked to that sim (its faults).
	local pf
	pf=$(mktemp "$T/sim.port.XXXXXX")
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

# --- sora-sim API helpers (used by the sim_*.sh tests) ---------------------------

SIM_KEY=${SIM_KEY:-sk-test}

# http_req METHOD URL [curl args...]: one request. Prints the HTTP status; the body
# lands in $T/body (or the file of a "-o FILE" among the arguments) and the headers in
# $T/headers.
http_req() {
	local method=$1 url=$2 out="$T/body" args=()
	shift 2
	while [ $# -gt 0 ]; do
		if [ "$1" = -o ]; then
			out=$2
			shift 2
		else
			args+=("$1")
			shift
		fi
	done
	curl -sS -X "$method" -o "$out" -D "$T/headers" -w '%{http_code}' "${args[@]}" "$url"
}

# sim_req METHOD PATH [curl args...]: http_req to sora-sim with the bearer key.
sim_req() {
	local method=$1 path=$2
	shift 2
	http_req "$method" "$SIM_URL$path" -H "Authorization: Bearer $SIM_KEY" "$@"
}

# body_get JQ_FILTER: applies a jq filter to the last response body ($T/body).
body_get() {
	jq -r "$1" "$T/body"
}

# header_get NAME: the value of a header of the last response (case-insensitive).
header_get() {
	awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
		'{ k = tolower($1) } k == n { sub(/\r$/, "", $2); print $2; exit }' "$T/headers"
}

# expect_eq WHAT EXPECTED ACTUAL: fails the test unless EXPECTED = ACTUAL.
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3' (body: $(head -c 600 "$T/body" 2>/dev/null))"
}

# expect_error STATUS ACTUAL_STATUS TYPE PARAM CODE: checks that the last response is
# the API's error {"error":{message,type,param,code}} with these values (param/code
# "null" for JSON null).
expect_error() {
	expect_eq "HTTP status" "$1" "$2"
	expect_eq "error.type" "$3" "$(body_get .error.type)"
	expect_eq "error.param" "$4" "$(body_get .error.param)"
	expect_eq "error.code" "$5" "$(body_get .error.code)"
	[ -n "$(body_get .error.message)" ] || fail "error.message is empty"
}

# sim_create PROMPT [curl args...]: creates a video (multipart) and prints its id.
sim_create() {
	local prompt=$1 code
	shift
	code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" "$@")
	expect_eq "create '$prompt'" 200 "$code"
	body_get .id
}

# sim_status_is ID STATUS: succeeds when the video has that status (for wait_for).
sim_status_is() {
	[ "$(curl -sS -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos/$1" | jq -r .status)" = "$2" ]
}

# sim_wait_completed ID...: waits (30 s deadline) until every video is completed.
sim_wait_completed() {
	local id
	for id in "$@"; do
		wait_for 30 "video $id to complete" sim_status_is "$id" completed
	done
}

# sim_created_count PROMPT: how many videos sora-sim created with this prompt.
sim_created_count() {
	sim_stats | jq -r --arg p "$1" '.creates_by_prompt[$p] // 0'
}
