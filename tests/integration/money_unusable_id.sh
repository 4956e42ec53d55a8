#!/usr/bin/env bash
# Never pay twice: a service that answers a create with an id sorad will not store
# (5,000 characters). The create made a video, the answer is unusable, and the list
# cannot show which video it was: every job waits in_doubt after exactly one create,
# and stays there across a restart (before this, such a prompt was created again and
# again, 8 times in 25 s). Ids holding '+', '/' and '=' (LiteLLM's base64 ids) are
# ids like any other: those jobs complete, one create each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

run_style() {
	local style=$1
	sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 7 --id-style "$style"
	rm -rf "$T/state" "$T/outbox" "$T/logs"
	sorad_conf "max_in_flight = 4"
	sorad_start
	drop "a-$style.txt" "A heron by the river at dawn ($style ids)."
	drop "b-$style.txt" "A tram crossing a bridge at night ($style ids)."
	wait_state "a-$style" in_doubt 60
	wait_state "b-$style" in_doubt 60
	expect_doubt "a-$style" "HTTP 200 with an answer sorad cannot use"
	expect_doubt "a-$style" "may have made this video"
	expect_creates "A heron by the river at dawn ($style ids)." 1
	expect_creates "A tram crossing a bridge at night ($style ids)." 1

	# A restart does not send anything for them; a third job goes the same way
	# (a full create and reconciliation) while they stay put.
	sorad_stop
	sorad_start
	drop "c-$style.txt" "A kite over the dunes ($style ids)."
	wait_state "c-$style" in_doubt 60
	for n in a b c; do
		[ "$(job_field "$n-$style" .state)" = in_doubt ] || fail "$n-$style left in_doubt"
		[ "$(job_field "$n-$style" .creates)" = 1 ] || fail "$n-$style sent more than one create"
	done
	[ "$(sim_total_creates)" = 3 ] || fail "the simulator made $(sim_total_creates) videos for 3 prompts"
	expect_usage_agrees
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: $style ids: 3 jobs in doubt after one create each"
}

# b64: ids with '+', '/' and '=' are accepted (percent-encoded in every path): each
# job completes after exactly one create, across a restart too.
run_b64() {
	sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 7 --id-style b64
	rm -rf "$T/state" "$T/outbox" "$T/logs"
	sorad_conf "max_in_flight = 4"
	sorad_start
	drop "a-b64.txt" "A heron by the river at dawn (b64 ids)."
	drop "b-b64.txt" "A tram crossing a bridge at night (b64 ids)."
	wait_done "a-b64" 60
	wait_done "b-b64" 60
	sorad_stop
	sorad_start
	drop "c-b64.txt" "A kite over the dunes (b64 ids)."
	wait_done "c-b64" 60
	for n in a b c; do
		local id
		id=$(jq -r .video.id "$T/outbox/$n-b64.json")
		case "$id" in *[/+=]*) ;; *) fail "$n-b64: the video id $id holds none of + / =" ;; esac
		[ "$(job_field "$n-b64" .video_id)" = "$id" ] || fail "$n-b64: the record's id differs from $id"
		[ "$(job_field "$n-b64" .creates)" = 1 ] || fail "$n-b64 sent more than one create"
	done
	[ "$(sim_total_creates)" = 3 ] || fail "the simulator made $(sim_total_creates) videos for 3 prompts"
	expect_usage_agrees
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: b64 ids: 3 jobs done after one create each"
}

run_style huge
run_b64
