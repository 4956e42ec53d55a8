#!/usr/bin/env bash
# Crash safety: 36 jobs flow while the daemon is SIGKILLed 30 times at random instants,
# each while prompts are in flight
# (and the simulator drops or cuts responses, so some creates lose their answer).
# Afterwards every prompt has exactly one complete output set, the simulator created
# each prompt exactly once, and no partial file ever appeared in the outbox.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

KILLS=${KILLS:-30}
JOBS=${JOBS:-36}
sim_start --gen-ms 1500 --api-key "$SORAD_KEY" --seed 11 --preset 0.08 --ptruncate 0.05 --p5xx 0.05
sorad_conf "max_in_flight = 8"
sorad_start

dropped=0
# drop_more N: the next N prompts, while any remain.
drop_more() {
	for _ in $(seq 1 "$1"); do
		[ "$dropped" -lt "$JOBS" ] || return 0
		dropped=$((dropped + 1))
		drop "job$dropped.txt" "Crash test prompt number $dropped: a lighthouse in a storm, wide shot."
	done
}
inbox_claimed() {
	[ -z "$(find "$T/inbox" -maxdepth 1 -name 'job*.txt' -print -quit)" ]
}

drop_more 6
RANDOM=4242 # a reproducible sequence of kill instants
for _ in $(seq 1 "$KILLS"); do
	# Every kill must hit work in flight, on a fast machine as on a loaded one (where
	# the jobs would otherwise all finish during the slow restarts): when every prompt
	# dropped so far has its set, two more are dropped and claimed before the kill.
	if [ "$(find "$T/outbox" -maxdepth 1 -name '*.json' | wc -l)" -ge "$dropped" ]; then
		drop_more 2
	fi
	wait_for 60 "sorad to claim the prompts dropped so far" inbox_claimed
	# A random instant in the next 0–600 ms: this sleep picks when to crash, it does
	# not wait for anything.
	sleep "0.$(printf '%03d' $((RANDOM % 600)))"
	kill -KILL "$SORAD_PID"
	wait "$SORAD_PID" 2>/dev/null || true
	check_outbox_sets
	sorad_start
done
drop_more "$JOBS" # the rest, if the kills did not need them

for i in $(seq 1 "$JOBS"); do
	wait_done "job$i" 120
done
check_outbox_sets
for i in $(seq 1 "$JOBS"); do
	n=$(sim_created_count "Crash test prompt number $i: a lighthouse in a storm, wide shot.")
	[ "$n" = 1 ] || fail "prompt $i was created $n times"
done
# Each job has exactly one output set and nothing failed.
[ "$(ls "$T"/outbox/*.json | wc -l)" = "$JOBS" ] || fail "expected $JOBS output sets: $(ls "$T/outbox")"
[ ! -d "$T/outbox/failed" ] || [ -z "$(ls -A "$T/outbox/failed")" ] ||
	fail "jobs failed: $(ls "$T/outbox/failed")"
check_set job1 1280x720 4
check_set "job$JOBS" 1280x720 4
reconciled=$(cat "$T"/logs/*.log | grep -c 'reconciled: the lost create had made this video' || true)
# The kills must have hit jobs in flight, not an idle daemon.
mid=$(grep -c 'job(s) loaded, [1-9][0-9]* to resume' "$T/sorad.out" || true)
[ "$mid" -ge 15 ] || fail "only $mid of $KILLS restarts found unfinished jobs"
echo "ok: $KILLS kills ($mid with jobs in flight), $JOBS jobs, $reconciled lost creates reconciled"
sorad_stop
