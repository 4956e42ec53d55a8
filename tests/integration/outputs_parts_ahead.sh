#!/usr/bin/env bash
# A video's .part files are made while it is generated (jr_prepare_parts), so that its
# downloads start as soon as it is seen completed, one commit sooner: the three hidden
# parts are in the outbox, empty, while the job is running; the set then completes
# from them. A job that fails at the service leaves none behind, nor does one
# cancelled while running, nor one whose failure a restart finishes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

# 20 s of generation: a wide window to see the parts made ahead, even on a busy machine.
sim_start --gen-ms 20000 --api-key "$SORAD_KEY" --seed 23
sorad_conf
sorad_start

# parts NAME: the .part files of job NAME in the outbox, as "NAME.SUFFIX.part SIZE ...".
parts() {
	find "$T/outbox" -maxdepth 1 -name ".$1.*part" -printf '%f %s\n' | sort | tr '\n' ' '
}
three_parts() { [ "$(parts "$1" | wc -w)" = 6 ]; }

drop ahead.txt 'A paper boat drifting down a gutter after the rain.'
drop doomed.txt 'A vase that never gets made [sim:fail]'
drop stopped.txt 'A lighthouse keeper winding the clock.'
for j in ahead doomed stopped; do
	wait_state $j running 30
	wait_for 10 "$j's parts while it is generated (now: $(parts $j))" three_parts $j
done
for j in ahead doomed stopped; do
	[ "$(job_field $j .state)" = running ] || fail "$j is $(job_field $j .state) already: its parts were not made ahead"
done
for f in $(parts ahead); do
	case $f in
	.ahead.*) ;;
	*) [ "$f" = 0 ] || fail "a part made ahead is not empty: $(parts ahead)" ;;
	esac
done

# Cancelled while running: its parts go with it.
"$SORAD_BIN" cancel -c "$T/sorad.conf" stopped >"$T/out" 2>&1 || fail "cancel: $(cat "$T/out")"
wait_failed stopped
[ -z "$(parts stopped)" ] || fail "a cancelled job's parts are left: $(parts stopped)"

# Completed: the set is made from them; failed at the service: they go.
wait_done ahead
check_set ahead 1280x720 4
[ -z "$(parts ahead)" ] || fail "parts left after the set: $(parts ahead)"
wait_failed doomed
[ -z "$(parts doomed)" ] || fail "a failed job's parts are left: $(parts doomed)"

# A failure recorded before a stop (or a crash) and finished at the next start: the
# parts made ahead go then too. The record says running, with the error already set,
# as a crash right after the error became durable leaves it.
drop later.txt 'A kettle coming to the boil.'
wait_state later running 30
wait_for 10 "later's parts (now: $(parts later))" three_parts later
sorad_stop
[ "$(parts later | wc -w)" = 6 ] || fail "a clean stop removed the parts of a job in flight: $(parts later)"
jq '.error = "The service said this video failed." | .error_code = "failed"' \
	"$T/state/jobs/later.json" >"$T/later.json" && mv "$T/later.json" "$T/state/jobs/later.json"
sorad_start
wait_failed later
[ -z "$(parts later)" ] || fail "a failure finished at start left its parts: $(parts later)"
no_partials
sorad_stop
echo ok
