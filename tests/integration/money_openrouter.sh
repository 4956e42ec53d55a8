#!/usr/bin/env bash
# Never pay twice, OpenRouter's way: its video API cannot list jobs, so a create whose
# answer is lost (a 502 after the simulator made the video) cannot be reconciled and
# waits in_doubt at once, after exactly one create and without a list call. `sorad
# resolve --resubmit` then sends exactly one more create, which completes the job. A
# reset connection and a cut-off 202 put the job in doubt the same way.
# (sora-sim --seed 9 with --p5xx-after-create 0.5 answers the first create 502 and the
# second 202: faults are drawn from the seed, in the order of the creates.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --protocol openrouter --gen-ms 800 --api-key "$SORAD_KEY" --seed 9 \
	--p5xx-after-create 0.5
gateway_conf openrouter "$SIM_URL/api/v1"
gateway_sorad_start

PROMPT='A kettle coming to the boil on a gas ring (openrouter lost create).'
drop lost.txt $'---\nseconds: 4\n---\n'"$PROMPT"
wait_state lost in_doubt 60
expect_doubt lost "HTTP 502"
expect_doubt lost "no list of videos"
expect_doubt lost "api_protocol openrouter"
expect_creates "$PROMPT" 1
[ "$(job_field lost .creates)" = 1 ] || fail "more than one create was recorded"
# No list was tried: OpenRouter's GET /videos is no route (405), and none came.
[ "$(sim_stats | jq '.requests["POST /v1/videos"]["405"] // 0')" = 0 ] ||
	fail "sorad asked for a list the protocol does not have: $(sim_stats | jq -c .requests)"
expect_usage_agrees

resolve lost --resubmit >"$T/resolve.out" 2>&1 || fail "resolve --resubmit: $(cat "$T/resolve.out")"
wait_done lost 90
check_set lost 1280x720 4
expect_creates "$PROMPT" 2
[ "$(job_field lost .creates)" = 2 ] || fail "the resubmit did not record exactly one more create"
[ "$(jq -r .reported_cost_usd "$T/outbox/lost.json")" = 1.6 ] ||
	fail "lost.json: the reported cost is not veo-3.1's 4 s with sound: $(jq .reported_cost_usd "$T/outbox/lost.json")"
expect_usage_agrees
sorad_stop
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# The other ways an answer is lost: the connection reset after the service acted, and
# a 202 whose body is cut short. Every request meets the fault (probability 1), so
# the create meets it whatever else is asked first; each job is in doubt after one
# create, and no list is asked. (No catalog: its fetch at start is not the point here.)
for fault in preset ptruncate; do
	sim_start --protocol openrouter --gen-ms 800 --api-key "$SORAD_KEY" "--$fault" 1
	rm -rf "$T/state" "$T/outbox" "$T/logs"
	gateway_conf openrouter "$SIM_URL/api/v1"
	echo 'model_catalog = "no"' >>"$T/sorad.conf"
	gateway_sorad_start
	p="A weather vane in a gale (openrouter $fault)."
	drop "$fault.txt" "$p"
	wait_state "$fault" in_doubt 60
	expect_doubt "$fault" "no list of videos"
	expect_creates "$p" 1
	[ "$(sim_stats | jq '.requests["POST /v1/videos"]["405"] // 0')" = 0 ] ||
		fail "$fault: sorad asked for a list: $(sim_stats | jq -c .requests)"
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
done
echo "money_openrouter: ok"
