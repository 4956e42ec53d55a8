#!/usr/bin/env bash
# Usage caps hold jobs instead of failing them: with a cap of 8 seconds a day the third
# 4-second job is held (a log line says so, `sorad list` shows it), and runs once the
# cap is raised and the daemon reloaded; a money cap holds the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 400 --api-key "$SORAD_KEY"
sorad_conf 'daily_cap_seconds = 8'
sorad_start
export OPENAI_API_KEY=$SORAD_KEY

for n in one two; do
	drop "$n.txt" "Job $n: a paper boat on a pond."
	wait_done "$n"
done
drop three.txt 'Job three: a paper boat on a pond.'
wait_for 20 "three to be held" jq -e '.state == "held" and .error_code == "usage_cap"' \
	"$T/state/jobs/three.json"
grep -q 'usage cap reached: the daily cap of 8 seconds is reached' "$T/sorad.out" ||
	fail "no log line for the cap"
"$SORAD_BIN" list -c "$T/sorad.conf" --state held >"$T/out"
grep -q '^three .*held .*usage_cap' "$T/out" || fail "list does not show the held job: $(cat "$T/out")"
[ ! -e "$T/outbox/failed/three.error.txt" ] || fail "a capped job must not fail"
[ "$(sim_stats | jq '.creates_by_prompt["Job three: a paper boat on a pond."] // 0')" = 0 ] ||
	fail "the held job was submitted"

# Raising the cap and reloading releases it.
sed -i 's/^daily_cap_seconds = 8$/daily_cap_seconds = 12/' "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_done three
grep -q '\[job=three\] released: the usage caps allow it now' "$T/sorad.out" ||
	fail "no log line for the release"
"$SORAD_BIN" usage -c "$T/sorad.conf" --json >"$T/out"
[ "$(jq .total.today.seconds "$T/out")" = 12 ] || fail "usage today: $(cat "$T/out")"

# A money cap: $1.20 spent today, a $1.30 cap leaves no room for a $0.40 job.
sed -i 's/^daily_cap_seconds = 12$/daily_cap_usd = 1.30/' "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "the reload" grep -q 'reload: configuration reloaded' "$T/sorad.out"
drop four.txt 'Job four: a paper boat on a pond.'
wait_for 20 "four to be held" jq -e '.state == "held"' "$T/state/jobs/four.json"
jq -r .error "$T/state/jobs/four.json" | grep -q 'daily cap of \$1.30 is reached' ||
	fail "four is held for the wrong reason: $(jq -r .error "$T/state/jobs/four.json")"
# A held job survives a restart held, and a higher cap at start releases it.
sorad_stop
sed -i 's/^daily_cap_usd = 1.30$/daily_cap_usd = 2/' "$T/sorad.conf"
sorad_start
wait_done four
sorad_stop
echo ok
