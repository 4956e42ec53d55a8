#!/usr/bin/env bash
# `sorad watch NAME` right after the daemon claimed NAME's file but before the job's
# record is on disk: the file has left the inbox and STATE/jobs/NAME.json does not
# exist yet. watch must ask the daemon (which knows the job from the claim on) and keep
# following it, not say "no job named NAME" and exit 66 (seen in CI, cli_live, on a
# loaded machine: the commit of the first record was a moment late).
# The late commit: crash_on_read.so holds the rename of jobs/late.json until the test
# has seen watch's line, then lets it go.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

PRELOAD="$SORAD_BUILD_DIR/tests/crash_on_read.so"
[ -f "$PRELOAD" ] || fail "missing $PRELOAD (build the crash_on_read target)"
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 31
sorad_conf
SORAD_WRAP="env LD_PRELOAD=$PRELOAD SORAD_TEST_HOLD_RENAME=/jobs/late.json SORAD_TEST_HOLD_UNTIL=$T/let-go ${SORAD_WRAP:-}"
sorad_start
C=(-c "$T/sorad.conf")
# a failure while the rename is held lets it go first: sorad then stops at once
let_go_fail() {
	touch "$T/let-go"
	fail "$@"
}

drop late.txt 'This one fails, late on disk [sim:fail]'
gone() { [ ! -e "$T/inbox/late.txt" ]; }
wait_for 30 "late.txt to be claimed" gone
[ ! -e "$T/state/jobs/late.json" ] || let_go_fail "the record is on disk although its rename is held"

timeout 60 "$SORAD_BIN" watch "${C[@]}" late >"$T/watch.txt" 2>&1 &
watch_pid=$!
_pids+=("$watch_pid")
said() { grep -q "^late  claimed, being recorded" "$T/watch.txt"; }
running() { kill -0 "$watch_pid" 2>/dev/null; }
ended() { ! running; }
# watch either says what it sees or (the bug) ends at once: wait for one of the two
seen() { said || ended; }
wait_for 30 "watch to say something" seen
said || let_go_fail "watch of a job claimed but not yet recorded: $(cat "$T/watch.txt")"
running || let_go_fail "watch ended while the job is in flight: $(cat "$T/watch.txt")"

touch "$T/let-go"
wait_for 60 "watch to follow late to its end" ended
rc=0
wait "$watch_pid" || rc=$?
[ "$rc" = 65 ] || fail "watch of the failed job exited $rc: $(cat "$T/watch.txt")"
tail -1 "$T/watch.txt" | grep -q "^late  failed" || fail "watch's last line: $(cat "$T/watch.txt")"
sorad_stop
echo ok
