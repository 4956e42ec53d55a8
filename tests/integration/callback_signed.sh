#!/usr/bin/env bash
# Signed completion callbacks (callback.h): sorad listens on callback_listen, apart
# from the status endpoint, and takes only POSTs to callback_url's path that carry
# X-OpenRouter-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>,<raw body>"> under the
# secret of callback_secret_file, as OpenRouter's guide "Get Video Results with
# Webhooks" gives it. Signatures here are made with openssl(1), independently of
# sorad's code. Refused, and logged: unsigned, wrong secret, other bytes signed, a
# stale timestamp, an oversize body, a signed body that is no event. Accepted (204):
# a good one, whose signed event is taken as the service's answer: with polling slowed to 60 s,
# the job completes right after the callback, not at its next poll (and from then on
# polls are only the fallback, JOBS_CALLBACK_POLL_S apart). A duplicate and an
# unknown job are answered 204 and change nothing. The secret never reaches the logs.
#
# The daemon talks to the OpenAI-mode sim here, with callback_listen alone (no
# callback_url, which only api_protocol = openrouter sends: the listener takes "/", as
# for a workspace's default URL), and the test plays the sender, with the video id the
# sim gave the job. Last, sora-sim's OpenRouter mode sends its own signed callbacks to
# the listener (jobs created with curl): they pass, and with another secret they are
# refused. callback_openrouter.sh is the whole path: sorad's OpenRouter creates carry
# callback_url and the sim's callbacks finish the jobs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

secret="whsec_sorad_cb_$RANDOM$RANDOM"
first_secret=$secret
printf '%s\n' "$secret" >"$T/cbsecret"
chmod 600 "$T/cbsecret"
sim_start --gen-ms 300 --seed 11
sorad_conf "callback_listen = \"127.0.0.1:0\"" \
	"callback_secret_file = \"$T/cbsecret\""
# Polls no sooner than a minute apart: only the callback can finish the job in time.
sed -i 's/^poll_initial = .*/poll_initial = 60/; s/^poll_max = .*/poll_max = 60/' "$T/sorad.conf"
sorad_start

port=$(sed -n 's|.*callback: listening on http://127\.0\.0\.1:\([0-9]*\)/ .*|\1|p' \
	"$T/sorad.out" | tail -1)
[ -n "$port" ] || fail "no 'callback: listening on' line for / in $T/sorad.out"
CB="http://127.0.0.1:$port/"

# sign SECRET T FILE: the hex HMAC-SHA256 of "<T>,<the bytes of FILE>".
sign() {
	{ printf '%s,' "$2"; cat "$3"; } | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1
}
# post FILE [SIGNATURE]: POSTs FILE's bytes to the callback URL; prints the status.
post() {
	local args=(-X POST -H 'Content-Type: application/json' --data-binary "@$1")
	[ -n "${2:-}" ] && args+=(-H "X-OpenRouter-Signature: $2")
	curl -sS -o "$T/cb.body" -w '%{http_code}' "${args[@]}" "$CB"
}
# event FILE ID STATUS: writes a callback event as OpenRouter sends it (no newline).
event() {
	printf '{"type":"video.generation.%s","created_at":"2026-12-06T20:00:00.000Z","data":{"id":"%s","status":"%s","generation_id":"gen-1","model":"sora-2"}}' \
		"$3" "$2" "$3" >"$1"
}
refusals() {
	grep -c 'callback: refused a request' "$T/sorad.out" || true
}
expect_refused() { # WHAT EXPECTED_CODE GOT_CODE LOG_WORDS
	expect_eq "$1" "$2" "$3"
	wait_for 10 "a log line for: $1" grep -q "callback: refused a request from 127.0.0.1 (HTTP $2): $4" "$T/sorad.out"
}

# ---- refusals, before any job exists --------------------------------------------------
event "$T/unknown.json" video_nobody_has completed
now=$(date +%s)
code=$(curl -sS -o /dev/null -w '%{http_code}' "$CB")
expect_refused "GET on the callback path" 405 "$code" "only POST"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/unknown.json" "http://127.0.0.1:$port/other")
expect_refused "POST on another path" 404 "$code" "not the callback path"
code=$(post "$T/unknown.json")
expect_refused "an unsigned body" 401 "$code" "unsigned"
code=$(post "$T/unknown.json" "t=$now,v1=$(sign "not-the-secret" "$now" "$T/unknown.json")")
expect_refused "a body signed with another secret" 401 "$code" "bad signature"
printf '{"type":"video.generation.completed","data":{"id":"video_other","status":"completed"}}' >"$T/other.json"
code=$(post "$T/unknown.json" "t=$now,v1=$(sign "$secret" "$now" "$T/other.json")")
expect_refused "a signature over other bytes" 401 "$code" "bad signature"
old=$((now - 600))
code=$(post "$T/unknown.json" "t=$old,v1=$(sign "$secret" "$old" "$T/unknown.json")")
expect_refused "a well-signed body ten minutes old" 401 "$code" "timestamp too old"
code=$(post "$T/unknown.json" "v1=$(sign "$secret" "$now" "$T/unknown.json")")
expect_refused "a signature without t=" 401 "$code" "malformed"
head -c 70000 /dev/zero | tr '\0' 'x' >"$T/big.json"
code=$(post "$T/big.json" "t=$now,v1=$(sign "$secret" "$now" "$T/big.json")")
expect_refused "a 70 KB body" 413 "$code" "the body is larger"
printf '[1,2,3]' >"$T/array.json"
code=$(post "$T/array.json" "t=$now,v1=$(sign "$secret" "$now" "$T/array.json")")
expect_refused "a signed body that is no event" 400 "$code" "signed, but not a callback event"
[ "$(refusals)" = 9 ] || fail "expected 9 refusal lines, got $(refusals)"

# ---- an unknown job: answered, ignored -----------------------------------------------
code=$(post "$T/unknown.json" "t=$now,v1=$(sign "$secret" "$now" "$T/unknown.json")")
expect_eq "a good callback for a job sorad does not know" 204 "$code"
wait_for 10 "the unknown job logged" grep -q "video_nobody_has.*callback: video.generation.completed for a video no job of sorad's has" "$T/sorad.out"

# ---- a good callback finishes its job before the next poll ----------------------------
prompt='A paper boat on a rain gutter, macro shot.'
drop cb1.txt "$prompt"
running_with_video() {
	[ "$(jq -r 'select(.video_id != null) | .state' "$T/state/jobs/$1.json" 2>/dev/null)" = running ]
}
wait_for 20 "cb1 to be running with a video id" running_with_video cb1
vid=$(jq -r .video_id "$T/state/jobs/cb1.json")
sim_wait_completed "$vid"
[ "$(jq -r .state "$T/state/jobs/cb1.json")" = running ] ||
	fail "cb1 left running before the callback (polls should be a minute apart)"
event "$T/good.json" "$vid" completed
now=$(date +%s)
code=$(post "$T/good.json" "t=$now,v1=$(sign "$secret" "$now" "$T/good.json")")
expect_eq "a good callback" 204 "$code"
wait_for 10 "the callback to finish cb1" grep -q "$vid.*callback: video.generation.completed: the job goes on from it" "$T/sorad.out"
grep -q "cb1.*$vid.*callback: the signed event says completed; taken as the service's answer, no retrieve" "$T/sorad.out" ||
	fail "no debug line of cb1 taking the signed event as the answer"
wait_done cb1 20
grep -q "callbacks arrive: running jobs are polled every 120 s at most" "$T/sorad.out" ||
	fail "no line saying that polls became the fallback"
check_set cb1 1280x720 4
[ "$(sim_created_count "$prompt")" = 1 ] || fail "cb1 was created more than once"

# ---- the same event again (a retried delivery, or a replay within the window) ---------
now=$(date +%s)
code=$(post "$T/good.json" "t=$now,v1=$(sign "$secret" "$now" "$T/good.json")")
expect_eq "the same callback again" 204 "$code"
wait_for 10 "the duplicate logged" grep -q "$vid.*callback: video.generation.completed again: a duplicate, ignored" "$T/sorad.out"
[ "$(refusals)" = 9 ] || fail "good callbacks were refused: $(refusals) refusal lines"

# ---- a reload with a new secret (rotated at OpenRouter): the listener stays, the old
# secret is refused from then on, the new one taken ---------------------------------
new_secret="whsec_sorad_cb_new_$RANDOM$RANDOM"
printf '%s\n' "$new_secret" >"$T/cbsecret.new"
chmod 600 "$T/cbsecret.new"
mv "$T/cbsecret.new" "$T/cbsecret"
kill -HUP "$SORAD_PID"
wait_for 10 "the reload" grep -q "reload: configuration reloaded" "$T/sorad.out"
event "$T/after.json" video_after_reload completed
now=$(date +%s)
code=$(post "$T/after.json" "t=$now,v1=$(sign "$secret" "$now" "$T/after.json")")
expect_refused "the old secret after the reload" 401 "$code" "bad signature"
code=$(post "$T/after.json" "t=$now,v1=$(sign "$new_secret" "$now" "$T/after.json")")
expect_eq "the new secret after the reload, same port" 204 "$code"
secret=$new_secret

# ---- sora-sim's own OpenRouter callbacks reach the listener and pass -----------------
# (The sim signs them as the guide says; sorad knows none of its jobs, so each is
# answered 204 and logged as ignored.) The same with another secret: refused, 401.
or_sim() { # SECRET_FILE: starts an OpenRouter-mode sim that signs with it
	sim_start --protocol openrouter --gen-ms 200 --callback-secret-file "$1"
}
or_create() { # PROMPT: a job whose callback goes to sorad; prints its id
	local code
	code=$(sim_req POST /api/v1/videos -H 'Content-Type: application/json' \
		-d "{\"model\":\"google/veo-3.1\",\"prompt\":\"$1\",\"duration\":4,\"callback_url\":\"$CB\"}")
	expect_eq "OpenRouter create" 202 "$code"
	body_get .id
}
sim_callbacks() { # OUTCOME COUNT: the sim counted at least COUNT deliveries answered so
	[ "$(sim_stats | jq -r --arg o "$1" '.callbacks[$o] // 0')" -ge "$2" ]
}
or_sim "$T/cbsecret"
or_id=$(or_create "interop good")
wait_for 30 "the sim's signed callback to be taken" grep -q "$or_id.*callback: video.generation.completed for a video no job of sorad's has" "$T/sorad.out"
wait_for 10 "the sim to count a 204" sim_callbacks 204 1
printf 'whsec_not_sorads\n' >"$T/othersecret"
or_sim "$T/othersecret"
before=$(refusals)
or_create "interop other secret" >/dev/null
wait_for 30 "the sim to count a 401" sim_callbacks 401 1
[ "$(refusals)" -gt "$before" ] || fail "the other secret's callback was not logged as refused"
grep -q "(HTTP 401): bad signature" "$T/sorad.out" || fail "no 'bad signature' refusal for the other secret"

sorad_stop
for k in "$first_secret" "$secret"; do
	if grep -rlF -- "$k" "$T/logs" "$T/state" "$T/outbox" "$T/sorad.out" 2>/dev/null; then
		fail "a callback secret appears in the files above"
	fi
done
echo ok
