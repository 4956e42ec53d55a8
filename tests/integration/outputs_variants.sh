#!/usr/bin/env bash
# Outputs verified by content, not by name (issue 16, item 3), against a service that
# cannot serve the thumbnail and spritesheet: sora-sim --profile litellm-veo (LiteLLM
# in front of Veo: `variant` ignored, the MP4 served for every variant, chunked).
#
# a) ffmpeg installed: the MP4 served for variant=thumbnail is never written as
#    .webp; sorad makes the thumbnail (first frame, the video's size) and the
#    spritesheet (10 frames, 5x2) from the video, valid by magic bytes and ffprobe,
#    and NAME.json says each was derived; the service was asked for the variants by
#    the first job only (learned as a capability, caps.h, it holds for later videos).
# b) ffmpeg hidden from the daemon's PATH: the set completes without them, NAME.json
#    has "thumbnail": null and "spritesheet": null with the reason in "missing", the
#    status endpoint shows the files as null, and nothing else is in the outbox.
# c) ffmpeg = "" in sorad.conf: the same absence, its reason "switched off".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
	fail "ffmpeg and ffprobe are needed (scripts/install-deps.sh)"
grep -q -- '--profile litellm-veo' <<<"$("$SIM_BIN" --help)" ||
	fail "this sora-sim has no --profile litellm-veo"

sim_start --profile litellm-veo --gen-ms 800 --api-key "$SORAD_KEY" --seed 16

# veo_conf: the daemon's configuration with LiteLLM's Veo models (as
# examples/gateways/litellm.conf names them).
veo_conf() {
	sorad_conf 'listen = "127.0.0.1:0"' "$@"
	cat >>"$T/sorad.conf" <<-'EOF'
		default_model = "veo-3"
		model "veo-3" {
			seconds = {4, 6, 8}
			size "1280x720" { price = 0.40 }
			size "720x1280" { price = 0.40 }
		}
	EOF
	"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1 ||
		fail "check-config: $(cat "$T/check.out")"
}

# variant_requests V: how many times sorad asked for variant V (its log names each).
variant_requests() {
	grep -c "content?variant=$1: HTTP" "$T/sorad.out" || true
}

# check_magic FILE KIND: FILE's first bytes are those of KIND (webp, jpeg, mp4).
check_magic() {
	local f=$1 kind=$2 head
	head=$(head -c 12 "$f" | od -An -tx1 | tr -d ' \n')
	case $kind in
	webp) [[ $head == 52494646????????57454250 ]] ;;
	jpeg) [[ $head == ffd8ff* ]] ;;
	mp4) [[ ${head:8:8} == 66747970 ]] ;;
	esac || fail "$f is not a $kind file (it starts with $head)"
}

# ---- a) ffmpeg installed: derived ------------------------------------------------------
veo_conf
sorad_start
httpd_url
drop first.txt 'A paper boat drifting down a rain gutter, macro, overcast light.'
wait_done first 60
drop second.txt $'---\nsize: 720x1280\nseconds: 6\n---\nA hummingbird hovering at a red flower, slow motion.'
wait_done second 60
for n in first:1280x720:4 second:720x1280:6; do
	IFS=: read -r name size secs <<<"$n"
	o="$T/outbox/$name"
	check_set "$name" "$size" "$secs"
	check_magic "$o.mp4" mp4
	check_magic "$o.thumbnail.webp" webp
	check_magic "$o.spritesheet.jpg" jpeg
	# The thumbnail is the first frame at the video's size; the sheet 5x2 frames of it.
	got=$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$o.thumbnail.webp")
	[ "$got" = "webp,${size%x*},${size#*x}" ] || fail "$name.thumbnail.webp: expected webp,$size, got $got"
	got=$(ffprobe -v error -show_entries stream=codec_name,height -of csv=p=0 "$o.spritesheet.jpg")
	[ "$got" = "mjpeg,256" ] || fail "$name.spritesheet.jpg: expected a 5x2 sheet of 128-pixel frames (mjpeg,256), got $got"
	# Never the MP4 under an image's name.
	cmp -s "$o.mp4" "$o.thumbnail.webp" && fail "$name.thumbnail.webp is the MP4"
	jq -e '.files.video.source == "service" and .files.thumbnail.source == "derived" and
		.files.spritesheet.source == "derived" and .missing == {}' "$o.json" >/dev/null ||
		fail "$name.json does not say where each file came from: $(jq -c '{files, missing}' "$o.json")"
	for v in thumbnail:thumbnail.webp spritesheet:spritesheet.jpg; do
		[ "$(jq -r ".files.${v%%:*}.bytes" "$o.json")" = "$(stat -c %s "$o.${v#*:}")" ] ||
			fail "$name.json: the ${v%%:*}'s bytes differ from the file"
	done
done
check_outbox_sets
n=$(grep -c 'capabilities: learned that the service cannot serve thumbnails (it holds an MP4' "$T/sorad.out" || true)
[ "$n" = 1 ] || fail "expected the log to say once that the service answers thumbnails with the MP4, got $n lines"
# The first job asked once for each variant (and got the MP4); the second did not ask.
for v in thumbnail spritesheet; do
	n=$(variant_requests "$v")
	[ "$n" = 1 ] || fail "sorad asked $n times for variant=$v, expected 1 (the first job's)"
done
n=$(sim_stats | jq '[.requests["GET /v1/videos/{id}/content"] // {} | .[]] | add // 0')
[ "$n" = 4 ] || fail "sora-sim answered $n content requests, expected 4 (3 for the first job, 1 for the second)"
# The status endpoint names the derived files like any other.
status=$(curl -fsS "$H/api/v1/videos/first") || fail "GET /api/v1/videos/first"
[ "$(jq -r .files.thumbnail.name <<<"$status")" = first.thumbnail.webp ] ||
	fail "the status endpoint does not show the derived thumbnail: $status"
sorad_stop

# ---- b) no ffmpeg on the daemon's PATH: the set completes without the variants ---------
rm -rf "$T/outbox" "$T/state" "$T/logs"
: >"$T/sorad.out"
veo_conf
SORAD_WRAP="env PATH=/nonexistent" sorad_start
httpd_url
drop plain.txt 'A lighthouse beam sweeping over a stormy sea at night.'
wait_done plain 60
o="$T/outbox/plain"
[ -f "$o.mp4" ] || fail "plain.mp4 is missing"
check_magic "$o.mp4" mp4
for f in "$o.thumbnail.webp" "$o.spritesheet.jpg"; do
	[ ! -e "$f" ] || fail "$f exists although ffmpeg could not be found"
done
jq -e '.files.thumbnail == null and .files.spritesheet == null and
	.files.video.source == "service" and
	(.missing.thumbnail | test("ffmpeg is not installed")) and
	(.missing.spritesheet | test("ffmpeg is not installed"))' "$o.json" >/dev/null ||
	fail "plain.json does not document the missing variants: $(jq -c '{files, missing}' "$o.json")"
check_outbox_sets
[ "$(find "$T/outbox" -mindepth 1 -maxdepth 1 ! -name failed -printf '%f\n' | sort | tr '\n' ' ')" = "plain.json plain.mp4 " ] ||
	fail "unexpected files in the outbox: $(ls -A "$T/outbox")"
status=$(curl -fsS "$H/api/v1/videos/plain") || fail "GET /api/v1/videos/plain"
jq -e '.status == "completed" and .files.video.name == "plain.mp4" and
	.files.thumbnail == null and .files.spritesheet == null' <<<"$status" >/dev/null ||
	fail "the status endpoint does not show the set without its variants: $status"
code=$(http_req GET "$H/api/v1/videos/plain/content?variant=thumbnail")
[ "$code" = 404 ] || fail "the missing thumbnail: expected 404, got $code"
sorad_stop

# ---- c) ffmpeg = "" in sorad.conf: switched off, with ffmpeg on the PATH ---------------
veo_conf 'ffmpeg = ""'
"$SORAD_BIN" check-config -c "$T/sorad.conf" | grep -q 'ffmpeg *none: making variants locally is switched off' ||
	fail "check-config does not show ffmpeg switched off"
sorad_start
drop off.txt 'Fog rolling over a quiet harbor at first light, static camera.'
wait_done off 60
jq -e '.files.thumbnail == null and .files.spritesheet == null and
	(.missing.thumbnail | test("switched off")) and (.missing.spritesheet | test("switched off"))' \
	"$T/outbox/off.json" >/dev/null ||
	fail "off.json does not say that making variants is switched off: $(jq -c '{files, missing}' "$T/outbox/off.json")"
check_outbox_sets
sorad_stop
echo "PASS"
