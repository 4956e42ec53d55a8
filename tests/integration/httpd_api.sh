#!/usr/bin/env bash
# The status endpoint's JSON API against real jobs: the list (limit, order, after,
# status filter, has_more), one video by id and by NAME in the seed's shape plus local
# fields, 404/409/400 answers as the seed's error object, 405 with Allow for every
# write method, HEAD, /healthz, /metrics, the page, and no API key anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 2500 --api-key "$SORAD_KEY" --seed 7
httpd_start

# A running job: its content is not there yet (409).
drop slow.txt 'A slow pan across a foggy harbour at dawn.'
running() { [ "$(curl -fsS "$H/api/v1/videos/slow" | jq -r .state)" = running ]; }
wait_for 20 "slow to be running" running
code=$(hget /api/v1/videos/slow)
expect_eq "GET running job" 200 "$code"
expect_eq "status of a running job" queued_or_in_progress \
	"$(body_get 'if .status == "queued" or .status == "in_progress" then "queued_or_in_progress" else .status end')"
expect_eq "video_id set" true "$(body_get '.video_id | startswith("video_")')"
code=$(hget /api/v1/videos/slow/content)
expect_json_error 409 "$code" invalid_request_error
expect_eq "409 code" video_not_ready "$(body_get .error.code)"

# Each is claimed before the next is dropped: the list's order is claim order, and
# files that settle together are claimed in name order (broken before c).
known() { curl -fsS -o /dev/null "$H/api/v1/videos/$1"; }
drop_claimed() {
	drop "$1.txt" "$2"
	wait_for 20 "$1 to be claimed" known "$1"
}
drop_claimed a 'A red kite over a green hill.'
drop_claimed b 'A blue boat on a grey sea.'
drop_claimed c 'A yellow tram in the rain.'
drop_claimed broken $'---\nmodel: no-such-model\n---\nAnything.\n'
drop_claimed doomed 'This one fails [sim:fail]'
for n in slow a b c; do wait_done "$n"; done
wait_failed broken
wait_failed doomed
finished() { [ "$(curl -fsS "$H/api/v1/videos/doomed" | jq -r .state)" = failed ]; }
wait_for 20 "doomed to be failed in the API" finished

# One video, by NAME and by video id, in the seed's shape plus local fields.
code=$(hget /api/v1/videos/a)
expect_eq "GET by name" 200 "$code"
expect_eq "content-type" application/json "$(header_get content-type)"
id=$(body_get .id)
[[ $id == video_* ]] || fail "id is not the video id: $id"
expect_eq "object" video "$(body_get .object)"
expect_eq "status" completed "$(body_get .status)"
expect_eq "progress" 100 "$(body_get .progress)"
expect_eq "model" sora-2 "$(body_get .model)"
expect_eq "size" 1280x720 "$(body_get .size)"
expect_eq "seconds is a string" '"4"' "$(jq -c .seconds "$T/body")"
expect_eq "name" a "$(body_get .name)"
expect_eq "state" "done" "$(body_get .state)"
expect_eq "prompt" 'A red kite over a green hill.' "$(body_get .prompt)"
expect_eq "error" null "$(body_get .error)"
expect_eq "created_at is a number" number "$(body_get '.created_at | type')"
expect_eq "completed_at is a number" number "$(body_get '.completed_at | type')"
expect_eq "timings.finished_at" number "$(body_get '.timings.finished_at | type')"
expect_eq "files.video.bytes" "$(stat -c %s "$T/outbox/a.mp4")" "$(body_get .files.video.bytes)"
expect_eq "files.thumbnail.url" "/api/v1/videos/a/content?variant=thumbnail" "$(body_get .files.thumbnail.url)"
expect_eq "files.spritesheet.name" a.spritesheet.jpg "$(body_get .files.spritesheet.name)"
code=$(hget "/api/v1/videos/$id")
expect_eq "GET by video id" 200 "$code"
expect_eq "by id: name" a "$(body_get .name)"

# A failure carries its plain-words reason.
code=$(hget /api/v1/videos/doomed)
expect_eq "failed job" failed "$(body_get .status)"
[ -n "$(body_get .error.message)" ] || fail "a failed job has no error.message"
[ -n "$(body_get .error.type)" ] || fail "a failed job has no error.type"
code=$(hget /api/v1/videos/broken)
expect_eq "invalid input" failed "$(body_get .status)"
expect_eq "invalid input code" invalid_input "$(body_get .error.code)"
body_get .error.message | grep -q no-such-model || fail "the reason does not name the model"
code=$(hget /api/v1/videos/doomed/content)
expect_json_error 409 "$code" invalid_request_error
expect_eq "409 code for a failure" video_failed "$(body_get .error.code)"

# Unknown ids: 404 as the seed's error object.
for p in /api/v1/videos/video_nope /api/v1/videos/nope/content /api/v1/videos/nope/poll; do
	code=$(hget "$p")
	expect_json_error 404 "$code" invalid_request_error
done
for p in /nope /api/v1 /api/v1/videos/a/other /api/v1/videos/a/content/x /api/v2/videos; do
	code=$(hget "$p")
	expect_json_error 404 "$code" invalid_request_error
done

# The list: newest first by default, every job, the seed's list object.
code=$(hget /api/v1/videos)
expect_eq "list" 200 "$code"
expect_eq "object" list "$(body_get .object)"
expect_eq "total" 6 "$(body_get .total)"
expect_eq "all names, newest first" "doomed broken c b a slow" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "has_more" false "$(body_get .has_more)"
expect_eq "first_id" "$(body_get '.data[0].id')" "$(body_get .first_id)"
expect_eq "last_id" "$(body_get '.data[-1].id')" "$(body_get .last_id)"
expect_eq "no files in a failure" null "$(body_get '.data[0].files')"

code=$(hget '/api/v1/videos?order=asc&limit=2')
expect_eq "asc limit 2" "slow a" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "has_more" true "$(body_get .has_more)"
after=$(body_get .last_id)
code=$(hget "/api/v1/videos?order=asc&limit=2&after=$after")
expect_eq "the next page" "b c" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "has_more" true "$(body_get .has_more)"
code=$(hget "/api/v1/videos?order=asc&limit=2&after=c")
expect_eq "the last page (cursor by NAME)" "broken doomed" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "has_more on the last page" false "$(body_get .has_more)"
code=$(hget '/api/v1/videos?status=completed')
expect_eq "completed only" "c b a slow" "$(body_get '[.data[].name] | join(" ")')"
expect_eq "total of the filter" 4 "$(body_get .total)"
code=$(hget '/api/v1/videos?status=failed&order=asc')
expect_eq "failed only" "broken doomed" "$(body_get '[.data[].name] | join(" ")')"
code=$(hget '/api/v1/videos?status=done&limit=1')
expect_eq "a local state as the filter" "c" "$(body_get '[.data[].name] | join(" ")')"
code=$(hget '/api/v1/videos?status=in_progress')
expect_eq "nothing in progress" 0 "$(body_get '.data | length')"
expect_eq "first_id of an empty page" null "$(body_get .first_id)"
# limit as the API takes it: 0 to 100 (0: an empty page that says whether there is more).
code=$(hget '/api/v1/videos?limit=0')
expect_eq "limit=0 is accepted" 200 "$code"
expect_eq "limit=0: no data" 0 "$(body_get '.data | length')"
expect_eq "limit=0: has_more" true "$(body_get .has_more)"
code=$(hget '/api/v1/videos?limit=100')
expect_eq "limit=100 is accepted" 200 "$code"
for q in limit=101 limit=1000 limit=-1 limit=abc order=sideways status=done-ish after=nosuchjob; do
	code=$(hget "/api/v1/videos?$q")
	expect_json_error 400 "$code" invalid_request_error
	expect_eq "error.param of $q" "${q%%=*}" "$(body_get .error.param)"
done

# HEAD answers with the headers only.
code=$(hreq HEAD /api/v1/videos/a)
expect_eq "HEAD" 200 "$code"
# (curl -I writes the headers where the body would go: there must be nothing else.)
! grep -q '"object"' "$T/body" || fail "HEAD returned a body"
expect_eq "HEAD content-type" application/json "$(header_get content-type)"

# Every write method: 405 with Allow and the seed's error object.
for m in POST PUT DELETE PATCH OPTIONS; do
	for p in /api/v1/videos /api/v1/videos/a /api/v1/videos/a/remix /; do
		code=$(hreq "$m" "$p" -H 'Content-Type: application/json' -d '{"prompt":"x"}')
		expect_json_error 405 "$code" invalid_request_error
		expect_eq "Allow ($m $p)" "GET, HEAD" "$(header_get allow)"
	done
done
code=$(hreq DELETE /api/v1/videos/a)
expect_json_error 405 "$code" invalid_request_error
[ -f "$T/outbox/a.mp4" ] || fail "a DELETE removed something"

# /healthz, /metrics, the page.
code=$(hget /healthz)
expect_eq "/healthz" 200 "$code"
expect_eq "health" ok "$(body_get .status)"
expect_eq "jobs" 6 "$(body_get .jobs)"
code=$(hget /metrics)
expect_eq "/metrics" 200 "$code"
[[ $(header_get content-type) == text/plain* ]] || fail "metrics content-type: $(header_get content-type)"
m() { grep -E "^$1 " "$T/body" | awk '{ print $2 }'; }
expect_eq "jobs done" 4 "$(m 'sorad_jobs\{state="done"\}')"
expect_eq "jobs failed" 2 "$(m 'sorad_jobs\{state="failed"\}')"
expect_eq "seconds generated" 16 "$(m 'sorad_generated_seconds_total\{model="sora-2"\}')"
expect_eq "cost: 4 done + doomed (made, failed at the service)" 2.0000 "$(m 'sorad_estimated_cost_usd_total\{model="sora-2"\}')"
expect_eq "rejected" 1 "$(m sorad_inbox_rejected_files)"
[ "$(m 'sorad_api_requests_total\{endpoint="create",status="200"\}')" -ge 5 ] ||
	fail "creates not counted: $(grep api_requests "$T/body")"
[ "$(m 'sorad_api_requests_total\{endpoint="content",status="200"\}')" -ge 12 ] ||
	fail "downloads not counted"
downloaded=$(m sorad_api_downloaded_bytes_total)
on_disk=$(cat "$T"/outbox/{slow,a,b,c}.{mp4,thumbnail.webp,spritesheet.jpg} | wc -c)
expect_eq "bytes downloaded" "$on_disk" "$downloaded"
grep -q '^# TYPE sorad_api_retries_total counter' "$T/body" || fail "no retries counter"
# Each completion seen (slow, a, b, c): its detection delay counted
# (pollplan.h), whole histograms with +Inf equal to _count.
[ "$(m sorad_poll_detect_delay_seconds_count)" -ge 4 ] ||
	fail "detection delays not counted: $(grep sorad_poll "$T/body")"
expect_eq "detect +Inf = count" "$(m sorad_poll_detect_delay_seconds_count)" \
	"$(m 'sorad_poll_detect_delay_seconds_bucket\{le="\+Inf"\}')"
grep -q '^# TYPE sorad_poll_prediction_error_seconds histogram' "$T/body" ||
	fail "no prediction error histogram"
code=$(hget /)
expect_eq "/" 200 "$code"
[[ $(header_get content-type) == text/html* ]] || fail "page content-type"
grep -q '<html' "$T/body" || fail "the page is not HTML"
etag=$(header_get etag)
code=$(hget / -H "If-None-Match: $etag")
expect_eq "the page revalidates" 304 "$code"

# The API key appears in no answer.
for p in / /healthz /metrics /api/v1/videos /api/v1/videos/a /api/v1/videos/doomed; do
	hget "$p" >/dev/null
	! grep -q "$SORAD_KEY" "$T/body" "$T/headers" || fail "the API key leaked in $p"
done

sorad_stop
echo "ok: list, get, errors, 405s, HEAD, healthz, metrics, page"
