#!/usr/bin/env bash
# Issue 18, the crash-loop breaker: a file that makes sorad die while reading it was
# read again at every start, so under systemd one dropped file meant a permanent
# outage. Now each attempt to read a claim is counted in its claim directory before
# the file is read; a claim found unrecorded after INBOX_CRASHES_MAX (2) attempts goes
# to failed/ with "sorad stopped unexpectedly while reading this file" instead of
# being read again, and the daemon starts normally.
# The crash: an LD_PRELOAD library (tests/integration/preload/crash_on_read.c) that
# aborts sorad when it reads a claimed file named crashme*; sorad has no test hook.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

ulimit -c 0 # the aborts are expected: no core files
PRELOAD="$SORAD_BUILD_DIR/tests/crash_on_read.so"
[ -f "$PRELOAD" ] || fail "missing $PRELOAD (build the crash_on_read target)"
# A sanitized sorad checks that its runtime comes first; the library is not instrumented.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
SORAD_WRAP="env LD_PRELOAD=$PRELOAD SORAD_TEST_CRASH_ON_READ=crashme"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 19
sorad_conf
sorad_start

PROMPT='A fox that makes the reader fall over.'
drop crashme.txt "$PROMPT"

# sorad_dies: waits for the running sorad to exit; fails unless it was by SIGABRT.
sorad_dies() {
	wait_for 30 "sorad to stop (see $T/sorad.out)" _sorad_gone
	local rc=0
	wait "$SORAD_PID" || rc=$?
	[ "$rc" = 134 ] || fail "sorad exited with $rc, expected the abort (134): $(tail -3 "$T/sorad.out")"
}
# sorad_start_raw: starts sorad under the wrapper without waiting for it to be ready
# (it dies before that when a start reads the claim again).
sorad_start_raw() {
	# shellcheck disable=SC2086 # the wrapper is a command line, split into words
	OPENAI_API_KEY=$SORAD_KEY $SORAD_WRAP "$SORAD_BIN" -c "$T/sorad.conf" -f >>"$T/sorad.out" 2>&1 &
	SORAD_PID=$!
	_pids+=("$SORAD_PID")
}
_sorad_gone() {
	! kill -0 "$SORAD_PID" 2>/dev/null
}

# Crash 1: while the new claim is read.
sorad_dies
claim=$(ls -d "$T"/state/inputs/[0-9]*)
[ -f "$claim/crashme.txt" ] || fail "the claimed file is not in its claim directory"
# The first attempt's counter is a link to state/inputs/.reading-1 ("1"): no inode each.
[ "$(cat "$claim/.reading")" = 1 ] || fail "the first attempt's counter: $(cat "$claim/.reading")"
[ "$(stat -c %i "$claim/.reading")" = "$(stat -c %i "$T/state/inputs/.reading-1")" ] ||
	fail "the first attempt's counter is not a link to state/inputs/.reading-1"

# Crash 2: the start reads the interrupted claim again (it is not ready by then).
sorad_start_raw
sorad_dies

# Start 3: the claim is not read again; it fails with the reason, and the daemon runs
# normally (with the crashing library still loaded).
sorad_start
wait_failed crashme 30
err="$T/outbox/failed/crashme.error.txt"
grep -qF "sorad stopped unexpectedly while reading this file (2 times)" "$err" ||
	fail "crashme.error.txt does not say why: $(cat "$err")"
[ "$(cat "$T/outbox/failed/crashme.txt")" = "$PROMPT" ] || fail "failed/crashme.txt is not the dropped file"
[ "$(sim_created_count "$PROMPT")" = 0 ] || fail "the crashing file was submitted"
drop after.txt 'A fox that reads fine, after the crashes.'
wait_done after 60
kill -0 "$SORAD_PID" || fail "sorad died"
[ ! -d "$claim" ] || wait_for 10 "the failed claim's directory to go" test ! -d "$claim"

# A normal restart does not bring it back.
sorad_stop
sorad_start
drop after2.txt 'Another fox after the restart.'
wait_done after2 60
[ ! -e "$T/outbox/failed/crashme-2.error.txt" ] || fail "the crashing claim was processed again"
sorad_stop

# Money first: when a record could not be read back (STATE/corrupt/), a lost job may
# have sent a create, and a crashing claim cannot be read to tell whose it was, so it
# is not failed on a guess: it stays unread in STATE/inputs, with an error in the log,
# and the daemon still starts.
echo '{"name": "lost", "state": "submitting", "prompt": ' >"$T/state/jobs/lost.json"
PROMPT2='Another fox that makes the reader fall over.'
drop crashme-too.txt "$PROMPT2"
sorad_start_raw # claims it (the file arrived while sorad was down) and dies
sorad_dies
sorad_start_raw # reads it again at start and dies
sorad_dies
sorad_start
grep -qF "stopped unexpectedly 2 times while reading crashme-too.txt" "$T/sorad.out" ||
	fail "the kept claim is not reported"
grep -F "crashme-too.txt" "$T/sorad.out" | grep -qF "kept unread" || fail "the claim was not kept"
[ ! -e "$T/outbox/failed/crashme-too.error.txt" ] || fail "a claim that may have spent money was failed"
ls "$T"/state/inputs/[0-9]*/crashme-too.txt >/dev/null 2>&1 || fail "the kept claim's file is gone"
drop after3.txt 'A fox after the kept claim.'
wait_done after3 60
echo "ok: two crashes while reading a file, then it went to failed/ and sorad ran on"
sorad_stop
