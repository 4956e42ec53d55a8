#!/usr/bin/env bash
# The state machine by the clock: queued -> in_progress with rising progress ->
# completed; "[sim:fail]" ends failed with an error; content expires after
# --expire-s. Waits on the API with deadlines, never on bare sleeps.
source "$(dirname "$0")/lib.sh"
sim_start --gen-ms 1500 --expire-s 3

id=$(sim_create "watch me progress")
fid=$(sim_create "this one breaks [sim:fail]")

# Poll until completed, recording every (status, progress) seen.
deadline=$(($(date +%s) + 30))
last=-1
seen=""
while :; do
	code=$(sim_req GET "/v1/videos/$id")
	expect_eq "retrieve" 200 "$code"
	st=$(body_get .status)
	p=$(body_get .progress)
	[ "$p" -ge "$last" ] || fail "progress went down: $last -> $p"
	last=$p
	case "$st" in
	queued) expect_eq "progress while queued" 0 "$p" ;;
	in_progress) [ "$p" -ge 1 ] && [ "$p" -le 99 ] || fail "in_progress with progress $p" ;;
	completed) break ;;
	*) fail "unexpected status $st" ;;
	esac
	[[ " $seen " == *" $st "* ]] || seen="$seen $st"
	[ "$(date +%s)" -le "$deadline" ] || fail "video never completed (seen:$seen)"
	sleep 0.05	# polling interval, not synchronization
done
# Content right away (expiry is 3 s after completion), checked again once expired below.
expect_eq "content before expiry" 200 "$(sim_req GET "/v1/videos/$id/content" -o /dev/null)"
[[ $seen == *in_progress* ]] || fail "never saw in_progress (seen:$seen)"
expect_eq "progress when completed" 100 "$(sim_req GET "/v1/videos/$id" >/dev/null; body_get .progress)"
[ "$(body_get .completed_at)" -ge "$(body_get .created_at)" ] || fail "completed_at before created_at"

# [sim:fail]: failed with error {code, message}; no content, no remix.
wait_for 30 "the [sim:fail] video to fail" sim_status_is "$fid" failed
code=$(sim_req GET "/v1/videos/$fid")
expect_eq "failed error.code" video_generation_failed "$(body_get .error.code)"
[ -n "$(body_get .error.message)" ] || fail "failed video without error.message"
expect_eq "failed completed_at" null "$(body_get .completed_at)"
code=$(sim_req GET "/v1/videos/$fid/content")
expect_error 404 "$code" invalid_request_error null video_not_ready
code=$(sim_req POST "/v1/videos/$fid/remix" -F prompt=again)
expect_eq "remix of a failed video" 400 "$code"

# Expiry: 404 once expires_at has passed.
content_expired() { [ "$(sim_req GET "/v1/videos/$id/content")" = 404 ]; }
wait_for 10 "content of $id to expire" content_expired
expect_error 404 "$(sim_req GET "/v1/videos/$id/content")" invalid_request_error null video_expired
code=$(sim_req GET "/v1/videos/$id")
expect_eq "metadata after expiry" 200 "$code"
echo "PASS sim_lifecycle"
