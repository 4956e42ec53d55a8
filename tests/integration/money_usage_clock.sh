#!/usr/bin/env bash
# Money is counted when it may have been spent, on this machine's clock:
#  - a service whose clock is hours behind (its created_at falls on "yesterday") does
#    not move today's spending out of today: with a daily cap of one job, the second
#    job is held;
#  - a create in doubt counts (unconfirmed) from the moment it was sent: it holds the
#    next job under the cap, and `sorad usage` shows it as unconfirmed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

now=$(date +%s)
midnight=$(date -d 'today 00:00' +%s)
offset=$((-(now - midnight + 3600))) # the service's "now" is an hour before our midnight
sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 2 --clock-offset-s "$offset"
sorad_conf 'daily_cap_seconds = 4'
sorad_start
drop one.txt "Job one: a snowy owl turning its head."
wait_done one 60
created=$(jq -r '.video.created_at // .created_at // empty' "$T/outbox/one.json")
[ -n "$created" ] && [ "$created" -lt "$midnight" ] ||
	fail "the service's created_at ($created) should be before today's midnight ($midnight)"
drop two.txt "Job two: a snowy owl taking off."
wait_state two held 30
job_field two .error | grep -q 'daily cap of 4 seconds' || fail "two held for: $(job_field two .error)"
expect_creates "Job two: a snowy owl taking off." 0
"$SORAD_BIN" usage -c "$T/sorad.conf" --json >"$T/out"
[ "$(jq .total.today.seconds "$T/out")" = 4 ] || fail "usage today: $(cat "$T/out")"
expect_usage_agrees
sorad_stop
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
echo "ok: a service clock $((-offset)) s behind: today's spending stays today's"

# A create in doubt is counted at once (unconfirmed), and holds the next job.
sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 2 --p5xx-after-create 1 --list-mode 405
rm -rf "$T/state" "$T/outbox" "$T/logs"
sorad_conf 'daily_cap_seconds = 4'
sorad_start
drop three.txt "Job three: a heron standing in reeds."
wait_state three in_doubt 60
drop four.txt "Job four: a heron catching a fish."
wait_state four held 30
expect_creates "Job four: a heron catching a fish." 0
"$SORAD_BIN" usage -c "$T/sorad.conf" --json >"$T/out"
[ "$(jq .total.today.seconds "$T/out")" = 4 ] || fail "usage today: $(cat "$T/out")"
[ "$(jq .total.today.unconfirmed_seconds "$T/out")" = 4 ] || fail "unconfirmed: $(cat "$T/out")"
"$SORAD_BIN" usage -c "$T/sorad.conf" >"$T/out"
grep -qi unconfirmed "$T/out" || fail "sorad usage does not show the unconfirmed create: $(cat "$T/out")"
expect_usage_agrees
sorad_stop
echo "ok: a create in doubt counts at once and holds the next job"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# A service whose clock is 3 hours behind answers a create 500 after making the video:
# its created_at looks 3 hours old, older than the intent. Reconciliation places the
# intent on the service's clock (its Date header), finds the video, and adopts it.
sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 2 --clock-offset-s -10800 \
	--p5xx-after-create 1 --after-create-status 500
rm -rf "$T/state" "$T/outbox" "$T/logs"
sorad_conf
sorad_start
drop five.txt "Job five: a lighthouse beam sweeping the fog."
wait_done five 60
expect_creates "Job five: a lighthouse beam sweeping the fog." 1
grep -q "the service's clock is -10[0-9]* s off this machine's" "$T"/logs/*.log ||
	fail "the clock difference was not noticed"
expect_usage_agrees
sorad_stop
echo "ok: a service clock 3 h behind: the lost create is still found and adopted"
