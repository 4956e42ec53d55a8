# shellcheck shell=bash
# api_client.sh — the Videos API client (src/api.c) against sora-sim: the full
# create → poll → download → remix → list → delete flow, then the retry policy under
# injected faults (5xx, 429, resets, truncated bodies) and local failures. Each mode
# runs build/tests/api_client against its own simulator; the API key must never
# appear in any output or log.
. "$(dirname "$0")/lib.sh"

PROG="$TEST_BIN_DIR/api_client"
[ -x "$PROG" ] || fail "missing $PROG (build the api_client target)"
command -v ffmpeg >/dev/null || fail "ffmpeg is needed to make the reference image"

KEY="sk-apitest-$RANDOM$RANDOM-secret"
export SIM_KEY="$KEY" TEST_DIR="$T"
ffmpeg -v error -f lavfi -i "color=c=navy:s=1280x720" -frames:v 1 "$T/ref.png" ||
	fail "ffmpeg could not make the reference image"
export REF_IMAGE="$T/ref.png"

# API_CLIENT_WRAP (e.g. "valgrind --leak-check=full --error-exitcode=1") runs the test
# program under a tool.
# run_mode MODE SIM-OPTIONS...: a fresh simulator per mode, output kept for the grep.
run_mode() {
	local m=$1
	shift
	sim_start --api-key "$KEY" --seed 7 "$@"
	mkdir -p "$T/log-$m"
	if ! TEST_LOG_DIR="$T/log-$m" ${API_CLIENT_WRAP:-} "$PROG" "$m" >"$T/out-$m.txt" 2>&1; then
		cat "$T/out-$m.txt" >&2
		fail "api_client $m failed (sim log: $T/sim.log)"
	fi
	grep -v ' DEBUG ' "$T/out-$m.txt" | grep -v '^20..-' || true
	kill "$SIM_PID" 2>/dev/null || true
	wait "$SIM_PID" 2>/dev/null || true
}

run_mode flow --gen-ms 1200 --poll-after-ms 200
run_mode 5xx --p5xx 1
run_mode 429 --p429 1
run_mode reset --preset 1
run_mode truncate --ptruncate 0.5 --gen-ms 600 --poll-after-ms 100
run_mode local --gen-ms 500 --poll-after-ms 100

# The key must never be written anywhere: outputs, the client's logs.
if grep -rlF -- "$KEY" "$T"/out-*.txt "$T"/log-*; then
	fail "the API key appeared in the files above"
fi
echo "api_client: all modes passed; the key appears in no output or log"
