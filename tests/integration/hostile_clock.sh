#!/usr/bin/env bash
# Issue 18, item 4: deadlines are kept on this machine's monotonic clock from the
# moment sorad observed an event, never by comparing the service's absolute times with
# the local clock. A service whose clock is 2 h behind sends an expires_at that, read
# on the local clock, passed an hour ago: one failed download round must not fail the
# job as "expired"; the window (expires_at minus the service's Date) is an hour, so
# the next round fetches the video.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 500 --ffmpeg none --seed 3 --clock-offset-s -7200
# no retries inside a request: the first content answers (500s) fail a whole round
sorad_conf 'max_retries = 0'
sorad_start
drop clip.txt "A lighthouse at dusk, waves below. [sim:content-fails=3]"

_clip_ended() {
	[ -f "$T/outbox/clip.json" ] || [ -f "$T/outbox/failed/clip.error.txt" ]
}
wait_for 60 "clip to end, done or failed (see $T/sorad.out)" _clip_ended
[ -f "$T/outbox/failed/clip.error.txt" ] &&
	fail "clip failed: $(cat "$T/outbox/failed/clip.error.txt")"
fails=$(sim_stats | jq '.requests["GET /v1/videos/{id}/content"]["500"] // 0')
[ "$fails" -ge 1 ] || fail "no download failed (content 500s: $fails): the test proves nothing"
grep -q 'download round 1 of' "$T/sorad.out" ||
	fail "no failed download round was logged: $(grep -i download "$T/sorad.out" | tail -5)"
# The window was measured on the service's clock: about an hour, not minus one.
w=$(job_field clip .dl_window_s)
[ -n "$w" ] && [ "$w" -gt 3000 ] && [ "$w" -le 3600 ] ||
	fail "the download window recorded is '$w' s, expected about 3600"
sorad_stop

# How long a running job has run, and has left, is told on this machine's clock: the
# service's created_at is 2 h behind it (it said 7,200 s and more).
kill "$SIM_PID" && wait "$SIM_PID" 2>/dev/null || true
sim_start --gen-ms 60000 --ffmpeg none --seed 4 --clock-offset-s -7200
sorad_conf 'max_retries = 0' 'listen = "127.0.0.1:0"'
sorad_start
httpd_url
drop tide.txt 'A slow tide over the flats, an hour in a minute.'
_tide_moving() {
	[ "$(hget /api/v1/videos/tide)" = 200 ] && jq -e '.progress >= 5' "$T/body" >/dev/null
}
wait_for 45 "tide to be running with some progress" _tide_moving
el=$(jq -r 'first(.. | objects | select(has("elapsed_seconds")) | .elapsed_seconds)' "$T/body")
[ -n "$el" ] && [ "$el" != null ] && [ "$el" -ge 0 ] && [ "$el" -lt 120 ] ||
	fail "elapsed_seconds of a job submitted moments ago is '$el' ($(cat "$T/body"))"
left=$(jq -r 'first(.. | objects | select(has("estimated_seconds_remaining")) | .estimated_seconds_remaining)' "$T/body")
[ -z "$left" ] || [ "$left" = null ] || [ "$left" -lt 3600 ] ||
	fail "a job at $(jq .progress "$T/body") % after $el s has '$left' s left"
sorad_stop
echo "ok: a service clock 2 h behind: a failed download round is retried, the job completes; elapsed time on this machine's clock"
