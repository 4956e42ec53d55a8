#!/usr/bin/env bash
# At most 32 jobs download at once, whatever max_in_flight says (jr_download_room):
# a transfer holds some 25 KiB of libcurl's, and a wave of hundreds of videos
# finishing together made the peak memory. 64 jobs with max_in_flight 96 finish
# together; every answer of the service takes 1.5 s, so each download round is seen on
# /metrics (sorad_downloads_active): never more than 32, and 32 at some moment. Every
# set is then complete, each prompt created once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --pslow 1 --slow-ms 1500 --api-key "$SORAD_KEY" --seed 41
httpd_start "max_in_flight = 96"

n=64
for ((i = 1; i <= n; i++)); do
	drop "dl-$i.txt" "A paper lantern rising over a lake, take $i."
done

most=0
# sample: the largest sorad_downloads_active seen so far into $most; true once every
# set is complete.
sample() {
	local now
	now=$(curl -fsS "$H/metrics" | awk '$1 == "sorad_downloads_active" { print $2 }')
	[ -n "$now" ] || fail "no sorad_downloads_active in /metrics"
	[ "$now" -gt "$most" ] && most=$now
	[ "$(find "$T/outbox" -maxdepth 1 -name 'dl-*.json' | wc -l)" = "$n" ]
}
WAIT_POLL_S=0.1 wait_for 90 "all $n sets (downloading at most $most at once so far)" sample
[ "$most" -le 32 ] || fail "$most jobs downloaded at once, more than 32"
[ "$most" = 32 ] || fail "at most $most jobs downloaded at once: the 32 were never reached"
for ((i = 1; i <= n; i++)); do
	[ "$(sim_created_count "A paper lantern rising over a lake, take $i.")" = 1 ] ||
		fail "dl-$i was created $(sim_created_count "A paper lantern rising over a lake, take $i.") times"
done
sorad_stop
echo "ok: $n jobs finished together, at most $most downloading at once"
