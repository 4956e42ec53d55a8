#!/usr/bin/env bash
# Without ffmpeg (--ffmpeg none stands for "not on PATH"), sora-sim still completes
# videos and serves the small built-in fixtures: an H.264 MP4, a WebP, a JPEG.
source "$(dirname "$0")/lib.sh"
sim_start --gen-ms 100 --ffmpeg none

id=$(sim_create "no ffmpeg here" -F size=1280x720)
sim_wait_completed "$id"
expect_eq "video" 200 "$(sim_req GET "/v1/videos/$id/content" -o "$T/v.mp4")"
expect_eq "video type" video/mp4 "$(header_get content-type)"
expect_eq "fixture codec" h264 "$(ffprobe -v error -show_entries stream=codec_name -of default=nw=1:nk=1 "$T/v.mp4")"
expect_eq "thumbnail" 200 "$(sim_req GET "/v1/videos/$id/content?variant=thumbnail" -o "$T/t.webp")"
expect_eq "thumbnail magic" RIFF "$(head -c 4 "$T/t.webp")"
expect_eq "spritesheet" 200 "$(sim_req GET "/v1/videos/$id/content?variant=spritesheet" -o "$T/s.jpg")"
expect_eq "JPEG magic" "ffd8ff" "$(head -c 3 "$T/s.jpg" | od -An -tx1 | tr -d ' \n')"

# Also when ffmpeg is simply absent from PATH.
PATH=/nonexistent "$SIM_BIN" --listen 127.0.0.1:0 --port-file "$T/pf" --gen-ms 10 >"$T/nopath.log" 2>&1 &
_pids+=($!)
wait_for 20 "sora-sim without PATH to listen" test -s "$T/pf"
SIM_URL="http://127.0.0.1:$(cat "$T/pf")"
grep -q "ffmpeg not found" "$T/nopath.log" || fail "no warning about the missing ffmpeg"
id=$(sim_create "no PATH")
sim_wait_completed "$id"
expect_eq "video without PATH" 200 "$(sim_req GET "/v1/videos/$id/content" -o /dev/null)"
echo "PASS sim_fixtures"
