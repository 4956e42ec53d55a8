#!/usr/bin/env bash
# A SIGTERM while sorad reads a long history at start stops it there: exit 0 at once,
# nothing started (no ready line, no claim), not minutes later once every record is
# read (a 1,000,000-job state directory took 635 s to load and ignored SIGTERM for all
# of it). The moment: crash_on_read.so holds the first read of a record until the
# test has sent the signal, so the signal is pending while the load goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

PRELOAD="$SORAD_BUILD_DIR/tests/crash_on_read.so"
[ -f "$PRELOAD" ] || fail "missing $PRELOAD (build the crash_on_read target)"
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
N=3000

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 47
sorad_conf
python3 "$SORAD_SOURCE_DIR/bench/tools/make_history.py" "$T/state" "$N" >/dev/null ||
	fail "make_history.py"
drop fox.txt 'A fox waiting for a daemon that never starts.'

# shellcheck disable=SC2086 # the wrapper is a command line, split into words
OPENAI_API_KEY=$SORAD_KEY env LD_PRELOAD="$PRELOAD" SORAD_TEST_HOLD_READ=/state/jobs/ \
	SORAD_TEST_HOLD_UNTIL="$T/let-go" ${SORAD_WRAP:-} "$SORAD_BIN" -c "$T/sorad.conf" -f \
	>>"$T/sorad.out" 2>&1 &
sorad_pid=$!
_pids+=("$sorad_pid")
reached() {
	kill -0 "$sorad_pid" 2>/dev/null || fail "sorad exited: $(tail -5 "$T/sorad.out")"
	[ -e "$T/let-go.reached" ]
}
wait_for 30 "sorad to read its first record" reached
kill -TERM "$sorad_pid"
touch "$T/let-go"
gone() { ! kill -0 "$sorad_pid" 2>/dev/null; }
wait_for 60 "sorad to stop" gone
rc=0
wait "$sorad_pid" || rc=$?
[ "$rc" = 0 ] || fail "sorad exited $rc after a SIGTERM during the load: $(tail -5 "$T/sorad.out")"
grep -q 'stopping: a SIGTERM or SIGINT came during the start' "$T/sorad.out" ||
	fail "the stop during the load was not said: $(tail -5 "$T/sorad.out")"
n=$(sed -n 's/.*state: the load was stopped after \([0-9]*\) record(s).*/\1/p' "$T/sorad.out")
[ -n "$n" ] && [ "$n" -lt "$N" ] || fail "the load went on to the end ($n of $N records)"
grep -q ' ready: ' "$T/sorad.out" && fail "sorad got ready after the SIGTERM"
[ -f "$T/inbox/fox.txt" ] || fail "fox.txt was claimed by a daemon told to stop"
[ "$(find "$T/state/jobs" -name '*.json' | wc -l)" = "$N" ] || fail "records changed"

# The next start loads everything and runs as usual.
sorad_start
wait_done fox
sorad_stop
echo ok
