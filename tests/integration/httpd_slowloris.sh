#!/usr/bin/env bash
# The status endpoint stays responsive for others while it is attacked:
#  - slowloris: 2,000 connections (more than the endpoint's limit, so the slowest are
#    shed) each sending a request's headers one byte at a time, never finishing them
#    (reopened as soon as the server closes them);
#  - 1,000 concurrent connections that connect and send nothing.
# Meanwhile /healthz and /api/v1/videos are asked every few hundred ms by a normal
# client and must answer 200 every time, within 10 s: a deadline that only a blocked
# or starved loop misses, also on a loaded 2-core machine (the latency itself is a
# benchmark's business; the slowest answer is printed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

ATTACK_S=${ATTACK_S:-12}
sim_start --gen-ms 300 --api-key "$SORAD_KEY"
httpd_start
drop one.txt 'A lantern on a jetty at night, slow push in.'
wait_done one 30
port=${H##*:}

# probe_during PID: while the attacker PID runs, a normal client asks every 300 ms;
# every answer must be a 200 within 10 s. Prints how many probes answered.
probe_during() {
	local pid=$1 n=0 code t path
	# Let the attacker open its connections first.
	sleep 1
	while kill -0 "$pid" 2>/dev/null; do
		for path in /healthz /api/v1/videos; do
			t=$(date +%s%N)
			code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$H$path" 2>&1) ||
				fail "$path did not answer within 10 s during the attack ($code; $(tail -3 "$T/sorad.out"))"
			[ "$code" = 200 ] || fail "$path answered $code during the attack"
			t=$((($(date +%s%N) - t) / 1000000))
			n=$((n + 1))
			[ "$t" -gt "${slowest:-0}" ] && slowest=$t
		done
		sleep 0.3
	done
	echo "$n probes answered (slowest $slowest ms)"
}

for attack in trickle:2000 idle:1000; do
	mode=${attack%:*}
	slowest=0
	"$TEST_BIN_DIR/slowloris" "$mode" 127.0.0.1 "$port" "${attack#*:}" "$ATTACK_S" 1000 >"$T/attack.$mode" 2>&1 &
	apid=$!
	_pids+=("$apid")
	got=$(probe_during "$apid")
	wait "$apid" || fail "the attacker failed: $(cat "$T/attack.$mode")"
	echo "$mode: $(cat "$T/attack.$mode"); $got"
	kill -0 "$SORAD_PID" || fail "sorad died under the attack"
done
# And it is still well afterwards.
[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$H/api/v1/videos/one")" = 200 ] ||
	fail "the endpoint is not well after the attack"
sorad_stop
echo ok
