#!/usr/bin/env bash
# Signed callbacks the whole way (issue 17, item 5): sorad with api_protocol =
# "openrouter" sends callback_url with each create, and sora-sim --protocol openrouter
# posts each job's end there, signed with the shared secret (each one twice, as a
# retrying sender may). With polling slowed to a minute, every job completes through
# its callback well before its first poll would have come, and the signed event itself
# is taken as the service's answer: the sim sees no retrieve at all (the duplicate
# delivery ignored), each job is created once and downloaded once. A callback signed with another secret is
# refused (401) and logged. Then, at the usual polling pace, jobs are still not
# polled: with callback_url set, polls are the fallback from the start. callback_url
# with the OpenAI protocol is refused by check-config. The secret never reaches the
# logs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

command -v ffmpeg >/dev/null 2>&1 || { echo "SKIP callback_openrouter: no ffmpeg"; exit 0; }

# free_port: a TCP port nobody listens on at this instant on 127.0.0.1 (the callback
# URL names it before sorad binds it: the sim delivers only over http to loopback).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

secret="whsec_sorad_or_$RANDOM$RANDOM"
printf '%s\n' "$secret" >"$T/cbsecret"
chmod 600 "$T/cbsecret"
sim_start --protocol openrouter --gen-ms 2500 --api-key "$SORAD_KEY" --seed 5 \
	--callback-secret-file "$T/cbsecret" --callback-repeat 2 --log-bodies "$T/bodies.jsonl"
port=$(free_port)
CB="http://127.0.0.1:$port/hooks/sorad"

# The same keys with the OpenAI protocol: refused, with the line and what to do.
sorad_conf "callback_listen = \"127.0.0.1:$port\"" "callback_url = \"$CB\"" \
	"callback_secret_file = \"$T/cbsecret\""
if "$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1; then
	fail "check-config took callback_url with api_protocol openai"
fi
grep -q 'callback_url is sent only with api_protocol = "openrouter"' "$T/check.out" ||
	fail "check-config: $(cat "$T/check.out")"

sorad_conf 'api_protocol = "openrouter"' "callback_listen = \"127.0.0.1:$port\"" \
	"callback_url = \"$CB\"" "callback_secret_file = \"$T/cbsecret\""
# Polls no sooner than a minute apart: only a callback can finish a job sooner.
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/api/v1\"|; s/^poll_initial = .*/poll_initial = 60/; s/^poll_max = .*/poll_max = 60/" \
	"$T/sorad.conf"
"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1 ||
	fail "check-config: $(cat "$T/check.out")"
sorad_start
grep -q "callback: listening on http://127.0.0.1:$port/hooks/sorad " "$T/sorad.out" ||
	fail "no 'callback: listening on' line for $CB in $T/sorad.out"
grep -q "callbacks: each create carries callback_url, so running jobs are polled every 120 s at most" \
	"$T/sorad.out" || fail "no line saying that polls are the fallback from the start"

names=(one two three)
for n in "${names[@]}"; do
	drop "$n.txt" $'---\nmodel: google/veo-3.1\nseconds: 4\n---\n'"A $n-legged stool in a quiet room (callback openrouter)."$'\n'
done
start=$(date +%s)
for n in "${names[@]}"; do
	# The first poll would come 60 s after the create: done well before it.
	wait_done "$n" 40
done
elapsed=$(($(date +%s) - start))
[ "$elapsed" -lt 60 ] || fail "the jobs took $elapsed s: they were polled, not called back"

for n in "${names[@]}"; do
	check_set "$n" 1280x720 4
	vid=$(jq -r .video_id "$T/state/jobs/$n.json")
	[ -n "$vid" ] && [ "$vid" != null ] || fail "$n has no video id"
	expect_creates "A $n-legged stool in a quiet room (callback openrouter)." 1
	grep -q "$vid.*callback: video.generation.completed: the job goes on from it" "$T/sorad.out" ||
		fail "$n ($vid) did not finish through its callback"
	wait_for 10 "the duplicate callback of $n to be logged" \
		grep -q "$vid.*callback: video.generation.completed again: a duplicate, ignored" "$T/sorad.out"
done

# What went on the wire: each create carried callback_url; nothing was asked of the
# sim between the create and the download.
expect_eq "create bodies carrying callback_url" 3 \
	"$(jq -r --arg cb "$CB" 'select(.callback_url == $cb) | .prompt' "$T/bodies.jsonl" | wc -l)"
stats=$(sim_stats)
creates=$(jq '[.requests["POST /v1/videos"][]] | add // 0' <<<"$stats")
retrieves=$(jq '[.requests["GET /v1/videos/{id}"][]] | add // 0' <<<"$stats")
downloads=$(jq '[.requests["GET /v1/videos/{id}/content"][]] | add // 0' <<<"$stats")
taken=$(grep -c "callback: the signed event says completed; taken as the service's answer" "$T/sorad.out" || true)
expect_eq "creates" 3 "$creates"
expect_eq "downloads" 3 "$downloads"
expect_eq "events taken as the answer" 3 "$taken"
expect_eq "retrieves (no poll, none asked by a callback)" 0 "$retrieves"
wait_for 10 "the sim to count six deliveries answered 204" \
	test "$(sim_stats | jq -r '.callbacks["204"] // 0')" -ge 6

# A callback signed with another secret: refused and logged, nothing retrieved.
printf '{"type":"video.generation.completed","created_at":"2026-12-06T20:00:00.000Z","data":{"id":"%s","status":"completed"}}' \
	"$vid" >"$T/forged.json"
now=$(date +%s)
sig=$({ printf '%s,' "$now"; cat "$T/forged.json"; } | openssl dgst -sha256 -hmac "whsec_not_sorads" -r | cut -d' ' -f1)
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "X-OpenRouter-Signature: t=$now,v1=$sig" --data-binary "@$T/forged.json" "$CB")
expect_eq "a callback signed with another secret" 401 "$code"
wait_for 10 "the refusal logged" \
	grep -q "callback: refused a request from 127.0.0.1 (HTTP 401): bad signature" "$T/sorad.out"
expect_eq "retrieves after the forged callback" 0 \
	"$(sim_stats | jq '[.requests["GET /v1/videos/{id}"][]] | add // 0')"

# The usual pace (first poll after 1 s, then every 2 s at most) with generation taking
# 2.5 s: since each create carries callback_url, polls are the fallback from the start
# (JOBS_CALLBACK_POLL_S apart), so again nothing is retrieved.
sorad_stop
sed -i 's/^poll_initial = .*/poll_initial = 1/; s/^poll_max = .*/poll_max = 2/' "$T/sorad.conf"
sorad_start
for n in four five; do
	drop "$n.txt" $'---\nmodel: google/veo-3.1\nseconds: 4\n---\n'"A $n-legged stool in a quiet room (callback openrouter)."$'\n'
done
for n in four five; do
	wait_done "$n" 40
done
taken=$(grep -c "callback: the signed event says completed; taken as the service's answer" "$T/sorad.out" || true)
expect_eq "events taken as the answer, five jobs" 5 "$taken"
expect_eq "retrieves with the usual pace (none)" 0 \
	"$(sim_stats | jq '[.requests["GET /v1/videos/{id}"][]] | add // 0')"

sorad_stop
if grep -rlF -- "$secret" "$T/logs" "$T/state" "$T/outbox" "$T/sorad.out" 2>/dev/null; then
	fail "the callback secret appears in the files above"
fi
echo ok
