#!/usr/bin/env bash
# sora-sim's gateway look-alikes: --path-prefix moves the API (and only the API),
# --auth-header api-key accepts the key in that header and nowhere else, --model
# replaces the model table, --id-style litellm issues LiteLLM's long base64 ids that
# work in every route; bad option values are usage errors.
. "$(dirname "$0")/lib.sh"

# req METHOD URL-PATH HEADER [curl args...]: prints the status; body in $T/body.
req() {
	local method=$1 path=$2 header=$3
	shift 3
	curl -sS -X "$method" -o "$T/body" -w '%{http_code}' -H "$header" "$@" "$SIM_URL$path"
}

sim_start --gen-ms 300 --api-key sk-az --path-prefix /openai/v1/ --auth-header api-key \
	--model my-sora-deployment:1280x720,720x1280:4,8,12 --id-style litellm

expect_eq "create under /openai/v1 with api-key" 200 \
	"$(req POST /openai/v1/videos 'api-key: sk-az' -F prompt=boat -F model=my-sora-deployment -F seconds=8)"
id=$(body_get .id)
expect_eq "create under /v1" 404 "$(req POST /v1/videos 'api-key: sk-az' -F prompt=boat)"
code=$(req POST /openai/v1/videos 'Authorization: Bearer sk-az' -F prompt=boat -F model=my-sora-deployment)
expect_error 401 "$code" invalid_request_error null invalid_api_key
body_get .error.message | grep -q "api-key: YOUR_KEY" || fail "the 401 should say how to send the key"
code=$(req POST /openai/v1/videos 'api-key: wrong' -F prompt=boat -F model=my-sora-deployment)
expect_error 401 "$code" invalid_request_error null invalid_api_key
code=$(req POST /openai/v1/videos 'api-key: sk-az' -F prompt=boat -F model=sora-2)
expect_error 400 "$code" invalid_request_error model invalid_value
body_get .error.message | grep -q "'my-sora-deployment'" || fail "the 400 should list the deployment"
code=$(req POST /openai/v1/videos 'api-key: sk-az' -F prompt=boat -F model=my-sora-deployment -F seconds=16)
expect_error 400 "$code" invalid_request_error seconds invalid_value
code=$(req POST /openai/v1/videos 'api-key: sk-az' -F prompt=boat -F model=my-sora-deployment -F size=1792x1024)
expect_error 400 "$code" invalid_request_error size invalid_value
expect_eq "stats stay at /__sim/stats" 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$SIM_URL/__sim/stats")"

# The LiteLLM id: video_ + standard base64 (no '/', which no route could carry) of
# LiteLLM's string, usable (URL-escaped) in retrieve, list cursors, content, delete.
[ "${#id}" -ge 150 ] || fail "expected a LiteLLM id of about 210 characters, got $id"
[[ $id =~ ^video_[A-Za-z0-9+=]+$ ]] || fail "the id is not video_ + base64 without '/': $id"
inner=$(printf '%s' "${id#video_}" | base64 -d) || fail "the id does not decode: $id"
[[ $inner =~ ^litellm:custom_llm_provider:openai\;model_id:[0-9a-f]+\;video_id:video_[0-9a-f]{32}$ ]] ||
	fail "decoded id: $inner"
esc=$(jq -rn --arg s "$id" '$s | @uri')
wait_for 20 "the video to complete" \
	sh -c "curl -sS -H 'api-key: sk-az' '$SIM_URL/openai/v1/videos/$esc' | jq -e '.status == \"completed\"'"
expect_eq "retrieve" 200 "$(req GET "/openai/v1/videos/$esc" 'api-key: sk-az')"
expect_eq "retrieve: the same id" "$id" "$(body_get .id)"
expect_eq "list" 200 "$(req GET "/openai/v1/videos?limit=10" 'api-key: sk-az')"
expect_eq "list: the id" "$id" "$(body_get '.data[0].id')"
expect_eq "list after it" 200 "$(req GET "/openai/v1/videos?after=$esc" 'api-key: sk-az')"
expect_eq "content" 200 "$(req GET "/openai/v1/videos/$esc/content" 'api-key: sk-az')"
[ "$(head -c 8 "$T/body" | tail -c 4)" = ftyp ] || fail "content is not an MP4"
expect_eq "remix" 200 "$(req POST "/openai/v1/videos/$esc/remix" 'api-key: sk-az' -H 'Content-Type: application/json' -d '{"prompt":"at night"}')"
expect_eq "remix: the source" "$id" "$(body_get .remixed_from_video_id)"
expect_eq "delete" 200 "$(req DELETE "/openai/v1/videos/$esc" 'api-key: sk-az')"

# Bad values are usage errors (64) with a message.
for bad in "--path-prefix openai" "--auth-header x-key" "--id-style azure" "--model nosizes" \
	"--model m:12x:4" "--model m:1280x720:0" "--model m:1280x720,:4"; do
	rc=0
	# shellcheck disable=SC2086 # the option and its value are two words
	"$SIM_BIN" $bad --listen 127.0.0.1:0 >"$T/bad.out" 2>&1 || rc=$?
	expect_eq "sora-sim $bad exit status" 64 "$rc"
	grep -q -e "${bad%% *}" "$T/bad.out" || fail "sora-sim $bad: the message should name the option"
done
echo "sim_gateway: ok"
