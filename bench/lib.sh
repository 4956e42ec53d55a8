# shellcheck shell=bash
# bench/lib.sh — helpers for the benchmarks (sourced, not run). Builds on the
# integration tests' helpers (tests/integration/lib.sh: a temp dir $T cleaned up at
# exit, sim_start, wait_for; daemon_lib.sh: drop) and adds what only benchmarks need:
# a daemon configuration with the product's defaults, /proc readings, and the
# marked sections of bench/RESULTS.md.
#
# Environment: BUILD_DIR (default build), KEEP_TMP=1 keeps the temp dir.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SORAD_SOURCE_DIR=$ROOT
SORAD_BUILD_DIR=$(cd "$ROOT" && cd "${BUILD_DIR:-build}" && pwd)
export SORAD_SOURCE_DIR SORAD_BUILD_DIR
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=tests/integration/daemon_lib.sh
. "$ROOT/tests/integration/daemon_lib.sh"
if [ ! -x "$SIM_BIN" ] || [ ! -x "$SORAD_BIN" ]; then
	fail "build sorad and sora-sim first (cmake --build ${BUILD_DIR:-build})"
fi
RESULTS=$ROOT/bench/RESULTS.md
# shellcheck source=bench/results.sh
. "$BENCH_DIR/results.sh"
CLK_TCK=$(getconf CLK_TCK)

# done_count OUTBOX: complete output sets (NAME.json) in OUTBOX.
done_count() {
	find "$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l
}
# all_done OUTBOX [COUNT]: OUTBOX holds COUNT sets at least (default: $count).
all_done() {
	[ "$(done_count "$1")" -ge "${2:-$count}" ]
}
# last_json_s OUTBOX: the mtime (s, ns precision) of the newest NAME.json.
last_json_s() {
	find "$1" -maxdepth 1 -name '*.json' -printf '%T@\n' | sort -n | tail -1
}

# bench_conf [LINES...]: $T/sorad.conf for a daemon in $T talking to $SIM_URL with the
# product's defaults (settle 500 ms, polling 2 s doubling to 10 s), no status
# endpoint, no notifications; each argument is one more line (later lines win).
bench_conf() {
	mkdir -p "$T/inbox"
	{
		echo "api_base = \"$SIM_URL/v1\""
		echo "inbox = \"$T/inbox\""
		echo "outbox = \"$T/outbox\""
		echo "state_dir = \"$T/state\""
		echo "log_dir = \"$T/logs\""
		echo "listen = \"\""
		echo "notify = false"
		echo "log_level = \"${BENCH_LOG_LEVEL:-info}\""
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$T/sorad.conf"
}

# proc_kib PID FIELD: a /proc/PID/status field in KiB (VmHWM, VmRSS).
proc_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# cpu_ticks PID: user + system CPU time of PID in clock ticks (/proc/PID/stat).
cpu_ticks() {
	# Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# ticks_s TICKS: clock ticks as seconds.
ticks_s() {
	awk -v t="$1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }'
}

loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}

now_ns() {
	date +%s%N
}

# sim_calls ENDPOINT: requests sora-sim answered 2xx on ENDPOINT ("GET /v1/videos/{id}").
sim_calls() {
	sim_stats | jq --arg e "$1" '[.requests[$e] // {} | to_entries[] |
		select(.key | startswith("2")) | .value] | add // 0'
}

# sim_calls_total: every request to /v1 (all endpoints, all outcomes).
sim_calls_total() {
	sim_stats | jq '[.requests[] | to_entries[] | .value] | add // 0'
}

# ratio A B: A/B with two decimals ("-" when B is 0 or empty).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# verdict OK: "meets" or "MISSES" from an awk condition on the arguments after it.
# Usage: verdict 'a <= b' a=1 b=2
verdict() {
	local cond=$1
	shift
	local vars=() kv
	for kv in "$@"; do
		vars+=(-v "$kv")
	done
	awk "${vars[@]}" "BEGIN { print ($cond) ? \"meets\" : \"MISSES\" }"
}

# results_header TITLE COMMAND: the common first lines of a section: title, date,
# machine, load average, and the exact command.
results_header() {
	printf '## %s\n\nRecorded on %s, %s CPUs (%s), load average at the start: %s.\n\n    %s\n' \
		"$1" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(uname -sr)" "$BENCH_LOAD" "$2"
}
BENCH_LOAD=$(loadavg)

# bench_cmd: the command line that ran this benchmark, for RESULTS.md.
bench_cmd() {
	local env=""
	local v
	for v in "$@"; do
		[ -n "${!v:-}" ] && env+="$v=${!v} "
	done
	echo "${env}bench/$(basename "$0")"
}
