#!/usr/bin/env bash
# Issue 18, item 5: a single "retry-after: 999999" must not park a job for days. A
# server's retry-after is honoured up to retry_after_max_s (here 2 s), for the
# client-wide pause and for the job's next try; and a next try recorded far away (a
# record from another run, a clock set back) cannot park the job after a restart
# beyond what sorad itself would schedule.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 500 --ffmpeg none --seed 5 --p429 1 --retry-after 999999
sorad_conf 'retry_after_max_s = 2'
sorad_start
drop owl.txt "An owl blinking slowly."

_creates_refused() {
	[ "$(sim_stats | jq '.requests["POST /v1/videos"]["429"] // 0')" -ge "$1" ]
}
wait_for 20 "the first create" _creates_refused 1
# the job's own backoff after one attempt is 10 s; the server asked for 11 days
wait_for 30 "a second create within the bound (see $T/sorad.out)" _creates_refused 2
grep -q 'rate limited by the server: no request starts for 2000 ms' "$T/sorad.out" ||
	fail "the client-wide pause was not bounded to 2 s: $(grep -i 'rate limited' "$T/sorad.out" | tail -3)"
[ "$(job_field owl .state)" = claimed ] || fail "owl is $(job_field owl .state), not claimed"
echo "ok: retry-after 999999 is bounded by retry_after_max_s: the job tried again"
sorad_stop

# A record whose next try is a day away (as the old code wrote for this answer):
# after a restart the job goes at once against a service that now answers.
now_ms=$(($(date +%s) * 1000))
jq --argjson t "$((now_ms + 86400000))" '.next_at_ms = $t' "$T/state/jobs/owl.json" \
	>"$T/owl.json" && mv "$T/owl.json" "$T/state/jobs/owl.json"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
sim_start --gen-ms 500 --ffmpeg none --seed 5
sorad_conf 'retry_after_max_s = 2'
sorad_start
wait_done owl 60
expect_creates "An owl blinking slowly." 1
sorad_stop
echo "ok: a next try recorded a day away does not park the job after a restart"
