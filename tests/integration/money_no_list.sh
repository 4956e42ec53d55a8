#!/usr/bin/env bash
# Never pay twice: a create answered 502 by a gateway whose service cannot list
# videos (405, then LiteLLM's "not supported" 500): absence cannot be proven, so the
# jobs wait in_doubt after one create each. The user's decisions are taken while the
# daemon is down (recorded in the job, applied at the next start): --resubmit sends
# exactly one more create, --drop fails the job to failed/ with the story.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

for mode in 405 litellm-500; do
	sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 3 --p5xx-after-create 1 \
		--after-create-status 502 --list-mode "$mode"
	rm -rf "$T/state" "$T/outbox" "$T/logs"
	sorad_conf "max_in_flight = 4"
	sorad_start
	drop keep.txt "A glass of water on a sunny sill ($mode)."
	drop gone.txt "An empty platform at midnight ($mode)."
	wait_state keep in_doubt 60
	wait_state gone in_doubt 60
	expect_doubt keep "HTTP 502"
	expect_doubt keep "no list of videos"
	expect_creates "A glass of water on a sunny sill ($mode)." 1
	expect_creates "An empty platform at midnight ($mode)." 1
	expect_usage_agrees

	sorad_stop
	resolve keep --resubmit >"$T/resolve.out" || fail "resolve --resubmit: $(cat "$T/resolve.out")"
	resolve gone --drop >"$T/resolve.out" || fail "resolve --drop: $(cat "$T/resolve.out")"
	[ "$(job_field keep .resolution)" = resubmit ] || fail "the decision was not recorded"
	sorad_start
	wait_failed gone 30
	grep -q "Dropped by the user while in doubt" "$T/outbox/failed/gone.error.txt" ||
		fail "the failure report does not tell the story: $(cat "$T/outbox/failed/gone.error.txt")"
	[ -f "$T/outbox/failed/gone.txt" ] || fail "the dropped job's input is not in failed/"
	# The resubmitted job sends one more create, which the gateway answers 502 again:
	# in doubt again, with two creates recorded, and the simulator made two videos.
	wait_field keep .creates 2
	wait_state keep in_doubt 60
	expect_creates "A glass of water on a sunny sill ($mode)." 2
	expect_creates "An empty platform at midnight ($mode)." 1
	grep -q "resolved: a second create is allowed" "$T"/logs/*.log ||
		fail "the user's decision is not in the log"
	expect_usage_agrees
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: list $mode: in doubt after one create; --resubmit sent one more, --drop failed it"
done

# What the create got back is part of the record: a kill while the job is being
# reconciled does not turn the story into "nothing came back".
sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 3 --p5xx-after-create 1 \
	--after-create-status 504 --list-mode 405
rm -rf "$T/state" "$T/outbox" "$T/logs"
sorad_conf
sorad_start
drop killed.txt "A weather vane spinning in a gale."
wait_field killed .create_answer "?" 30
kill -KILL "$SORAD_PID"
wait "$SORAD_PID" 2>/dev/null || true
[ "$(job_field killed .state)" = submitting ] || fail "killed is $(job_field killed .state)"
sorad_start
wait_state killed in_doubt 60
expect_doubt killed "what came back: HTTP 504"
expect_creates "A weather vane spinning in a gale." 1
sorad_stop
echo "ok: the create's answer survives a kill during reconciliation"
