#!/usr/bin/env bash
# in_doubt_resubmit_hours: off by default (a job in doubt waits across restarts);
# when set, a job in doubt for longer than that is resubmitted on its own, once,
# and the log says it was the configuration's decision.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 8 --p5xx-after-create 1 --list-mode 501
sorad_conf
sorad_start
drop late.txt "A street market packing up at dusk."
wait_state late in_doubt 60
expect_doubt late "no list of videos"
sorad_stop

# As if it had been in doubt for two hours: the default waits.
since=$(job_field late .next_at_ms)
jq --argjson t $((since - 7200 * 1000)) '.next_at_ms = $t' "$T/state/jobs/late.json" >"$T/late.json"
mv "$T/late.json" "$T/state/jobs/late.json"
sorad_start
drop canary.txt "A canary on a perch (the default waits)."
wait_state canary in_doubt 60
[ "$(job_field late .state)" = in_doubt ] || fail "late left in_doubt without a decision"
expect_creates "A street market packing up at dusk." 1
sorad_stop

# With in_doubt_resubmit_hours = 1 it is resubmitted at start, once.
echo "in_doubt_resubmit_hours = 1" >>"$T/sorad.conf"
sorad_start
wait_field late .creates 2
wait_state late in_doubt 60
expect_creates "A street market packing up at dusk." 2
grep -q "in doubt for more than 1 h: resubmitting as configured" "$T"/logs/*.log ||
	fail "the automatic resubmission is not in the log"
# canary has been in doubt for seconds only: it waits.
[ "$(job_field canary .creates)" = 1 ] || fail "canary was resubmitted too early"
expect_usage_agrees
sorad_stop
echo "ok: in doubt waits by default; in_doubt_resubmit_hours resubmits once after its time"
