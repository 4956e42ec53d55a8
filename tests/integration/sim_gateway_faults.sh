#!/usr/bin/env bash
# sora-sim's failures of real gateways, each deterministic: --p5xx-after-create (the
# video IS created, the answer is Portkey's 500, an HTML 502 or an HTML 504, pinned by
# --after-create-status or a seeded choice), --no-prompt, --dated-models,
# --created-at-zero, --list-mode (404, 405, 501, LiteLLM's 500), the ids a client
# must percent-encode (--id-style b64) or must not cut (--id-style huge), and a
# service clock hours off this machine's (--clock-offset-s).
. "$(dirname "$0")/lib.sh"

# esc ID: the id percent-encoded for a path segment or a query value.
esc() {
	jq -rn --arg s "$1" '$s | @uri'
}

# status_is ID STATUS: for wait_for; the id is percent-encoded.
status_is() {
	[ "$(curl -sS -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos/$(esc "$1")" |
		jq -r .status)" = "$2" ]
}

# wait_completed ID: waits (30 s deadline) for the video to complete.
wait_completed() {
	wait_for 30 "video $1 to complete" status_is "$1" completed
}

# newest_id: the id of the video created last, from the list.
newest_id() {
	expect_eq "list (newest)" 200 "$(sim_req GET '/v1/videos?limit=1')"
	body_get '.data[0].id'
}

# fault_count: how many 5xx_after_create faults the sim has counted.
fault_count() {
	sim_stats | jq -r '.faults["5xx_after_create"] // 0'
}

# --- --p5xx-after-create 1 with each pinned status --------------------------------
for status in 500 502 504; do
	sim_start --gen-ms 300 --ffmpeg none --p5xx-after-create 1 --after-create-status "$status"
	prompt="lost answer $status"
	code=$(sim_req POST /v1/videos --form-string "prompt=$prompt")
	expect_eq "create answered" "$status" "$code"
	case $status in
	500)
		expect_eq "500 content type" application/json "$(header_get content-type)"
		expect_eq "500 body (Portkey's)" '{"status":"failure","message":"Something went wrong"}' \
			"$(jq -c . "$T/body")"
		;;
	502)
		expect_eq "502 content type" text/html "$(header_get content-type)"
		grep -q '<title>502 Bad Gateway</title>' "$T/body" || fail "502 body: $(cat "$T/body")"
		;;
	504)
		expect_eq "504 content type" text/html "$(header_get content-type)"
		grep -q '<title>504 Gateway Time-out</title>' "$T/body" || fail "504 body: $(cat "$T/body")"
		;;
	esac
	expect_eq "$status: the video was created all the same" 1 "$(sim_created_count "$prompt")"
	expect_eq "$status: counted as a fault" 1 "$(fault_count)"
	expect_eq "$status: the endpoint outcome" 1 \
		"$(sim_stats | jq -r --arg s "$status" '.requests["POST /v1/videos"][$s]')"
	id=$(newest_id)
	expect_eq "$status: the listed video has the prompt" "$prompt" "$(body_get '.data[0].prompt')"
	wait_completed "$id"
	expect_eq "$status: retrieve is not faulted" 200 "$(sim_req GET "/v1/videos/$id")"
	expect_eq "$status: content" 200 "$(sim_req GET "/v1/videos/$id/content")"

	# A remix is a create too: created, answered with the same status.
	code=$(sim_req POST "/v1/videos/$id/remix" --form-string "prompt=$prompt, remixed")
	expect_eq "$status: remix answered" "$status" "$code"
	expect_eq "$status: the remix was created" 1 "$(sim_created_count "$prompt, remixed")"
	expect_eq "$status: two faults" 2 "$(fault_count)"
	rid=$(newest_id)
	expect_eq "$status: the remix's source" "$id" "$(body_get '.data[0].remixed_from_video_id')"
	wait_completed "$rid"

	# A refusal passes through unchanged: nothing created, no fault.
	code=$(sim_req POST /v1/videos --form-string "prompt=$prompt" -F model=sora-9)
	expect_error 400 "$code" invalid_request_error model invalid_value
	expect_eq "$status: a refused create created nothing" 1 "$(sim_created_count "$prompt")"
	expect_eq "$status: a refusal is no fault" 2 "$(fault_count)"
done

# --- the seeded choice: all three statuses, the same sequence for the same seed ----
# statuses_of_seed SEED: 12 creates on a new sim; their statuses in $statuses.
statuses_of_seed() {
	local i
	statuses=""
	sim_start --gen-ms 300 --ffmpeg none --p5xx-after-create 1 --seed "$1"
	for i in $(seq 1 12); do
		statuses="$statuses $(sim_req POST /v1/videos --form-string "prompt=seeded $i")"
	done
	expect_eq "12 creates, 12 videos" 12 "$(sim_stats | jq '[.creates_by_prompt[]] | add')"
	expect_eq "12 faults" 12 "$(fault_count)"
}
statuses_of_seed 5
first=$statuses
[[ $first == *500* && $first == *502* && $first == *504* ]] ||
	fail "expected 500, 502 and 504 among:$first"
[[ $first =~ ^( (500|502|504))+$ ]] || fail "only 500, 502 and 504 expected:$first"
statuses_of_seed 5
expect_eq "the same seed, the same statuses" "$first" "$statuses"

# --- --no-prompt, --dated-models, --created-at-zero on every Video object --------
# shape_ok WHAT JQ_PATH MODEL: the object at JQ_PATH in the last body has no prompt,
# the dated model and created_at 0.
shape_ok() {
	expect_eq "$1: no prompt key" false "$(body_get "$2 | has(\"prompt\")")"
	expect_eq "$1: dated model" "$3" "$(body_get "$2 | .model")"
	expect_eq "$1: created_at" 0 "$(body_get "$2 | .created_at")"
}
sim_start --gen-ms 300 --ffmpeg none --no-prompt --dated-models --created-at-zero
expect_eq "create sora-2" 200 "$(sim_req POST /v1/videos --form-string 'prompt=shape' -F model=sora-2)"
shape_ok "create sora-2" . sora-2-2025-10-06
a=$(body_get .id)
expect_eq "create sora-2-pro" 200 \
	"$(sim_req POST /v1/videos --form-string 'prompt=shape pro' -F model=sora-2-pro -F size=1792x1024)"
shape_ok "create sora-2-pro" . sora-2-pro-2025-10-06
b=$(body_get .id)
wait_completed "$a"
wait_completed "$b"
expect_eq "retrieve" 200 "$(sim_req GET "/v1/videos/$a")"
shape_ok "retrieve sora-2" . sora-2-2025-10-06
expect_eq "completed_at stays real" true "$(body_get '.completed_at > 1000000000')"
expect_eq "retrieve pro" 200 "$(sim_req GET "/v1/videos/$b")"
shape_ok "retrieve sora-2-pro" . sora-2-pro-2025-10-06
expect_eq "list" 200 "$(sim_req GET '/v1/videos?order=asc')"
shape_ok "list [0]" '.data[0]' sora-2-2025-10-06
shape_ok "list [1]" '.data[1]' sora-2-pro-2025-10-06
expect_eq "remix" 200 "$(sim_req POST "/v1/videos/$b/remix" --form-string 'prompt=shape again')"
shape_ok "remix" . sora-2-pro-2025-10-06
expect_eq "the prompt is still counted" 1 "$(sim_created_count 'shape again')"

# --- --list-mode: only the list fails, retrieve still works -----------------------
for mode in 404 405 501 litellm-500; do
	sim_start --gen-ms 300 --ffmpeg none --list-mode "$mode"
	id=$(sim_create "list mode $mode")
	expect_eq "$mode: retrieve works" 200 "$(sim_req GET "/v1/videos/$id")"
	code=$(sim_req GET '/v1/videos?limit=5')
	case $mode in
	litellm-500)
		expect_eq "litellm-500 status" 500 "$code"
		expect_eq "litellm-500 content type" application/json "$(header_get content-type)"
		expect_eq "litellm-500 error.type" null "$(body_get .error.type)"
		expect_eq "litellm-500 error.param" null "$(body_get .error.param)"
		expect_eq "litellm-500 error.code (a string)" '"500"' "$(jq -c .error.code "$T/body")"
		body_get .error.message | grep -q '^litellm.APIConnectionError: Video list is not supported' ||
			fail "litellm-500 message: $(body_get .error.message)"
		body_get .error.message | grep -q '^NotImplementedError: ' ||
			fail "litellm-500: the message should end with the traceback"
		;;
	*)
		expect_error "$mode" "$code" invalid_request_error null null
		if [ "$mode" = 405 ]; then
			expect_eq "405 Allow" POST "$(header_get allow)"
		fi
		;;
	esac
	expect_eq "$mode: counted under the list" 1 \
		"$(sim_stats | jq -r --arg s "${mode#litellm-}" '.requests["GET /v1/videos"][$s]')"
done

# --- --id-style b64: '+', '/' and '=' in every id, routable percent-encoded -------
sim_start --gen-ms 300 --ffmpeg none --id-style b64
ids=()
for i in 1 2 3; do
	ids+=("$(sim_create "b64 $i")")
done
for id in "${ids[@]}"; do
	[[ $id =~ ^video_[A-Za-z0-9+/]+=*$ ]] || fail "not video_ + standard base64: $id"
	[[ $id == *+* && $id == */* && $id == *=* ]] || fail "expected '+', '/' and '=' in $id"
	printf '%s' "${id#video_}" | base64 -d >/dev/null 2>&1 || fail "does not decode: $id"
done
expect_eq "b64 ids are unique" 3 "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"
id=${ids[0]}
e=$(esc "$id")
expect_eq "retrieve, percent-encoded" 200 "$(sim_req GET "/v1/videos/$e")"
expect_eq "retrieve: the same id" "$id" "$(body_get .id)"
expect_eq "the raw id is not a route" 404 "$(sim_req GET "/v1/videos/$id")"
expect_eq "list after it (asc)" 200 "$(sim_req GET "/v1/videos?order=asc&after=$e")"
expect_eq "list after the first: the second" "${ids[1]}" "$(body_get '.data[0].id')"
expect_eq "list after the first: two" 2 "$(body_get '.data | length')"
wait_completed "$id"
expect_eq "content" 200 "$(sim_req GET "/v1/videos/$e/content")"
expect_eq "remix" 200 "$(sim_req POST "/v1/videos/$e/remix" --form-string 'prompt=b64 remix')"
expect_eq "remix: the source" "$id" "$(body_get .remixed_from_video_id)"
expect_eq "delete" 200 "$(sim_req DELETE "/v1/videos/$e")"
expect_eq "delete: the id" "$id" "$(body_get .id)"
expect_eq "a deleted cursor still works" 200 "$(sim_req GET "/v1/videos?after=$e")"

# --- --id-style huge: 5,000 safe characters -----------------------------------------
sim_start --gen-ms 300 --ffmpeg none --id-style huge
h1=$(sim_create "huge 1")
h2=$(sim_create "huge 2")
expect_eq "huge id length" 5000 "${#h1}"
[[ $h1 =~ ^video_[A-Za-z0-9]+$ ]] || fail "huge id has unsafe characters: ${h1:0:80}..."
[ "$h1" != "$h2" ] || fail "two huge ids are the same"
expect_eq "retrieve a huge id" 200 "$(sim_req GET "/v1/videos/$h1")"
expect_eq "retrieve: the whole id" "$h1" "$(body_get .id)"
expect_eq "list after a huge id" 200 "$(sim_req GET "/v1/videos?order=asc&after=$h1")"
expect_eq "list after it: the second" "$h2" "$(body_get '.data[0].id')"
wait_completed "$h1"
expect_eq "remix a huge id" 200 "$(sim_req POST "/v1/videos/$h1/remix" --form-string 'prompt=huge remix')"
expect_eq "remix: the whole source id" "$h1" "$(body_get .remixed_from_video_id)"

# --- --clock-offset-s: the service's clock is off this machine's ------------------
# near WHAT EXPECTED ACTUAL: ACTUAL is within 5 s of EXPECTED (unix seconds).
near() {
	awk -v e="$2" -v a="$3" 'BEGIN { exit !(a - e <= 5 && e - a <= 5) }' ||
		fail "$1: expected about $2, got $3 (off by $(($3 - $2)) s)"
}
# content_is ID STATUS: for wait_for; GET content answers STATUS.
content_is() {
	[ "$(sim_req GET "/v1/videos/$1/content")" = "$2" ]
}
for off in -10800 7200; do
	sim_start --gen-ms 300 --ffmpeg none --clock-offset-s "$off" --expire-s 10
	now=$(date +%s)
	id=$(sim_create "clock $off")
	near "$off: created_at of a fresh video" $((now + off)) "$(body_get .created_at)"
	date_hdr=$(date -d "$(header_get date)" +%s) || fail "$off: no usable Date header"
	near "$off: the Date header" $((now + off)) "$date_hdr"
	expect_eq "$off: one Date header" 1 "$(grep -ci '^date:' "$T/headers")"
	wait_completed "$id"
	# Expiry comes --expire-s after completion in real time, whatever the offset: the
	# content is there right after completion (asked first, so that a loaded machine's
	# slow checks below cannot eat the window), and gone seconds later, not hours.
	expect_eq "$off: content before expiry" 200 "$(sim_req GET "/v1/videos/$id/content")"
	expect_eq "$off: retrieve" 200 "$(sim_req GET "/v1/videos/$id")"
	near "$off: completed_at" $((now + off)) "$(body_get .completed_at)"
	expect_eq "$off: expires_at = completed_at + expire-s" "$(($(body_get .completed_at) + 10))" \
		"$(body_get .expires_at)"
	expect_eq "$off: list" 200 "$(sim_req GET '/v1/videos?limit=1')"
	near "$off: created_at in the list" $((now + off)) "$(body_get '.data[0].created_at')"
	wait_for 60 "$off: the content to expire about 10 s after completion" content_is "$id" 404
	expect_eq "$off: expired" video_expired "$(body_get .error.code)"
	(($(date +%s) - now >= 9)) || fail "$off: expired after $(($(date +%s) - now)) s, before its 10 s"
	(($(date +%s) - now <= 60)) || fail "$off: expiry took $(($(date +%s) - now)) s"
done
# Without the option the clock is this machine's (and libmicrohttpd's Date header).
sim_start --gen-ms 300 --ffmpeg none
now=$(date +%s)
sim_create "clock 0" >/dev/null
near "no offset: created_at" "$now" "$(body_get .created_at)"
near "no offset: Date" "$now" "$(date -d "$(header_get date)" +%s)"

# --- bad values are usage errors (64) naming the option -----------------------------
for bad in "--list-mode 500" "--after-create-status 503" "--p5xx-after-create 2" \
	"--id-style base64" "--clock-offset-s 1.5" "--clock-offset-s 400000000" \
	"--clock-offset-s -400000000" "--clock-offset-s x"; do
	rc=0
	# shellcheck disable=SC2086 # the option and its value are two words
	"$SIM_BIN" $bad --listen 127.0.0.1:0 >"$T/bad.out" 2>&1 || rc=$?
	expect_eq "sora-sim $bad exit status" 64 "$rc"
	grep -q -e "${bad%% *}" "$T/bad.out" || fail "sora-sim $bad: the message should name the option"
done
echo "sim_gateway_faults: ok"
