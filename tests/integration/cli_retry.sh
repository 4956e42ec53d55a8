#!/usr/bin/env bash
# `sorad retry NAME`: a failed job runs again under the same name, not NAME-2; its
# failure goes into its history and its report leaves failed/; the creates it sent
# stay counted. Not for a job that did not fail (65); with no daemon it is recorded
# and applied at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

# Phase 1: a gateway that serves only veo-3, so sora-2 jobs are refused (400).
sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 61 --model veo-3:1280x720:4,6,8
sorad_conf
sorad_start
C=(-c "$T/sorad.conf")
drop fox.txt 'A red fox in the snow.'
drop owl.txt 'A snowy owl on a post.'
wait_failed fox
wait_failed owl
[ -f "$T/outbox/failed/fox.txt" ] || fail "no failure report for fox"

# Phase 2: a service that makes sora-2.
kill "$SIM_PID" && wait "$SIM_PID" 2>/dev/null || true
sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 61
sed -i "s#^api_base = .*#api_base = \"$SIM_URL/v1\"#" "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "the reload" grep -q 'reload: configuration reloaded' "$T/sorad.out"
"$SORAD_BIN" retry "${C[@]}" fox >"$T/out" 2>&1 || fail "retry fox: $(cat "$T/out")"
grep -q "fox is queued again under the same name" "$T/out" || fail "retry said: $(cat "$T/out")"
wait_done fox
[ ! -e "$T/outbox/failed/fox.error.txt" ] && [ ! -e "$T/outbox/failed/fox.txt" ] ||
	fail "the old failure report is still in failed/: $(ls "$T/outbox/failed")"
[ ! -e "$T/outbox/fox-2.json" ] || fail "the retry made fox-2"
[ "$(job_field fox .state)" = "done" ] || fail "fox is $(job_field fox .state)"
[ "$(job_field fox .history | wc -l)" = 1 ] || fail "history: $(job_field fox .history)"
"$SORAD_BIN" show "${C[@]}" fox | grep -q "^earlier " || fail "show does not tell the earlier failure"
[ "$(job_field fox .creates)" = 2 ] || fail "fox's creates: $(job_field fox .creates)"
rc=0
"$SORAD_BIN" retry "${C[@]}" fox >/dev/null 2>&1 || rc=$?
[ "$rc" = 65 ] || fail "retry of a done job exited $rc"

# No daemon: recorded, applied at start.
sorad_stop
"$SORAD_BIN" retry "${C[@]}" owl >"$T/out" 2>&1 || fail "offline retry: $(cat "$T/out")"
[ "$(job_field owl .resolution)" = retry ] || fail "the retry was not recorded"
sorad_start
wait_done owl
[ ! -e "$T/outbox/failed/owl.error.txt" ] || fail "owl's old report is still there"
expect_usage_agrees
sorad_stop
echo ok
