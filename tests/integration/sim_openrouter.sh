#!/usr/bin/env bash
# sora-sim --protocol openrouter with curl: 202 create, the public catalog, a 400 for a
# duration the model does not take, and the signed callback of a completed and of a
# failed job received by a loopback listener (openrouter_receiver.mjs), whose signature
# is checked with Node's crypto, independently of the simulator's HMAC code.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null 2>&1 || { echo "SKIP sim_openrouter: node is not installed"; exit 0; }
echo "whsec_sim_openrouter_test" >"$T/secret"
PORT_FILE="$T/recv.port" LOG_FILE="$T/recv.log" SECRET=whsec_sim_openrouter_test \
	node "$(dirname "$0")/openrouter_receiver.mjs" &
_pids+=("$!")
wait_for 20 "the receiver to listen" test -s "$T/recv.port"
hook="http://127.0.0.1:$(cat "$T/recv.port")/hook"
sim_start --protocol openrouter --gen-ms 300 --callback-secret-file "$T/secret"

code=$(http_req GET "$SIM_URL/api/v1/videos/models")
expect_eq "catalog without a key" 200 "$code"
expect_eq "veo durations" "[4,6,8]" "$(body_get '.data[] | select(.id=="google/veo-3.1") | .supported_durations' | jq -c .)"

or_create() { sim_req POST /api/v1/videos -H 'Content-Type: application/json' -d "$1"; }
code=$(or_create '{"model":"google/veo-3.1","prompt":"curl: five","duration":5}')
expect_eq "duration 5" 400 "$code"
expect_eq "error.code" 400 "$(body_get .error.code)"
expect_eq "supported" "[4,6,8]" "$(body_get .error.metadata.supported | jq -c .)"
code=$(or_create '{"model":"google/veo-3.1","prompt":"curl: far","callback_url":"http://example.com/hook"}')
expect_eq "non-loopback callback_url" 400 "$code"

code=$(or_create "{\"model\":\"google/veo-3.1\",\"prompt\":\"curl: ok\",\"duration\":4,\"generate_audio\":false,\"callback_url\":\"$hook\"}")
expect_eq "create" 202 "$code"
expect_eq "status" pending "$(body_get .status)"
ok_id=$(body_get .id)
code=$(or_create "{\"model\":\"alibaba/wan-2.6\",\"prompt\":\"curl: [sim:fail]\",\"callback_url\":\"$hook\"}")
expect_eq "create failing" 202 "$code"
fail_id=$(body_get .id)

lines() { [ -s "$T/recv.log" ] && [ "$(wc -l <"$T/recv.log")" -ge "$1" ]; }
wait_for 30 "two callbacks" lines 2
entry() { jq -c --arg id "$1" 'select((.body | fromjson).data.id == $id)' "$T/recv.log"; }
e=$(entry "$ok_id")
expect_eq "signature verified by node" true "$(jq -r .verified <<<"$e")"
expect_eq "idempotency key" "$ok_id-completed" "$(jq -r '.headers["x-openrouter-idempotency-key"]' <<<"$e")"
expect_eq "type" video.generation.completed "$(jq -r '.body | fromjson | .type' <<<"$e")"
expect_eq "cost" 0.8 "$(jq -r '.body | fromjson | .data.usage.cost' <<<"$e")"
t=$(jq -r '.headers["x-openrouter-signature"] | capture("t=(?<t>[0-9]+)").t' <<<"$e")
[ $((t - $(jq -r .received_at <<<"$e"))) -le 5 ] && [ $(($(jq -r .received_at <<<"$e") - t)) -le 5 ] ||
	fail "signature timestamp $t is not now"
e=$(entry "$fail_id")
expect_eq "failed signature" true "$(jq -r .verified <<<"$e")"
expect_eq "failed type" video.generation.failed "$(jq -r '.body | fromjson | .type' <<<"$e")"
[ -n "$(jq -r '.body | fromjson | .data.error' <<<"$e")" ] || fail "failed event without error"

code=$(sim_req GET "/api/v1/videos/$ok_id")
expect_eq "poll" 200 "$code"
expect_eq "poll cost" 0.8 "$(body_get .usage.cost)"
code=$(sim_req GET "/api/v1/videos/$ok_id/content?index=0" -o "$T/v.mp4")
expect_eq "content" 200 "$code"
expect_eq "MP4" ftyp "$(head -c 8 "$T/v.mp4" | tail -c 4)"
# The download hooks of the OpenAI mode work here too, in OpenRouter's error shape.
code=$(or_create '{"model":"google/veo-3.1","prompt":"curl: gone [sim:content-status=410]","duration":4}')
expect_eq "create gone" 202 "$code"
gone_id=$(body_get .id)
done_poll() { [ "$(sim_req GET "/api/v1/videos/$gone_id")" = 200 ] && [ "$(body_get .status)" = completed ]; }
wait_for 30 "the hooked job to complete" done_poll
code=$(sim_req GET "/api/v1/videos/$gone_id/content?index=0")
expect_eq "content-status hook" 410 "$code"
expect_eq "its error code" 410 "$(body_get .error.code)"
expect_eq "callback stats" 2 "$(sim_stats | jq -r '.callbacks["204"]')"
echo "PASS sim_openrouter"
