#!/usr/bin/env bash
# Job control through the daemon, which holds the API key: `sorad reject` a held job,
# `sorad cancel` a held one (nothing spent), a running one (the service is asked to
# delete the video; the job fails as cancelled and stops being polled), and refusals
# with their exit codes (done: 65, unknown: 66); with no daemon, a cancel of a job
# that sent nothing is recorded and applied at the next start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 30000 --api-key "$SORAD_KEY" --seed 17
sorad_conf 'approve_over_usd = 1.00'
sorad_start
C=(-c "$T/sorad.conf")
# run EXPECTED ARGS...
run() {
	local want=$1 rc=0
	shift
	"$SORAD_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "sorad $* exited $rc, expected $want: $(cat "$T/out" "$T/err")"
}
BIG=$'---\nseconds: 12\n---\n'
drop big.txt "${BIG}A costly panorama of the Alps."
drop big2.txt "${BIG}Another costly panorama, of the Andes."
wait_state big held 30
wait_state big2 held 30

run 0 reject "${C[@]}" big
grep -q "big rejected: nothing was spent" "$T/out" || fail "reject said: $(cat "$T/out")"
wait_failed big
grep -q "^Rejected by the user" "$T/outbox/failed/big.error.txt" || fail "big.error.txt: $(cat "$T/outbox/failed/big.error.txt")"
run 0 cancel "${C[@]}" big2
wait_failed big2
grep -q "^Cancelled by the user before anything was sent" "$T/outbox/failed/big2.error.txt" ||
	fail "big2.error.txt: $(cat "$T/outbox/failed/big2.error.txt")"
[ "$(job_field big .creates)" = 0 ] && [ "$(job_field big2 .creates)" = 0 ] || fail "a held job sent a create"
run 65 reject "${C[@]}" big # failed already: not held

# A running job: the service is asked to delete it, and it stops being polled.
drop slow.txt 'A glacier calving, in real time.'
wait_state slow running 30
run 0 cancel "${C[@]}" slow
grep -q "asked the service to delete the video" "$T/out" || fail "cancel said: $(cat "$T/out")"
wait_failed slow
grep -q "Cancelled by the user while the service was making it" "$T/outbox/failed/slow.error.txt" ||
	fail "slow.error.txt: $(cat "$T/outbox/failed/slow.error.txt")"
deleted() { [ "$(sim_stats | jq '[.requests["DELETE /v1/videos/{id}"][]] | add // 0')" -ge 1 ]; }
wait_for 20 "the DELETE at the service" deleted
grep -q "cancelled: the service deleted the video" "$T/sorad.out" ||
	wait_for 20 "the delete's answer in the log" grep -q "cancelled: the service" "$T/sorad.out"
# usage keeps the create: it was sent, and may be billed.
[ "$(usage_creates)" = 1 ] || fail "usage counts $(usage_creates) creates, expected 1"

run 65 cancel "${C[@]}" slow # failed
run 66 cancel "${C[@]}" no-such-job
run 65 reject "${C[@]}" slow

# No daemon: a held job's cancel is recorded, applied at the next start.
drop big3.txt "${BIG}A third costly panorama, of the Himalaya."
wait_state big3 held 30
sorad_stop
run 0 cancel "${C[@]}" big3
grep -q "no daemon is running" "$T/out" || fail "offline cancel said: $(cat "$T/out")"
[ "$(job_field big3 .resolution)" = cancel ] || fail "the cancel was not recorded"
sorad_start
wait_failed big3
grep -q "^Cancelled by the user" "$T/outbox/failed/big3.error.txt" || fail "big3 not cancelled at start"
sorad_stop
echo ok
