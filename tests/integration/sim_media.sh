#!/usr/bin/env bash
# Real media: a playable H.264 MP4 of the requested size and duration, a WebP
# thumbnail and a JPEG spritesheet with the right Content-Type and Content-Length;
# single-range requests (206/416) that let a client resume; renders cached by
# (size, seconds), or per prompt with --draw-prompt.
source "$(dirname "$0")/lib.sh"
mkdir "$T/media"
sim_start --gen-ms 100 --media-dir "$T/media" --verbose

id=$(sim_create "media check" -F model=sora-2-pro -F size=1280x720 -F seconds=8)
sim_wait_completed "$id"

fetch() { # fetch VARIANT OUT
	sim_req GET "/v1/videos/$id/content?variant=$1" -o "$2"
}
expect_eq "video" 200 "$(fetch video "$T/v.mp4")"
expect_eq "video type" video/mp4 "$(header_get content-type)"
expect_eq "video length" "$(stat -c %s "$T/v.mp4")" "$(header_get content-length)"
expect_eq "Accept-Ranges" bytes "$(header_get accept-ranges)"
expect_eq "default variant" 200 "$(sim_req GET "/v1/videos/$id/content" -o "$T/v2.mp4")"
cmp -s "$T/v.mp4" "$T/v2.mp4" || fail "default variant differs from variant=video"

probe() { ffprobe -v error -select_streams v:0 -show_entries "stream=$1" -of default=nw=1:nk=1 "$2"; }
expect_eq "codec" h264 "$(probe codec_name "$T/v.mp4")"
expect_eq "width" 1280 "$(probe width "$T/v.mp4")"
expect_eq "height" 720 "$(probe height "$T/v.mp4")"
expect_eq "pixel format" yuv420p "$(probe pix_fmt "$T/v.mp4")"
dur=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/v.mp4")
awk -v d="$dur" 'BEGIN { exit !(d > 7.9 && d < 8.1) }' || fail "duration $dur, expected 8 s"
# +faststart: the moov atom comes before mdat.
head -c 64 "$T/v.mp4" | od -An -c | tr -d ' \n' | grep -q ftyp || fail "MP4 does not start with ftyp"
ffmpeg -nostdin -v error -i "$T/v.mp4" -f null - || fail "the MP4 does not decode"

expect_eq "thumbnail" 200 "$(fetch thumbnail "$T/t.webp")"
expect_eq "thumbnail type" image/webp "$(header_get content-type)"
[ "$(head -c 4 "$T/t.webp")" = RIFF ] && [ "$(dd if="$T/t.webp" bs=1 skip=8 count=4 2>/dev/null)" = WEBP ] ||
	fail "thumbnail is not RIFF....WEBP"
expect_eq "thumbnail width" 1280 "$(probe width "$T/t.webp")"
expect_eq "spritesheet" 200 "$(fetch spritesheet "$T/s.jpg")"
expect_eq "spritesheet type" image/jpeg "$(header_get content-type)"
expect_eq "JPEG magic" "ffd8ff" "$(head -c 3 "$T/s.jpg" | od -An -tx1 | tr -d ' \n')"
expect_error 400 "$(sim_req GET "/v1/videos/$id/content?variant=poster")" invalid_request_error variant invalid_value

# Ranges.
size=$(stat -c %s "$T/v.mp4")
expect_eq "range 0-99" 206 "$(sim_req GET "/v1/videos/$id/content" -H 'Range: bytes=0-99' -o "$T/r1")"
expect_eq "Content-Range" "bytes 0-99/$size" "$(header_get content-range)"
expect_eq "range length" 100 "$(header_get content-length)"
cmp -s "$T/r1" <(head -c 100 "$T/v.mp4") || fail "bytes 0-99 differ"
expect_eq "open range" 206 "$(sim_req GET "/v1/videos/$id/content" -H 'Range: bytes=1000-' -o "$T/r2")"
cmp -s "$T/r2" <(tail -c +1001 "$T/v.mp4") || fail "bytes 1000- differ"
expect_eq "suffix range" 206 "$(sim_req GET "/v1/videos/$id/content" -H 'Range: bytes=-50' -o "$T/r3")"
cmp -s "$T/r3" <(tail -c 50 "$T/v.mp4") || fail "last 50 bytes differ"
expect_eq "range past the end" 416 "$(sim_req GET "/v1/videos/$id/content" -H "Range: bytes=$size-")"
expect_eq "416 Content-Range" "bytes */$size" "$(header_get content-range)"
expect_eq "multi-range falls back to 200" 200 "$(sim_req GET "/v1/videos/$id/content" -H 'Range: bytes=0-1,5-6' -o /dev/null)"
# A resumed download (curl -C -) from a partial file yields the same bytes.
head -c 12345 "$T/v.mp4" >"$T/resumed.mp4"
curl -sS -C - -o "$T/resumed.mp4" -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos/$id/content"
cmp -s "$T/resumed.mp4" "$T/v.mp4" || fail "resumed download differs"

# Cache: five videos of one (size, seconds) and one of another render twice in all.
more=()
for i in 1 2 3 4 5; do more+=("$(sim_create "same key $i")"); done
more+=("$(sim_create "other key" -F size=1280x720)")
sim_wait_completed "${more[@]}"
expect_eq "renders for 720x1280-4s" 1 "$(grep -c 'rendered 720x1280-4s ' "$T/sim.log")"
expect_eq "renders for 1280x720-4s" 1 "$(grep -c 'rendered 1280x720-4s ' "$T/sim.log")"
find "$T/media" -mindepth 1 -maxdepth 1 ! -name 'fixture.*' ! -name '.*' -printf '%f\n' | sort >"$T/files"
expect_eq "media files" "1280x720-4s.jpg 1280x720-4s.mp4 1280x720-4s.webp 1280x720-8s.jpg 1280x720-8s.mp4 1280x720-8s.webp 720x1280-4s.jpg 720x1280-4s.mp4 720x1280-4s.webp" \
	"$(tr '\n' ' ' <"$T/files" | sed 's/ $//')"
sim_req GET "/v1/videos/${more[0]}/content" -o "$T/a.mp4" >/dev/null
expect_eq "cached video size" 720 "$(probe width "$T/a.mp4")"

# A restarted sim with the same --media-dir reuses the renders.
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
: >"$T/sim.log"
sim_start --gen-ms 100 --media-dir "$T/media" --verbose
id=$(sim_create "after restart")
sim_wait_completed "$id"
expect_eq "renders after restart" 0 "$(grep -c 'rendered ' "$T/sim.log" || true)"

# --draw-prompt: one render per distinct prompt, prompts with filter syntax included.
sim_start --gen-ms 100 --draw-prompt --verbose
p1="it's 100% \"quoted\": a\\b, [x]; {y} %{pts} \$HOME 'q' — ünïcödé"
a=$(sim_create "$p1")
b=$(sim_create "$p1")
c=$(sim_create "a second prompt")
sim_wait_completed "$a" "$b" "$c"
expect_eq "draw-prompt renders" 2 "$(grep -c 'rendered 720x1280-4s-p' "$T/sim.log")"
grep -q "serving the fixtures" "$T/sim.log" && fail "a --draw-prompt render failed: $(cat "$T/sim.log")"
sim_req GET "/v1/videos/$a/content" -o "$T/p.mp4" >/dev/null
expect_eq "draw-prompt codec" h264 "$(probe codec_name "$T/p.mp4")"
echo "PASS sim_media"
