#!/usr/bin/env bash
# The API key never appears in logs, state, outbox, failed files or output — also when
# the API rejects it. A 401 pauses submissions (the job is not failed) until a reload
# with a good key, which then finishes the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

good="sk-proj-GOOD-$RANDOM$RANDOM-key"
bad="sk-proj-BAD-$RANDOM$RANDOM-key"
sim_start --gen-ms 600 --api-key "$good" --seed 9
printf '%s\n' "$bad" >"$T/key"
chmod 600 "$T/key"
sorad_conf "api_key_file = \"$T/key\""
sorad_start

drop held.txt 'A red balloon drifting over rooftops, tracking shot.'
wait_for 20 "a loud 401 in the log" grep -q "refused sorad's credentials" "$T/sorad.out"
[ ! -e "$T/outbox/failed/held.error.txt" ] || fail "a 401 must not fail the job"
# The log line comes as the answer is read; the record goes back to claimed with the
# next commit, a moment later.
state_is() { [ "$(jq -r .state "$T/state/jobs/held.json" 2>/dev/null)" = "$1" ]; }
wait_for 10 "the job to wait in state claimed" state_is claimed

printf '%s\n' "$good" >"$T/key"
kill -HUP "$SORAD_PID"
wait_done held 30
check_set held 1280x720 4
[ "$(sim_created_count 'A red balloon drifting over rooftops, tracking shot.')" = 1 ] ||
	fail "the held job was created more than once"
sorad_stop

for k in "$good" "$bad"; do
	if grep -rlF -- "$k" "$T/logs" "$T/state" "$T/outbox" "$T/sorad.out" 2>/dev/null; then
		fail "the API key appears in the files above"
	fi
done
grep -q '\[REDACTED\]' "$T/sorad.out" && echo "(a redaction was needed somewhere)"
echo ok
