#!/usr/bin/env bash
# Issue 18, item 5: downloads that never end. Every kind of download failure is
# bounded and ends with a plain reason:
#  - content answered 410 Gone fails the job after a few tries with "the service no
#    longer has this video (HTTP 410 Gone...)", not retried until expires_at;
#  - a body that trickles forever (chunked, 4000 bytes/s) is cut off after
#    download_timeout_s: it does not hold the only download slot (another job still
#    downloads) and its .part file stays bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 500 --ffmpeg none --seed 4
sorad_conf 'max_in_flight = 1' 'max_retries = 0' 'download_timeout_s = 3' 'poll_max = 1'
sorad_start

# --- 410 Gone -------------------------------------------------------------------
drop gone.txt "A paper boat on a pond. [sim:content-status=410]"
wait_failed gone 60
grep -q 'no longer has this video' "$T/outbox/failed/gone.error.txt" &&
	grep -q '410 Gone' "$T/outbox/failed/gone.error.txt" ||
	fail "gone's reason: $(cat "$T/outbox/failed/gone.error.txt")"
n=$(sim_stats | jq '.requests["GET /v1/videos/{id}/content"]["410"] // 0')
# the video three times; its thumbnail and spritesheet are left to ffmpeg after one
[ "$n" -ge 3 ] && [ "$n" -le 12 ] || fail "content was answered 410 $n times, expected 3 to 12"
echo "ok: 410 Gone ends the job after $n answers with a plain reason"

# --- a body that trickles forever -------------------------------------------------
drop slow.txt "A snail crossing a leaf. [sim:trickle=4000]"
wait_state slow downloading 30
drop fast.txt "A hummingbird at a feeder."
# the only download slot is freed when the trickle is cut off: fast completes
wait_done fast 60
grep -q 'slow.*timed out' "$T/sorad.out" ||
	fail "slow's download was not cut off: $(grep slow "$T/sorad.out" | tail -5)"
# every .part of slow stays bounded: at most download_timeout_s at 4000 bytes/s
_parts_small() {
	local f
	for f in "$T"/outbox/.slow.*.part; do
		[ -e "$f" ] || continue
		[ "$(stat -c %s "$f")" -le 20000 ] || return 1
	done
}
_parts_small || fail "slow's .part grew: $(ls -l "$T"/outbox/.slow.* 2>&1)"
wait_failed slow 120
grep -q 'could not be downloaded' "$T/outbox/failed/slow.error.txt" ||
	fail "slow's reason: $(cat "$T/outbox/failed/slow.error.txt")"
grep -q 'timed out' "$T/outbox/failed/slow.error.txt" ||
	fail "slow's reason does not say it timed out: $(cat "$T/outbox/failed/slow.error.txt")"
sorad_stop
echo "ok: a trickling body is cut off, frees its slot, and ends with a plain reason"
