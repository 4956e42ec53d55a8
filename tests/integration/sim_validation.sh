#!/usr/bin/env bash
# Create-time validation with the API's error bodies: model, seconds, size per model,
# prompt length, JSON types, reference images (format and pixel size, as a file part,
# a bracket field or a data URL) and moderation. Rejected requests create nothing.
source "$(dirname "$0")/lib.sh"
sim_start --gen-ms 100

code=$(sim_req POST /v1/videos -F prompt=x -F model=sora-3)
expect_error 400 "$code" invalid_request_error model invalid_value
expect_eq "model message" "Invalid value: 'sora-3'. Supported values are: 'sora-2' and 'sora-2-pro'." \
	"$(body_get .error.message)"

code=$(sim_req POST /v1/videos -F prompt=x -F seconds=10)
expect_error 400 "$code" invalid_request_error seconds invalid_value
expect_eq "seconds message" "Invalid value: '10'. Supported values are: '4', '8', '12', '16', and '20'." \
	"$(body_get .error.message)"

code=$(sim_req POST /v1/videos -F prompt=x -F size=640x480)
expect_error 400 "$code" invalid_request_error size invalid_value

# Sizes per model: sora-2 has only the 720p pair, sora-2-pro all six.
for s in 1024x1792 1792x1024 1080x1920 1920x1080; do
	code=$(sim_req POST /v1/videos -F prompt=x -F model=sora-2 -F "size=$s")
	expect_error 400 "$code" invalid_request_error size invalid_value
done
for s in 720x1280 1280x720 1024x1792 1792x1024 1080x1920 1920x1080; do
	code=$(sim_req POST /v1/videos -F "prompt=pro $s" -F model=sora-2-pro -F "size=$s" -F seconds=4)
	expect_eq "sora-2-pro $s" 200 "$code"
done
for sec in 4 8 12 16 20; do
	code=$(sim_req POST /v1/videos -F "prompt=sec $sec" -F "seconds=$sec")
	expect_eq "seconds $sec" 200 "$code"
done

# Prompt: required, 1..32000 characters (characters, not bytes).
code=$(sim_req POST /v1/videos -F model=sora-2)
expect_error 400 "$code" invalid_request_error prompt missing_required_parameter
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' -d '{"prompt":""}')
expect_error 400 "$code" invalid_request_error prompt string_below_min_length
printf '%32001s' '' | tr ' ' p >"$T/long"
code=$(sim_req POST /v1/videos -F "prompt=<$T/long")
expect_error 400 "$code" invalid_request_error prompt string_above_max_length
printf '%32000s' '' | tr ' ' p >"$T/max"
code=$(sim_req POST /v1/videos -F "prompt=<$T/max")
expect_eq "prompt of 32000 characters" 200 "$code"
printf '%16000s' '' | sed 's/ /é/g' >"$T/utf8"	# 16000 characters, 32000 bytes
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' \
	--data-binary "{\"prompt\":\"$(cat "$T/utf8")\"}")
expect_eq "multibyte prompt under the limit" 200 "$code"

# JSON types and syntax.
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' -d '{"prompt":"x","seconds":8}')
expect_error 400 "$code" invalid_request_error seconds invalid_type
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' -d '{"prompt":"x",')
expect_error 400 "$code" invalid_request_error null null
code=$(sim_req POST /v1/videos -H 'Content-Type: text/plain' -d 'prompt=x')
expect_eq "unsupported content type" 400 "$code"

# Reference images made with ffmpeg: the right size in each format passes, a wrong
# size or a non-image is a 400 on input_reference.
mk() { ffmpeg -nostdin -loglevel error -y -f lavfi -i "color=c=blue:s=$1" -frames:v 1 "$2"; }
mk 720x1280 "$T/ok.png"
mk 720x1280 "$T/ok.jpg"
mk 720x1280 "$T/ok.webp"
mk 1280x720 "$T/wide.png"
mk 640x480 "$T/small.jpg"
echo "not an image at all" >"$T/notes.txt"
# WebP in its three layouts: lossy (VP8), lossless (VP8L), extended with alpha (VP8X).
ffmpeg -nostdin -loglevel error -y -f lavfi -i color=c=blue:s=720x1280 -frames:v 1 -c:v libwebp -lossless 1 "$T/ok-lossless.webp"
ffmpeg -nostdin -loglevel error -y -f lavfi -i "color=c=blue@0.5:s=720x1280,format=yuva420p" -frames:v 1 -c:v libwebp "$T/ok-alpha.webp"
expect_eq "lossless WebP chunk" VP8L "$(dd if="$T/ok-lossless.webp" bs=1 skip=12 count=4 2>/dev/null)"
expect_eq "alpha WebP chunk" VP8X "$(dd if="$T/ok-alpha.webp" bs=1 skip=12 count=4 2>/dev/null)"
for f in ok.png ok.jpg ok.webp ok-lossless.webp ok-alpha.webp; do
	code=$(sim_req POST /v1/videos -F "prompt=ref $f" -F size=720x1280 -F "input_reference=@$T/$f")
	expect_eq "reference $f" 200 "$code"
done
code=$(sim_req POST /v1/videos -F "prompt=wide ref" -F size=1280x720 -F "input_reference=@$T/wide.png;type=image/png")
expect_eq "1280x720 reference for 1280x720" 200 "$code"
code=$(sim_req POST /v1/videos -F "prompt=bad ref" -F size=720x1280 -F "input_reference=@$T/wide.png")
expect_error 400 "$code" invalid_request_error input_reference invalid_value
code=$(sim_req POST /v1/videos -F "prompt=bad ref" -F "input_reference=@$T/small.jpg;type=image/jpeg")
expect_error 400 "$code" invalid_request_error input_reference invalid_value
code=$(sim_req POST /v1/videos -F "prompt=bad ref" -F "input_reference=@$T/notes.txt;type=image/png")
expect_error 400 "$code" invalid_request_error input_reference invalid_image_format
# Bracket-encoded multipart fields and JSON objects.
code=$(sim_req POST /v1/videos -F "prompt=url ref" -F "input_reference[image_url]=https://example.com/a.png")
expect_eq "bracket image_url" 200 "$code"
code=$(sim_req POST /v1/videos -F "prompt=file id ref" -F "input_reference[file_id]=file-abc")
expect_eq "bracket file_id" 200 "$code"
b64=$(base64 -w0 "$T/ok.png")
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' \
	-d "{\"prompt\":\"data url ref\",\"input_reference\":{\"image_url\":\"data:image/png;base64,$b64\"}}")
expect_eq "data URL reference" 200 "$code"
b64=$(base64 -w0 "$T/wide.png")
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' \
	-d "{\"prompt\":\"bad ref\",\"input_reference\":{\"image_url\":\"data:image/png;base64,$b64\"}}")
expect_error 400 "$code" invalid_request_error input_reference.image_url invalid_value
code=$(sim_req POST /v1/videos -H 'Content-Type: application/json' \
	-d '{"prompt":"bad ref","input_reference":{"image_url":"https://x/a.png","file_id":"file-1"}}')
expect_error 400 "$code" invalid_request_error input_reference invalid_value

# Moderation: exactly the real service's body (the daemon keys on the code).
code=$(sim_req POST /v1/videos -F "prompt=something [sim:moderation] here")
expect_eq "moderation status" 400 "$code"
expect_eq "moderation body" \
	'{"error":{"message":"Your request was blocked by our moderation system.","type":"invalid_request_error","param":"prompt","code":"moderation_blocked"}}' \
	"$(jq -c . "$T/body")"

# Nothing rejected was created.
sim_stats >"$T/stats"
expect_eq "no video for rejected prompts" 0 "$(jq -r '[.creates_by_prompt | to_entries[] |
	select(.key == "x" or .key == "bad ref" or (.key | test("moderation")))] | length' "$T/stats")"
expect_eq "accepted creates" 22 "$(jq -r '.requests["POST /v1/videos"]["200"]' "$T/stats")"
echo "PASS sim_validation"
