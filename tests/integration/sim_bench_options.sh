#!/usr/bin/env bash
# sora-sim's benchmark options: --log-creates writes one line per created video with
# its CLOCK_REALTIME arrival in ns; --video-bytes serves MP4s padded to that size
# that are still valid MP4s (ffprobe reads them), the padding a hole on disk.
. "$(dirname "$0")/lib.sh"

t0=$(date +%s%N)
sim_start --gen-ms 50 --log-creates "$T/creates.log" --video-bytes 50000000 --media-dir "$T/media"
id=$(sim_create "bench options one")
sim_create "bench options two" >/dev/null
t1=$(date +%s%N)
expect_eq "lines in the create log" 2 "$(wc -l <"$T/creates.log")"
read -r ns prompt <"$T/creates.log"
[ "$ns" -ge "$t0" ] && [ "$ns" -le "$t1" ] || fail "create time $ns is not within [$t0, $t1]"
expect_eq "prompt in the create log" "bench options one" "$prompt"

sim_wait_completed "$id"
code=$(sim_req GET "/v1/videos/$id/content" -o "$T/v.mp4")
expect_eq "content status" 200 "$code"
expect_eq "padded size" 50000000 "$(stat -c %s "$T/v.mp4")"
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/v.mp4") ||
	fail "the padded MP4 is not readable"
awk -v d="$d" 'BEGIN { exit !(d > 3.5 && d < 4.5) }' || fail "padded MP4 lasts $d s, not 4"
code=$(sim_req GET "/v1/videos/$id/content?variant=thumbnail" -o "$T/t.webp")
expect_eq "thumbnail status" 200 "$code"
[ "$(stat -c %s "$T/t.webp")" -lt 1000000 ] || fail "the thumbnail was padded too"
echo "PASS"
