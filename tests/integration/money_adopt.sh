#!/usr/bin/env bash
# Never pay twice: lists that cannot prove absence, and the user's decisions taken
# while the daemon runs (over its control socket).
#  - a list without prompts (LiteLLM): in doubt; the user finds the video and adopts it;
#    the job completes with that video and no second create;
#  - created_at 0 (the service gives no time): the video with the same prompt is named
#    in the reason, and adopting that id completes the job;
#  - --resubmit sends one more create (in doubt again behind this gateway), --drop
#    fails the job to failed/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 9 --p5xx-after-create 1 --no-prompt
sorad_conf "max_in_flight = 4"
sorad_start
drop one.txt "A snail on a leaf after rain, macro shot."
wait_state one in_doubt 60
expect_doubt one "does not include prompts"
# The user looks the video up (here: the only one the service has).
id=$(curl -fsS -H "Authorization: Bearer $SORAD_KEY" "$SIM_URL/v1/videos" | jq -r '.data[0].id')
[ -n "$id" ] && [ "$id" != null ] || fail "no video listed"
resolve one --adopt "$id" >"$T/resolve.out" || fail "resolve --adopt: $(cat "$T/resolve.out")"
wait_done one 60
[ "$(jq -r .video.id "$T/outbox/one.json" 2>/dev/null || jq -r .id "$T/outbox/one.json")" = "$id" ] ||
	grep -q "$id" "$T/outbox/one.json" || fail "one.json does not name the adopted video $id"
check_set one 1280x720 4
expect_creates "A snail on a leaf after rain, macro shot." 1

drop two.txt "A lantern swinging in the wind, night."
wait_state two in_doubt 60
resolve two --resubmit >"$T/resolve.out" || fail "resolve --resubmit: $(cat "$T/resolve.out")"
wait_field two .creates 2
wait_state two in_doubt 60
expect_creates "A lantern swinging in the wind, night." 2
resolve two --drop >"$T/resolve.out" || fail "resolve --drop: $(cat "$T/resolve.out")"
wait_failed two 30
# A job that is not in doubt cannot be resolved.
rc=0
resolve one --resubmit >"$T/resolve.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "resolve accepted a done job"
expect_usage_agrees
sorad_stop
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
echo "ok: no prompts in the list: adopt, resubmit (2 creates), drop"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 9 --p5xx-after-create 1 --created-at-zero
rm -rf "$T/state" "$T/outbox" "$T/logs"
sorad_conf "max_in_flight = 4"
sorad_start
drop three.txt "A windmill turning slowly in fog."
wait_state three in_doubt 60
expect_doubt three "does not say when it was made"
named=$(job_field three .error | grep -Eo 'video [^ ]+ with the same prompt' | awk '{print $2}')
[ -n "$named" ] || fail "the reason names no candidate video: $(job_field three .error)"
resolve three --adopt "$named" >"$T/resolve.out" || fail "resolve --adopt: $(cat "$T/resolve.out")"
wait_done three 60
expect_creates "A windmill turning slowly in fog." 1
expect_usage_agrees
echo "ok: created_at 0: the candidate is named, adopting it completes the job"
sorad_stop
