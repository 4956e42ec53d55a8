#!/usr/bin/env bash
# Never pay twice: a running job's record replaced by garbage, or cut short, while the
# daemon is down. Its claim is not processed again as new work (before: the prompt was
# created a second time, and one line of a batch silently vanished): the job comes back
# in doubt with its input kept, the other lines of the batch finish, and the claim stays
# until the lost job is decided.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 4000 --api-key "$SORAD_KEY" --seed 6
sorad_conf "max_in_flight = 8"
sorad_start
drop single.txt "A moth circling a porch lamp, slow motion."
drop batch.jsonl '{"prompt": "Batch line one: a red door in a white wall."}
{"prompt": "Batch line two: a blue door in a white wall."}
{"prompt": "Batch line three: a green door in a white wall."}'
wait_state single running 30
wait_state batch-2 running 30
kill -KILL "$SORAD_PID"
wait "$SORAD_PID" 2>/dev/null || true

printf '\x00\x01garbage{{{' >"$T/state/jobs/single.json"
head -c 40 "$T/state/jobs/batch-2.json" >"$T/state/jobs/batch-2.json.cut"
mv "$T/state/jobs/batch-2.json.cut" "$T/state/jobs/batch-2.json"

sorad_start
wait_done batch-1 60
wait_done batch-3 60
wait_state single in_doubt 10
wait_state batch-2 in_doubt 10
expect_doubt single "record in the state directory could not be read"
expect_doubt batch-2 "could not be read"
ls "$T"/state/corrupt/single.json.* >/dev/null || fail "the unreadable record was not kept aside"
for p in "A moth circling a porch lamp, slow motion." \
	"Batch line one: a red door in a white wall." \
	"Batch line two: a blue door in a white wall." \
	"Batch line three: a green door in a white wall."; do
	expect_creates "$p" 1
done
# The batch's claim (its input) stays while batch-2 waits.
claim=$(job_field batch-2 .source | cut -d/ -f1)
[ -f "$T/state/inputs/$claim/batch.jsonl" ] || fail "the batch's input was released with a job undecided"

# The user adopts the moth's video (found by its prompt) and drops batch-2.
id=$(curl -fsS -H "Authorization: Bearer $SORAD_KEY" "$SIM_URL/v1/videos?limit=100" |
	jq -r '.data[] | select(.prompt == "A moth circling a porch lamp, slow motion.") | .id')
resolve single --adopt "$id" >"$T/resolve.out" || fail "resolve --adopt: $(cat "$T/resolve.out")"
resolve batch-2 --drop >"$T/resolve.out" || fail "resolve --drop: $(cat "$T/resolve.out")"
wait_done single 60
wait_failed batch-2 30
grep -q "Batch line two" "$T/outbox/failed/batch-2.jsonl" ||
	fail "failed/ does not hold the dropped line: $(ls "$T/outbox/failed")"
[ "$(grep -c . "$T/outbox/failed/batch-2.jsonl")" = 1 ] || fail "failed/batch-2.jsonl is not that line alone"
wait_for 10 "the batch's claim to be released" test ! -e "$T/state/inputs/$claim"
[ "$(sim_total_creates)" = 4 ] || fail "the simulator made $(sim_total_creates) videos for 4 prompts"
# A restart brings nothing back (the unreadable records stay in corrupt/).
sorad_stop
sorad_start
for n in single batch-1 batch-3; do
	[ "$(job_field $n .state)" = "done" ] || fail "$n is $(job_field $n .state) after a restart"
done
[ "$(job_field batch-2 .state)" = failed ] || fail "batch-2 is $(job_field batch-2 .state) after a restart"
[ "$(sim_total_creates)" = 4 ] || fail "a restart created again"
sorad_stop
echo "ok: 2 unreadable records came back in doubt, nothing created twice, no line lost"
