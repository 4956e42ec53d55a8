#!/usr/bin/env bash
# Live answers: /poll returns when the job completes (not before, not at the timeout),
# returns at the timeout for a job still running, and at once for a finished one; the
# event stream delivers created, progress, completed and failed events; many waiters
# and streams at once are served by the single-threaded loop; SIGHUP with a new listen
# address moves the endpoint; an idle daemon with the endpoint on is never scheduled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 2500 --api-key "$SORAD_KEY" --seed 10
httpd_start

# The event stream, read from the start.
curl -sSN "$H/api/v1/events" >"$T/events" 2>"$T/events.err" &
_pids+=($!)
wait_for 10 "the event stream to open" grep -q 'sorad events' "$T/events"
# Several more streams, to see every one served.
for i in 1 2 3; do
	curl -sSN "$H/api/v1/events" >"$T/events.$i" 2>/dev/null &
	_pids+=($!)
done

drop waitme.txt 'A hot air balloon rising over fields.'
claimed() { curl -fsS "$H/api/v1/videos/waitme" >/dev/null; }
wait_for 10 "waitme to be known" claimed

# A poll with a short timeout answers at the timeout with the job still unfinished.
start=$(date +%s%N)
code=$(hget '/api/v1/videos/waitme/poll?timeout=1')
took=$((($(date +%s%N) - start) / 1000000))
expect_eq "poll at the timeout" 200 "$code"
[ "$(body_get .status)" != completed ] || fail "the job completed within 1 s; gen-ms too short"
[ "$took" -ge 900 ] && [ "$took" -lt 5000 ] || fail "timeout=1 answered after $took ms"

# Many polls wait together and all return when the job completes, long before 60 s.
for i in $(seq 1 8); do
	curl -sS -o "$T/poll.$i" -w '%{http_code}' "$H/api/v1/videos/waitme/poll?timeout=60" >"$T/poll.$i.code" &
	_pids+=($!)
done
start=$(date +%s%N)
code=$(hget '/api/v1/videos/waitme/poll?timeout=60')
took=$((($(date +%s%N) - start) / 1000000))
expect_eq "poll on completion" 200 "$code"
expect_eq "poll answered with the completed video" completed "$(body_get .status)"
[ -f "$T/outbox/waitme.json" ] || fail "poll answered before the set was complete"
[ "$took" -lt 30000 ] || fail "poll took $took ms"
for i in $(seq 1 8); do
	wait_for 10 "poll $i to return" test -s "$T/poll.$i.code"
	expect_eq "poll $i" 200 "$(cat "$T/poll.$i.code")"
	expect_eq "poll $i status" completed "$(jq -r .status "$T/poll.$i")"
done
# A finished job answers at once; a bad timeout is a 400; over 600 is capped.
start=$(date +%s%N)
code=$(hget '/api/v1/videos/waitme/poll')
took=$((($(date +%s%N) - start) / 1000000))
expect_eq "poll of a finished job" 200 "$code"
[ "$took" -lt 2000 ] || fail "poll of a finished job took $took ms"
code=$(hget '/api/v1/videos/waitme/poll?timeout=soon')
expect_json_error 400 "$code" invalid_request_error
code=$(hget '/api/v1/videos/waitme/poll?timeout=100000')
expect_eq "poll with a huge timeout (capped, and the job is done)" 200 "$code"

# A failure wakes its waiters too.
drop bad.txt 'Cannot be made [sim:fail]'
wait_for 10 "bad to be known" curl -fsS "$H/api/v1/videos/bad"
code=$(hget '/api/v1/videos/bad/poll?timeout=60')
expect_eq "poll on failure" 200 "$code"
expect_eq "poll answered with the failure" failed "$(body_get .status)"

# The events, in order for the first job: created, progress, completed; then failed.
wait_for 10 "the failed event" grep -q '^event: failed' "$T/events"
ev() { grep --no-group-separator -A1 "^event: $1\$" "$T/events" | grep '^data: ' | sed 's/^data: //'; }
ev created | jq -se 'any(.[]; .name == "waitme" and .state == "claimed")' >/dev/null ||
	fail "no created event for waitme: $(head -c 800 "$T/events")"
ev progress | jq -se 'any(.[]; .name == "waitme" and .progress > 0 and .progress < 100)' >/dev/null ||
	fail "no progress event for waitme: $(grep -c '^event: progress' "$T/events") progress events"
ev completed | jq -se 'any(.[]; .name == "waitme" and .status == "completed" and .files.video.url != null)' \
	>/dev/null || fail "no completed event for waitme"
ev failed | jq -se 'any(.[]; .name == "bad" and .error.message != null)' >/dev/null ||
	fail "no failed event for bad"
order=$(grep '^event: ' "$T/events" | awk '{ print $2 }' | awk '!seen[$0]++' | tr '\n' ' ')
[[ $order == "created "*"progress "*"completed "* ]] || fail "events out of order: $order"
grep -q '^id: [0-9]' "$T/events" || fail "events carry no id"
for i in 1 2 3; do
	grep -q '^event: completed' "$T/events.$i" || fail "stream $i missed the completion"
done
expect_eq "events content-type" text/event-stream \
	"$(curl -sS -I -o /dev/null -w '%{content_type}' "$H/api/v1/events")"

# SIGHUP with a new listen address moves the endpoint (port 0 again: a new free port).
old=$H
sed -i 's/^listen = "127.0.0.1:0"$/listen = "127.0.0.2:0"/' "$T/sorad.conf"
kill -HUP "$SORAD_PID"
moved() { grep -q 'status: listening on http://127.0.0.2:' "$T/sorad.out"; }
wait_for 10 "the endpoint to move" moved
httpd_url
expect_eq "the new address answers" 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$H/healthz")"
! curl -sS -o /dev/null "$old/healthz" 2>/dev/null || fail "the old address still answers"
# The streams on the old server were closed cleanly.
for p in $(jobs -pr); do
	[ "$p" = "$SORAD_PID" ] || [ "$p" = "$SIM_PID" ] || wait "$p" 2>/dev/null || true
done

# Idle with the endpoint on (and after serving): no wakeups.
switches() { awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 } END { print v + n }' "/proc/$SORAD_PID/status"; }
wait_for 10 "the done record" grep -q '"state":	"failed"' "$T/state/jobs/bad.json"
curl -sS "$H/api/v1/videos" >/dev/null
sleep 0.2 # let the connection close
before=$(switches)
sleep 2
after=$(switches)
[ "$after" = "$before" ] || fail "the idle daemon woke up $((after - before)) times in 2 s"

sorad_stop
echo "ok: poll (timeout, completion, failure, 9 waiters), SSE (4 streams), reload, idle"
