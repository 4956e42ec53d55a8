#!/usr/bin/env bash
# sora-sim's profiles of real gateways, answer by answer: --profile litellm-veo (LiteLLM
# in front of Gemini Veo), --profile litellm-openai (LiteLLM in front of OpenAI),
# --profile portkey-pinned (Portkey with its lockfile's hono), the options they bundle
# used alone and overridden after a profile, and the [sim:status=WORD] prompt hook.
. "$(dirname "$0")/lib.sh"

# esc ID: the id percent-encoded for a path segment.
esc() {
	jq -rn --arg s "$1" '$s | @uri'
}

# inner ID: the text inside a LiteLLM id (base64 after "video_", padding restored).
inner() {
	local b=${1#video_}
	while [ $((${#b} % 4)) -ne 0 ]; do b="$b="; done
	printf '%s' "$b" | base64 -d
}

# raw_of ID: the upstream id inside a LiteLLM id.
raw_of() {
	inner "$1" | sed 's/^.*;video_id://'
}

# status_is ID STATUS: for wait_for (the id percent-encoded).
status_is() {
	[ "$(curl -sS -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos/$(esc "$1")" |
		jq -r .status)" = "$2" ]
}

# expect_no_header NAME: the last response has no such header.
expect_no_header() {
	[ -z "$(header_get "$1")" ] || fail "expected no $1 header, got '$(header_get "$1")'"
}

# expect_chunked: the last response came without Content-Length, chunked.
expect_chunked() {
	expect_no_header content-length
	expect_eq "transfer-encoding" chunked "$(header_get transfer-encoding)"
}

# has_key KEY: whether the last body (an object) has KEY at all.
has_key() {
	jq -e --arg k "$1" 'has($k)' "$T/body" >/dev/null
}

# --- litellm-veo -------------------------------------------------------------------
# First a video that never finishes, so that its running answers cannot race its
# completion however slow the machine is; the rest with a second sim whose videos finish.
sim_start --gen-ms 600000 --ffmpeg none --profile litellm-veo
prompt="a fox in the snow"
code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" -F model=veo-3 -F size=1280x720 -F seconds=8)
expect_eq "veo: create" 200 "$code"
id=$(body_get .id)
expect_eq "veo: create status" processing "$(body_get .status)"
expect_eq "veo: progress null" null "$(body_get .progress)"
has_key progress || fail "veo: progress should be present as null"
has_key prompt && fail "veo: the create answer has a prompt"
expect_eq "veo: model as the backend names it" veo-3.0-generate-preview "$(body_get .model)"
expect_eq "veo: created_at null" null "$(body_get .created_at)"
expect_eq "veo: size null" null "$(body_get .size)"
expect_eq "veo: usage" 8 "$(body_get .usage.duration_seconds)"
[ "${#id}" -ge 100 ] || fail "veo: id too short for LiteLLM's form: $id"
[[ $(inner "$id") =~ ^litellm:custom_llm_provider:gemini\;model_id:veo-3.0-generate-preview\;video_id:models/veo-3.0-generate-preview/operations/[0-9a-f]+$ ]] ||
	fail "veo: id inner form: $(inner "$id")"
raw=$(raw_of "$id")

code=$(sim_req GET "/v1/videos/$(esc "$id")")
expect_eq "veo: retrieve" 200 "$code"
rid=$(body_get .id)
[ "$rid" != "$id" ] || fail "veo: the retrieve answer's id should be re-encoded, not the create's"
expect_eq "veo: retrieve id re-encoded with model_id empty" \
	"litellm:custom_llm_provider:gemini;model_id:;video_id:$raw" "$(inner "$rid")"
expect_eq "veo: running status" processing "$(body_get .status)"
expect_eq "veo: retrieve progress" null "$(body_get .progress)"
expect_eq "veo: retrieve model" null "$(body_get .model)"
expect_eq "veo: retrieve usage" null "$(body_get .usage)"
has_key prompt && fail "veo: the retrieve answer has a prompt"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

sim_start --gen-ms 300 --ffmpeg none --profile litellm-veo
code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" -F model=veo-3 -F size=1280x720 -F seconds=8)
expect_eq "veo: create (a video that finishes)" 200 "$code"
id=$(body_get .id)
raw=$(raw_of "$id")
expect_eq "veo: retrieve (a video that finishes)" 200 "$(sim_req GET "/v1/videos/$(esc "$id")")"
rid=$(body_get .id)
# Both forms name the video, as LiteLLM decodes either.
wait_for 30 "veo video to complete" status_is "$rid" completed
expect_eq "veo: completed by the create's id" 200 "$(sim_req GET "/v1/videos/$(esc "$id")")"
expect_eq "veo: completed" completed "$(body_get .status)"
expect_eq "veo: completed progress" null "$(body_get .progress)"
expect_eq "veo: completed_at null" null "$(body_get .completed_at)"

code=$(sim_req GET /v1/videos)
expect_eq "veo: list (LiteLLM's 500)" 500 "$code"
expect_eq "veo: list error.code" '"500"' "$(jq -c .error.code "$T/body")"
body_get .error.message | grep -q '^litellm.APIConnectionError: Video list is not supported by Google Veo' ||
	fail "veo: list message: $(body_get .error.message)"

code=$(sim_req DELETE "/v1/videos/$(esc "$id")")
expect_eq "veo: delete (no route)" 405 "$code"
expect_eq "veo: delete body" '{"detail":"Method Not Allowed"}' "$(jq -c . "$T/body")"
expect_eq "veo: delete Allow" GET "$(header_get allow)"
expect_eq "veo: still there after the 405" 200 "$(sim_req GET "/v1/videos/$(esc "$id")")"

code=$(sim_req POST "/v1/videos/$(esc "$id")/remix" --form-string "prompt=$prompt, again")
expect_eq "veo: remix (LiteLLM's 500)" 500 "$code"
body_get .error.message | grep -q '^litellm.APIConnectionError: Video remix is not supported by Google Veo' ||
	fail "veo: remix message: $(body_get .error.message)"

code=$(sim_req GET "/v1/videos/$(esc "$id")/content" -o "$T/veo.mp4")
expect_eq "veo: content" 200 "$code"
expect_eq "veo: content type" video/mp4 "$(header_get content-type)"
expect_eq "veo: content disposition" "attachment; filename=video_$id.mp4" "$(header_get content-disposition)"
expect_chunked
expect_no_header accept-ranges
[ "$(head -c 8 "$T/veo.mp4" | tail -c 4)" = ftyp ] || fail "veo: content is not an MP4"
for variant in thumbnail spritesheet nonsense; do
	code=$(sim_req GET "/v1/videos/$(esc "$id")/content?variant=$variant" -o "$T/veo.$variant")
	expect_eq "veo: variant=$variant answered" 200 "$code"
	expect_eq "veo: variant=$variant type" video/mp4 "$(header_get content-type)"
	cmp -s "$T/veo.mp4" "$T/veo.$variant" || fail "veo: variant=$variant should be the MP4's bytes"
done
code=$(sim_req GET "/v1/videos/$(esc "$id")/content" -H 'Range: bytes=100-' -o "$T/veo.range")
expect_eq "veo: a Range gets everything" 200 "$code"
expect_no_header content-range
cmp -s "$T/veo.mp4" "$T/veo.range" || fail "veo: a ranged answer should hold every byte"

code=$(sim_req POST /v1/videos --form-string "prompt=x" -F model=sora-2)
expect_error 400 "$code" invalid_request_error model invalid_value

# [sim:status=cancelled] ends cancelled, is never downloadable.
code=$(sim_req POST /v1/videos --form-string "prompt=a cancelled fox [sim:status=cancelled]" -F model=veo-3.1)
expect_eq "veo: create a cancelled one" 200 "$code"
expect_eq "veo-3.1 as the backend names it" veo-3.1-generate-preview "$(body_get .model)"
cid=$(body_get .id)
wait_for 30 "the cancelled video" status_is "$cid" cancelled
code=$(sim_req GET "/v1/videos/$(esc "$cid")/content")
expect_error 404 "$code" invalid_request_error null video_not_ready
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# --- litellm-openai ----------------------------------------------------------------
# Running answers from a video that stays in_progress for 27 s (queued for the first
# tenth), so that a loaded machine cannot miss them; finished ones from a second sim.
sim_start --gen-ms 30000 --ffmpeg none --profile litellm-openai
prompt="a heron at dawn"
code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" -F seconds=8)
expect_eq "openai: create" 200 "$code"
id=$(body_get .id)
[[ $(body_get .status) =~ ^(queued|in_progress)$ ]] || fail "openai: create status $(body_get .status)"
[[ $(body_get .progress) =~ ^[0-9]+$ ]] || fail "openai: progress should be a number: $(body_get .progress)"
has_key prompt && fail "openai: the create answer has a prompt"
expect_eq "openai: usage" 8 "$(body_get .usage.duration_seconds)"
expect_eq "openai: model" sora-2 "$(body_get .model)"
[[ $(inner "$id") =~ ^litellm:custom_llm_provider:openai\;model_id:[0-9a-f]+\;video_id:video_[0-9a-f]{32}$ ]] ||
	fail "openai: id inner form: $(inner "$id")"
raw=$(raw_of "$id")
wait_for 30 "openai: in_progress" status_is "$id" in_progress
expect_eq "openai: retrieve" 200 "$(sim_req GET "/v1/videos/$(esc "$id")")"
[[ $(body_get .progress) =~ ^[0-9]+$ ]] || fail "openai: retrieve progress $(body_get .progress)"
expect_eq "openai: retrieve id re-encoded" "litellm:custom_llm_provider:openai;model_id:;video_id:$raw" \
	"$(inner "$(body_get .id)")"
expect_eq "openai: retrieve usage" null "$(body_get .usage)"
has_key prompt && fail "openai: the retrieve answer has a prompt"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

sim_start --gen-ms 300 --ffmpeg none --profile litellm-openai
code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" -F seconds=8)
expect_eq "openai: create (a video that finishes)" 200 "$code"
id=$(body_get .id)
raw=$(raw_of "$id")
wait_for 30 "openai video to complete" status_is "$id" completed

code=$(sim_req GET /v1/videos)
expect_eq "openai: list works" 200 "$code"
expect_eq "openai: list keeps the upstream's prompt" "$prompt" "$(body_get '.data[0].prompt')"
expect_eq "openai: list id re-encoded with the model" \
	"litellm:custom_llm_provider:openai;model_id:sora-2;video_id:$raw" "$(inner "$(body_get '.data[0].id')")"
expect_eq "openai: first_id is the upstream's" "$raw" "$(body_get .first_id)"
jq -e '.data[0] | has("usage") | not' "$T/body" >/dev/null || fail "openai: a list item has usage"
listed=$(body_get '.data[0].id')
expect_eq "openai: the listed id names the video" 200 "$(sim_req GET "/v1/videos/$(esc "$listed")")"
expect_eq "openai: the raw id names it too" 200 "$(sim_req GET "/v1/videos/$raw")"

expect_eq "openai: delete (no route)" 405 "$(sim_req DELETE "/v1/videos/$(esc "$id")")"
expect_eq "openai: delete body" "Method Not Allowed" "$(body_get .detail)"

code=$(sim_req GET "/v1/videos/$(esc "$id")/content" -o "$T/openai.mp4")
expect_eq "openai: content" 200 "$code"
expect_chunked
code=$(sim_req GET "/v1/videos/$(esc "$id")/content?variant=thumbnail" -o "$T/openai.thumb")
expect_eq "openai: thumbnail answered" 200 "$code"
expect_eq "openai: thumbnail type" video/mp4 "$(header_get content-type)"
cmp -s "$T/openai.mp4" "$T/openai.thumb" || fail "openai: the thumbnail should be the MP4's bytes"
expect_eq "openai: remix works" 200 \
	"$(sim_req POST "/v1/videos/$(esc "$id")/remix" --form-string "prompt=$prompt, remixed")"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# --- portkey-pinned ----------------------------------------------------------------
sim_start --gen-ms 300 --ffmpeg none --profile portkey-pinned
id=$(sim_create "a kite")
expect_chunked
expect_eq "portkey: OpenAI's ids" 1 "$([[ $id =~ ^video_[0-9a-f]{32}$ ]] && echo 1)"
has_key prompt || fail "portkey: the prompt passes through"
sim_wait_completed "$id"
expect_eq "portkey: retrieve" 200 "$(sim_req GET "/v1/videos/$id")"
expect_chunked
code=$(sim_req GET "/v1/videos/$id/content" -o "$T/pk.mp4")
expect_eq "portkey: content" 200 "$code"
expect_chunked
size=$(stat -c %s "$T/pk.mp4")
code=$(sim_req GET "/v1/videos/$id/content?variant=thumbnail" -o "$T/pk.webp")
expect_eq "portkey: thumbnail" 200 "$code"
expect_eq "portkey: the thumbnail is WebP" image/webp "$(header_get content-type)"
code=$(sim_req GET "/v1/videos/$id/content" -H 'Range: bytes=100-' -o "$T/pk.range")
expect_eq "portkey: a range" 206 "$code"
expect_chunked
expect_eq "portkey: Content-Range as announced" "bytes 100-$((size - 1))/$size" "$(header_get content-range)"
got=$(stat -c %s "$T/pk.range")
[ "$got" -gt $((size - 100)) ] ||
	fail "portkey: the 206 body should be longer than announced ($((size - 100))), got $got"
tail -c +101 "$T/pk.mp4" >"$T/pk.tail"
cmp -s "$T/pk.tail" "$T/pk.range" && fail "portkey: the 206 body should be corrupt"
# What came back is the tail read as UTF-8 text and encoded again.
python3 -c 'import sys; a=open(sys.argv[1],"rb").read(); b=open(sys.argv[2],"rb").read(); sys.exit(a.decode("utf-8","replace").encode("utf-8") != b)' \
	"$T/pk.tail" "$T/pk.range" || fail "portkey: the 206 body is not the tail decoded as UTF-8 with replacement"
expect_eq "portkey: delete" 200 "$(sim_req DELETE "/v1/videos/$id")"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# --- the options alone, and after a profile -----------------------------------------
alone=(--ffmpeg none --running-status running --queued-status pending --no-progress --retrieve-id empty)
sim_start --gen-ms 30000 "${alone[@]}" # running for 27 s: a loaded machine cannot miss it
id=$(sim_create "a single option")
expect_eq "alone: queued word" pending "$(body_get .status)"
expect_eq "alone: no progress" null "$(body_get .progress)"
expect_eq "alone: prompt kept" "a single option" "$(body_get .prompt)"
wait_for 30 "alone: the running word" status_is "$id" running
expect_eq "alone: retrieve" 200 "$(sim_req GET "/v1/videos/$id")"
expect_eq "alone: retrieve id empty" "" "$(body_get .id)"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
sim_start --gen-ms 300 "${alone[@]}"
id=$(sim_create "an expired one [sim:status=expired]")
wait_for 30 "alone: expired" status_is "$id" expired
expect_eq "alone: expired is not downloadable" 404 "$(sim_req GET "/v1/videos/$id/content")"
code=$(sim_req POST /v1/videos --form-string "prompt=bad hook [sim:status=no way]")
expect_error 400 "$code" invalid_request_error prompt invalid_value
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

sim_start --gen-ms 300 --ffmpeg none --profile litellm-veo --list-mode ok --retrieve-id raw \
	--running-status generating
code=$(sim_req POST /v1/videos --form-string "prompt=overridden" -F model=veo-3)
id=$(body_get .id)
expect_eq "override: retrieve" 200 "$(sim_req GET "/v1/videos/$(esc "$id")")"
expect_eq "override: retrieve id raw" "$(raw_of "$id")" "$(body_get .id)"
expect_eq "override: list works" 200 "$(sim_req GET /v1/videos)"
expect_eq "override: the listed id" "$id" "$(body_get '.data[0].id')"
expect_eq "override: the rest of the profile holds" 405 "$(sim_req DELETE "/v1/videos/$(esc "$id")")"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

"$SIM_BIN" --profile nope >"$T/out" 2>&1 && fail "an unknown profile was accepted"
grep -q "expected 'litellm-veo', 'litellm-openai' or 'portkey-pinned'" "$T/out" ||
	fail "unknown profile message: $(cat "$T/out")"
"$SIM_BIN" --retrieve-id other >"$T/out" 2>&1 && fail "--retrieve-id other was accepted"
"$SIM_BIN" --chunked sometimes >"$T/out" 2>&1 && fail "--chunked sometimes was accepted"
echo "PASS sim_profiles"
