#!/usr/bin/env bash
# max_in_flight counts generations, not downloads; a job's three files download side
# by side. With max_in_flight = 1 and a 200 MB video, the second prompt is created as
# soon as the first video is finished on the service, while the first job is still
# downloading it; and the first job's thumbnail and spritesheet arrive before its
# video has finished downloading. Both are read from the order of sorad's log lines
# (one thread writes them in the order things happened), so no timing is assumed
# beyond "200 MB take longer to fetch than a create takes to answer".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 1500 --ffmpeg none --video-bytes 200000000 --media-dir "$T/media"
sorad_conf "max_in_flight = 1"
sorad_start

drop first.txt "the first prompt"
drop second.txt "the second prompt"
wait_done first 120
wait_done second 120

# line PATTERN: the number of the first line of sorad.out matching PATTERN.
line() {
	local n
	n=$(grep -n -m1 -E "$1" "$T/sorad.out" | cut -d: -f1)
	[ -n "$n" ] || fail "no log line matches: $1"
	echo "$n"
}
first_video=$(line 'job=first .*variant=video: HTTP 200')
first_thumb=$(line 'job=first .*variant=thumbnail: HTTP 200')
first_sprite=$(line 'job=first .*variant=spritesheet: HTTP 200')
second_created=$(line 'job=second .*POST /videos: HTTP 200')
first_created=$(line 'job=first .*POST /videos: HTTP 200')
echo "log lines: first created $first_created, second created $second_created," \
	"first's thumbnail $first_thumb, spritesheet $first_sprite, video $first_video"

[ "$first_created" -lt "$second_created" ] || fail "the second job was created first"
[ "$second_created" -lt "$first_video" ] ||
	fail "the second job waited for the first one's download (max_in_flight counted it)"
[ "$first_thumb" -lt "$first_video" ] && [ "$first_sprite" -lt "$first_video" ] ||
	fail "the thumbnail and spritesheet waited for the video (downloads not side by side)"

for n in first second; do
	expect_eq "videos created for $n" 1 "$(sim_created_count "the $n prompt")"
	[ "$(stat -c %s "$T/outbox/$n.mp4")" = 200000000 ] || fail "$n.mp4 is not 200000000 bytes"
	[ "$(jq -r .files.video.bytes "$T/outbox/$n.json")" = 200000000 ] ||
		fail "$n.json does not say 200000000 bytes"
done
no_partials
sorad_stop
echo "PASS"
