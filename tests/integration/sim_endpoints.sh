#!/usr/bin/env bash
# Every endpoint of sora-sim with curl: create (multipart and JSON), retrieve with
# openai-poll-after-ms, delete, remix, 404/405/401/413, and the stats counters.
source "$(dirname "$0")/lib.sh"

# A sim whose videos never finish, for the pending-state checks.
sim_start --gen-ms 600000 --poll-after-ms 250
pending=$(sim_create "stays pending")
code=$(sim_req GET "/v1/videos/$pending")
expect_eq "retrieve pending" 200 "$code"
expect_eq "pending status" queued "$(body_get .status)"
expect_eq "openai-poll-after-ms" 250 "$(header_get openai-poll-after-ms)"
code=$(sim_req GET "/v1/videos/$pending/content")
expect_error 404 "$code" invalid_request_error null video_not_ready
code=$(sim_req POST "/v1/videos/$pending/remix" -H 'Content-Type: application/json' -d '{"prompt":"x"}')
expect_error 400 "$code" invalid_request_error null video_not_completed
# Deleting works in any state.
code=$(sim_req DELETE "/v1/videos/$pending")
expect_eq "delete pending" 200 "$code"

sim_start --gen-ms 200
# Create, multipart with defaults: every field of the Video object is present.
code=$(sim_req POST /v1/videos -F "prompt=a red fox in the snow")
expect_eq "create status" 200 "$code"
id=$(body_get .id)
[[ $id =~ ^video_[0-9a-f]{32}$ ]] || fail "id '$id' is not video_ + 32 hex"
expect_eq "object" video "$(body_get .object)"
expect_eq "status" queued "$(body_get .status)"
expect_eq "progress" 0 "$(body_get .progress)"
expect_eq "default model" sora-2 "$(body_get .model)"
expect_eq "default seconds" 4 "$(body_get .seconds)"
expect_eq "seconds is a string" string "$(body_get '.seconds|type')"
expect_eq "default size" 720x1280 "$(body_get .size)"
expect_eq "prompt" "a red fox in the snow" "$(body_get .prompt)"
for k in completed_at error expires_at remixed_from_video_id; do
	expect_eq "$k present as null" "true" "$(body_get "has(\"$k\") and .$k == null")"
done
expect_eq "created_at is a number" number "$(body_get '.created_at|type')"
[ -n "$(header_get x-request-id)" ] || fail "no x-request-id header"

# Create, JSON.
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' \
	-d '{"prompt":"json body","model":"sora-2-pro","seconds":"8","size":"1792x1024"}')
expect_eq "JSON create" 200 "$code"
jid=$(body_get .id)
expect_eq "JSON model" sora-2-pro "$(body_get .model)"
expect_eq "JSON seconds" 8 "$(body_get .seconds)"
expect_eq "JSON size" 1792x1024 "$(body_get .size)"

# Retrieve until completed: completed_at, expires_at = completed_at + 3600, progress 100.
sim_wait_completed "$id"
code=$(sim_req GET "/v1/videos/$id")
expect_eq "retrieve" 200 "$code"
expect_eq "progress when completed" 100 "$(body_get .progress)"
expect_eq "expires_at - completed_at" 3600 "$(body_get '.expires_at - .completed_at')"
[ -z "$(header_get openai-poll-after-ms)" ] || fail "poll-after header on a completed video"

# Remix: a new queued video with the source's model, size and seconds.
sim_wait_completed "$jid"
code=$(sim_req POST "/v1/videos/$jid/remix" -H 'Content-Type: application/json' -d '{"prompt":"now at night"}')
expect_eq "remix" 200 "$code"
rid=$(body_get .id)
[ "$rid" != "$jid" ] || fail "remix returned the source id"
expect_eq "remixed_from_video_id" "$jid" "$(body_get .remixed_from_video_id)"
expect_eq "remix status" queued "$(body_get .status)"
expect_eq "remix model" sora-2-pro "$(body_get .model)"
expect_eq "remix size" 1792x1024 "$(body_get .size)"
expect_eq "remix seconds" 8 "$(body_get .seconds)"
expect_eq "remix prompt" "now at night" "$(body_get .prompt)"
code=$(sim_req POST "/v1/videos/$jid/remix" -F "prompt=multipart remix")
expect_eq "multipart remix" 200 "$code"
code=$(sim_req POST "/v1/videos/$jid/remix" -H 'Content-Type: application/json' -d '{}')
expect_error 400 "$code" invalid_request_error prompt missing_required_parameter
code=$(sim_req POST "/v1/videos/video_nope/remix" -H 'Content-Type: application/json' -d '{"prompt":"x"}')
expect_error 404 "$code" invalid_request_error null video_not_found

# Delete: the deleted object, then 404 for everything about that id.
code=$(sim_req DELETE "/v1/videos/$id")
expect_eq "delete" 200 "$code"
expect_eq "delete body" "{\"id\":\"$id\",\"object\":\"video.deleted\",\"deleted\":true}" "$(jq -c . "$T/body")"
code=$(sim_req GET "/v1/videos/$id")
expect_error 404 "$code" invalid_request_error null video_not_found
code=$(sim_req GET "/v1/videos/$id/content")
expect_error 404 "$code" invalid_request_error null video_not_found
code=$(sim_req DELETE "/v1/videos/$id")
expect_error 404 "$code" invalid_request_error null video_not_found

# Unknown video, unknown route, wrong method.
code=$(sim_req GET /v1/videos/video_00000000000000000000000000000000)
expect_error 404 "$code" invalid_request_error null video_not_found
code=$(sim_req GET /v1/nothing-here)
expect_eq "unknown route" 404 "$code"
code=$(sim_req GET /elsewhere)
expect_eq "route outside /v1" 404 "$code"
code=$(sim_req PUT /v1/videos)
expect_eq "PUT /v1/videos" 405 "$code"
expect_eq "Allow on /v1/videos" "GET, POST" "$(header_get allow)"
code=$(sim_req POST "/v1/videos/$jid")
expect_eq "POST /v1/videos/{id}" 405 "$code"
expect_eq "Allow on /v1/videos/{id}" "GET, DELETE" "$(header_get allow)"
code=$(sim_req DELETE "/v1/videos/$jid/content")
expect_eq "DELETE content" 405 "$code"

# 401: no header, an empty key, another scheme (any non-empty key is fine by default).
code=$(curl -sS -o "$T/body" -w '%{http_code}' "$SIM_URL/v1/videos")
expect_error 401 "$code" invalid_request_error null invalid_api_key
code=$(curl -sS -o "$T/body" -w '%{http_code}' -H 'Authorization: Bearer ' "$SIM_URL/v1/videos")
expect_error 401 "$code" invalid_request_error null invalid_api_key
code=$(curl -sS -o "$T/body" -w '%{http_code}' -H 'Authorization: Basic Zm9vOmJhcg==' "$SIM_URL/v1/videos")
expect_error 401 "$code" invalid_request_error null invalid_api_key
code=$(curl -sS -o "$T/body" -w '%{http_code}' -H 'Authorization: Bearer whatever' "$SIM_URL/v1/videos")
expect_eq "any key without --api-key" 200 "$code"

# Stats: endpoint templates and statuses as strings; prompts of created videos only.
sim_stats >"$T/stats"
expect_eq "creates counted" 2 "$(jq -r '.requests["POST /v1/videos"]["200"]' "$T/stats")"
expect_eq "remixes counted" 2 "$(jq -r '.requests["POST /v1/videos/{id}/remix"]["200"]' "$T/stats")"
expect_eq "remix 404 counted" 1 "$(jq -r '.requests["POST /v1/videos/{id}/remix"]["404"]' "$T/stats")"
expect_eq "deletes counted" 1 "$(jq -r '.requests["DELETE /v1/videos/{id}"]["200"]' "$T/stats")"
expect_eq "list 401s counted" 3 "$(jq -r '.requests["GET /v1/videos"]["401"]' "$T/stats")"
expect_eq "prompt counted" 1 "$(jq -r '.creates_by_prompt["a red fox in the snow"]' "$T/stats")"
expect_eq "remix prompt counted" 1 "$(jq -r '.creates_by_prompt["now at night"]' "$T/stats")"
curl -fsS -X POST "$SIM_URL/__sim/reset" >/dev/null
expect_eq "stats after reset" '{}' "$(sim_stats | jq -c '.creates_by_prompt')"

# --api-key makes the key exact.
sim_start --api-key sk-right --gen-ms 100
code=$(sim_req GET /v1/videos)
expect_error 401 "$code" invalid_request_error null invalid_api_key
grep -q "sk-test" "$T/body" && fail "the 401 body echoes the key that was sent"
SIM_KEY=sk-right
code=$(sim_req GET /v1/videos)
expect_eq "right key" 200 "$code"

# 413 above the body limit (declared Content-Length and chunked).
sim_start --max-body 1000
big=$(head -c 3000 /dev/zero | tr '\0' a)
code=$(sim_req POST /v1/videos -F "prompt=$big")
expect_eq "declared oversize body" 413 "$code"
code=$(sim_req POST /v1/videos -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
	-d "{\"prompt\":\"$big\"}")
expect_eq "chunked oversize body" 413 "$code"
expect_eq "nothing created by 413s" '{}' "$(sim_stats | jq -c '.creates_by_prompt')"
echo "PASS sim_endpoints"
