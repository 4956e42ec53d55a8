#!/usr/bin/env bash
# A claim held for approval (approve_over_usd) is counted as held, not as claimed: the
# per-state counters that throttle claims and choose the intent commit stay exact
# through hold → approve → done, and after a restart. /metrics shows the counters
# themselves (sorad_jobs): with the bug, claimed stayed one too high per approved job.
# Built with SORAD_CHECK_COUNTS (scripts/test.sh), the daemon also recounts every job
# after each state change and aborts on a difference: a hold that bypassed the counters
# killed it at the claim. The unit test t_jobs checks the counters too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY"
sorad_conf 'approve_over_usd = 1.00' 'max_in_flight = 2' 'listen = "127.0.0.1:0"'
export OPENAI_API_KEY=$SORAD_KEY
C=(-c "$T/sorad.conf")
alive() { kill -0 "$SORAD_PID" 2>/dev/null || fail "sorad died: $(tail -5 "$T/sorad.out")"; }
held() {
	alive
	jq -e '.state == "held"' "$T/state/jobs/$1.json"
}
# expect_counts WHEN held=N claimed=N done=N...: /metrics' sorad_jobs (the counters).
expect_counts() {
	local when=$1 kv
	shift
	httpd_url
	expect_eq "$when: GET /metrics" 200 "$(hget /metrics)"
	for kv in "$@"; do
		expect_eq "$when: sorad_jobs{state=\"${kv%=*}\"}" "${kv#*=}" \
			"$(sed -n "s/^sorad_jobs{state=\"${kv%=*}\"} //p" "$T/body")"
	done
}

sorad_start
drop big.jsonl $'{"prompt": "One."}\n{"prompt": "Two."}\n{"prompt": "Three."}\n'
for n in 1 2 3; do
	wait_for 20 "big-$n held" held "big-$n"
done
alive
expect_counts "held" held=3 claimed=0
# A cheap file claimed while the batch is held goes through at once.
drop kite.txt 'A red kite over the dunes.'
wait_done kite
alive
"$SORAD_BIN" approve "${C[@]}" big >"$T/out" 2>&1 || fail "approve: $(cat "$T/out")"
grep -qF "approved 3 job(s) of big" "$T/out" || fail "approve said: $(cat "$T/out")"
for n in 1 2 3; do
	wait_done "big-$n"
done
alive
expect_counts "approved and done" held=0 claimed=0 submitting=0 running=0 downloading=0 done=4

# Held jobs loaded at a start are counted as held too.
drop big2.jsonl $'{"prompt": "Four."}\n{"prompt": "Five."}\n{"prompt": "Six."}\n'
for n in 1 2 3; do
	wait_for 20 "big2-$n held" held "big2-$n"
done
sorad_stop
sorad_start
"$SORAD_BIN" approve "${C[@]}" big2 >"$T/out" 2>&1 || fail "approve: $(cat "$T/out")"
for n in 1 2 3; do
	wait_done "big2-$n"
done
alive
expect_counts "loaded held, approved and done" held=0 claimed=0 done=7
if grep -F "per-state counters wrong" "$T/sorad.out" "$T"/logs/*.log; then
	fail "the counters drifted"
fi
sorad_stop
