#!/usr/bin/env bash
# Crash safety: 36 jobs flow while the daemon is SIGKILLed 30 times at random instants
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

for i in $(seq 1 "$JOBS"); do
	drop "job$i.txt" "Crash test prompt number $i: a lighthouse in a storm, wide shot."
done

RANDOM=4242 # a reproducible sequence of kill instants
for _ in $(seq 1 "$KILLS"); do
	# A random instant in the next 0–600 ms: this sleep picks when to crash, it does
	# not wait for anything.
	sleep "0.$(printf '%03d' $((RANDOM % 600)))"
	kill -KILL "$SORAD_PID"
	wait "$SORAD_PID" 2>/dev/null || true
	check_outbox_sets
	sorad_start
done

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
reconciled=$(grep -c 'reconciled: the lost create had made this video' "$T"/logs/*.log || true)
# The kills must have hit jobs in flight, not an idle daemon.
mid=$(grep -c 'job(s) loaded, [1-9][0-9]* to resume' "$T/sorad.out" || true)
[ "$mid" -ge 15 ] || fail "only $mid of $KILLS restarts found unfinished jobs"
echo "ok: $KILLS kills ($mid with jobs in flight), $JOBS jobs, $reconciled lost creates reconciled"
sorad_stop
