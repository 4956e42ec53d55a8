#!/usr/bin/env bash
# Issue 18, item 1: a .jsonl one job over the batch limit (PROMPT_BATCH_MAX, 10,000
# lines) killed the daemon with SIGSEGV (a spec past the limit had no model), and every
# restart redid the claim and crashed again. Now the file is refused whole with a reason
# naming the limit and the first line beyond it, the file is kept intact in failed/,
# nothing is submitted, every record made has its model, size and seconds, the daemon
# goes on working, and a restart starts normally.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

LIMIT=10000
sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 18
sorad_conf
sorad_start

alive() {
	kill -0 "$SORAD_PID" 2>/dev/null ||
		fail "sorad died: $(tail -5 "$T/sorad.out")"
}
# failed_or_dead NAME: outbox/failed/NAME.error.txt exists; fails at once if sorad died.
failed_or_dead() {
	alive
	test -f "$T/outbox/failed/$1.error.txt"
}

seq 1 $((LIMIT + 1)) | awk '{ printf "{\"prompt\": \"Batch limit fox number %d\"}\n", $1 }' \
	>"$T/big.jsonl"
cp "$T/big.jsonl" "$T/inbox/.big.jsonl.tmp"
mv "$T/inbox/.big.jsonl.tmp" "$T/inbox/big.jsonl"
wait_for 60 "failed/big.error.txt (see $T/sorad.out)" failed_or_dead big
alive

err="$T/outbox/failed/big.error.txt"
grep -qF "goes on past line $LIMIT" "$err" || fail "the reason does not name the limit: $(cat "$err")"
grep -qF "line $((LIMIT + 1)) is the first beyond it" "$err" ||
	fail "the reason does not name the first line beyond the limit: $(cat "$err")"
grep -qF "none of its jobs was submitted" "$err" || fail "the reason does not say nothing ran: $(cat "$err")"
# Nothing is lost: the whole file is in failed/ as it was dropped.
cmp -s "$T/big.jsonl" "$T/outbox/failed/big.jsonl" || fail "failed/big.jsonl is not the dropped file"
# Nothing is spent: no create reached the service.
[ "$(sim_stats | jq '.creates_by_prompt | length')" = 0 ] || fail "a job of the refused batch was created"
# Nothing became a job without its defaults: the one record (failed/ is written as
# soon as the error is durable, the final state a commit later) has them.
record_failed() {
	jq -e '.state == "failed"' "$T/state/jobs/big.json"
}
wait_for 30 "the refused batch's record to say failed" record_failed
[ "$(find "$T/state/jobs" -name '*.json' ! -name '.*' | wc -l)" = 1 ] ||
	fail "expected one record for the refused batch: $(ls "$T/state/jobs")"
jq -e '(.model | type == "string" and length > 0) and (.size | type == "string" and length > 0)
	and .seconds > 0' "$T/state/jobs/big.json" >/dev/null ||
	fail "the refused batch's record lacks its defaults: $(cat "$T/state/jobs/big.json")"

# The daemon goes on working.
drop after.txt 'A small fox after the big batch.'
wait_done after 60

# A restart starts normally (before the fix, every start redid the claim and crashed).
sorad_stop
sorad_start
alive
drop again.txt 'Another small fox after the restart.'
wait_done again 60
alive
[ ! -e "$T/outbox/failed/big-2.error.txt" ] || fail "the refused batch was processed again"
echo "ok: a batch of $((LIMIT + 1)) jobs refused whole, the daemon stayed up and restarts"
sorad_stop
