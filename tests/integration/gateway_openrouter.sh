#!/usr/bin/env bash
# examples/gateways/openrouter.conf (api_protocol = "openrouter") end to end against
# sora-sim --protocol openrouter: a plain prompt, front matter with seed and audio, a
# reference as the first frame, a last frame, a batch with an options object, and a
# job that fails on purpose. Each is created exactly once; each output set is valid,
# with the thumbnail and spritesheet made from the MP4 (OpenRouter has neither) and
# the cost the service reported (usage.cost) in NAME.json. The simulator's log of
# create bodies shows what went on the wire: duration, resolution + aspect_ratio,
# frame_images as data URLs, seed, generate_audio, the options' members.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

command -v ffmpeg >/dev/null 2>&1 || { echo "SKIP gateway_openrouter: no ffmpeg"; exit 0; }
sim_start --protocol openrouter --gen-ms 800 --api-key "$SORAD_KEY" --seed 9 \
	--log-bodies "$T/bodies.jsonl"
gateway_conf openrouter "$SIM_URL/api/v1"
grep -q "api_protocol   openrouter" "$T/check.out" ||
	fail "check-config does not show the protocol: $(cat "$T/check.out")"
gateway_sorad_start

P_PLAIN='A red kite over green hills at noon (openrouter plain).'
P_SEED='Rain on a tin roof, seen from below (openrouter seed).'
P_FIRST='The still comes alive: clouds drift over the test card (openrouter first).'
P_ENDS='From one card to the other, a slow dissolve (openrouter ends).'
P_B1='A lighthouse beam sweeping fog (openrouter batch one).'
P_B2='A bicycle leaning on a yellow wall (openrouter batch two).'
P_FAIL='A paper lantern that never lights (openrouter fail) [sim:fail]'
P_CANCEL='A queue that is called off (openrouter cancelled) [sim:status=cancelled]'
P_EXPIRE='A job left too long (openrouter expired) [sim:status=expired]'

# Images are made beside the inbox and copied in whole under a hidden name, then renamed.
put_image() {
	cp "$1" "$T/inbox/.$2.tmp"
	mv "$T/inbox/.$2.tmp" "$T/inbox/$2"
}
image 1280x720 "$T/img-first.png"
ffmpeg -v error -y -f lavfi -i "color=c=blue:s=1280x720" -frames:v 1 "$T/img-last.png"
put_image "$T/img-first.png" first.png
put_image "$T/img-first.png" ends-first.png
put_image "$T/img-last.png" ends-last.png
drop plain.txt "$P_PLAIN"
drop seeded.txt $'---\nmodel: alibaba/wan-2.6\nsize: 720x1280\nseconds: 5\nseed: 42\naudio: false\n---\n'"$P_SEED"
drop first.txt $'---\nseconds: 4\n---\n'"$P_FIRST"
drop ends.txt $'---\nreference: ends-first.png\nlast_frame: ends-last.png\nseconds: 6\naudio: true\n---\n'"$P_ENDS"
drop batch.jsonl "{\"prompt\": \"$P_B1\", \"model\": \"openai/sora-2-pro\", \"seconds\": 4, \"seed\": 7, \"options\": {\"provider\": {\"only\": [\"sora-sim\"]}}}
{\"name\": \"bike\", \"prompt\": \"$P_B2\", \"seconds\": 4}"
drop lantern.txt "$P_FAIL"
drop called-off.txt "$P_CANCEL"
drop too-long.txt "$P_EXPIRE"

for n in plain seeded first ends batch-1 bike; do
	wait_done "$n" 90
done
for n in lantern called-off too-long; do
	wait_failed "$n" 90
done

check_set plain 1280x720 8
check_set seeded 720x1280 5
check_set first 1280x720 4
check_set ends 1280x720 6
check_set batch-1 1280x720 4
check_set bike 1280x720 4
for p in "$P_PLAIN" "$P_SEED" "$P_FIRST" "$P_ENDS" "$P_B1" "$P_B2" "$P_FAIL" "$P_CANCEL" "$P_EXPIRE"; do
	created_once "$p"
done
[ "$(sim_stats | jq '[.creates_by_prompt[]] | add')" = 9 ] ||
	fail "the simulator made other videos: $(sim_stats | jq -c .creates_by_prompt)"

# What the service charged (the simulator's price per second times the seconds):
# veo-3.1 with sound 0.40, without 0.20; wan-2.6 at 720p 0.10; sora-2-pro at 720p 0.30.
cost_is() {
	local got
	got=$(jq -r .reported_cost_usd "$T/outbox/$1.json")
	[ "$(jq -n --argjson a "$got" --argjson b "$2" '($a - $b) | fabs < 0.000001')" = true ] ||
		fail "$1.json: reported cost $got, expected $2 (usage.cost)"
	[ "$(jq -r .video.usage.cost "$T/outbox/$1.json")" = "$got" ] ||
		fail "$1.json: video.usage.cost differs from reported_cost_usd"
}
cost_is plain 3.2
cost_is seeded 0.5
cost_is first 1.6
cost_is ends 2.4
cost_is batch-1 1.2
cost_is bike 1.6
# The usage log (and so the caps) counts what the service charged, marked as reported.
for n in plain seeded first ends batch-1 bike; do
	u=$(jq -c --arg n "$n" 'select(.name == $n)' "$T/state/usage.jsonl" | tail -n1)
	[ "$(jq -r .cost_reported <<<"$u")" = true ] &&
		[ "$(jq -r .cost_usd <<<"$u")" = "$(jq -r .reported_cost_usd "$T/outbox/$n.json")" ] ||
		fail "usage.jsonl does not count $n at its reported cost: $u"
done
for n in plain seeded first ends batch-1 bike; do
	for v in thumbnail spritesheet; do
		[ "$(jq -r ".files.$v.source" "$T/outbox/$n.json")" = derived ] ||
			fail "$n.json: the $v was not made from the MP4: $(jq -c .files "$T/outbox/$n.json")"
	done
done
[ "$(jq -r .seed "$T/outbox/seeded.json")" = 42 ] || fail "seeded.json does not record the seed"
[ "$(jq -r .audio "$T/outbox/seeded.json")" = false ] || fail "seeded.json does not record audio"
[ "$(jq -r .last_frame "$T/outbox/ends.json")" = ends-last.png ] || fail "ends.json: no last_frame"

# The failure: the service's error text, in plain words, beside the kept input.
grep -q "Video generation failed" "$T/outbox/failed/lantern.error.txt" ||
	fail "lantern.error.txt does not give the service's error: $(cat "$T/outbox/failed/lantern.error.txt")"
[ -f "$T/outbox/failed/lantern.txt" ] || fail "the failed input was not kept"
grep -q "Job was cancelled" "$T/outbox/failed/called-off.error.txt" ||
	fail "called-off.error.txt lacks the service's words: $(cat "$T/outbox/failed/called-off.error.txt")"
grep -q "Job exceeded maximum time to live" "$T/outbox/failed/too-long.error.txt" ||
	fail "too-long.error.txt lacks the service's words: $(cat "$T/outbox/failed/too-long.error.txt")"

# ---- what went on the wire ------------------------------------------------------------
body() { jq -c --arg p "$1" 'select(.prompt == $p)' "$T/bodies.jsonl"; }
bq() { jq -r "$2" <<<"$(body "$1")"; }
[ "$(body "$P_PLAIN" | wc -l)" = 1 ] || fail "expected one create body for the plain prompt"
expect_eq "plain model" google/veo-3.1 "$(bq "$P_PLAIN" .model)"
expect_eq "plain duration" 8 "$(bq "$P_PLAIN" .duration)"
expect_eq "plain duration is a number" number "$(bq "$P_PLAIN" '.duration | type')"
expect_eq "plain resolution" 720p "$(bq "$P_PLAIN" .resolution)"
expect_eq "plain aspect_ratio" 16:9 "$(bq "$P_PLAIN" .aspect_ratio)"
expect_eq "plain: no size, seconds or frames" "null null null null null" \
	"$(bq "$P_PLAIN" '[.size, .seconds, .frame_images, .seed, .generate_audio] | map(tostring) | join(" ")')"
expect_eq "seeded shape" "5 720p 9:16" "$(bq "$P_SEED" '"\(.duration) \(.resolution) \(.aspect_ratio)"')"
expect_eq "seeded seed" 42 "$(bq "$P_SEED" .seed)"
expect_eq "seeded generate_audio" false "$(bq "$P_SEED" .generate_audio)"
expect_eq "first: one first frame" first_frame "$(bq "$P_FIRST" '[.frame_images[].frame_type] | join(",")')"
expect_eq "first: image_url type" image_url "$(bq "$P_FIRST" '.frame_images[0].type')"
url=$(bq "$P_FIRST" '.frame_images[0].image_url.url')
[[ $url == data:image/png\;base64,* ]] || fail "the first frame is not a PNG data URL: ${url:0:40}"
frame_bytes() { bq "$1" ".frame_images[$2].image_url.url" | sed 's/^data:image\/png;base64,//' | base64 -d; }
cmp -s <(frame_bytes "$P_FIRST" 0) "$T/img-first.png" ||
	fail "the first frame's data URL does not hold the paired image"
cmp -s <(frame_bytes "$P_ENDS" 1) "$T/img-last.png" ||
	fail "the last frame's data URL does not hold ends-last.png"
expect_eq "ends: frames" first_frame,last_frame "$(bq "$P_ENDS" '[.frame_images[].frame_type] | join(",")')"
expect_eq "ends generate_audio" true "$(bq "$P_ENDS" .generate_audio)"
cmp -s <(frame_bytes "$P_ENDS" 0) "$T/img-first.png" ||
	fail "the first frame of ends does not hold ends-first.png"
expect_eq "batch seed" 7 "$(bq "$P_B1" .seed)"
expect_eq "batch options passed through" '{"only":["sora-sim"]}' "$(bq "$P_B1" '.provider | tojson')"
expect_eq "batch model" openai/sora-2-pro "$(bq "$P_B1" .model)"
# sora-2-pro lists its pixel sizes in the catalog: the size goes as it is.
expect_eq "batch: size as the model lists it" "1280x720 null null" \
	"$(bq "$P_B1" '[.size, .resolution, .aspect_ratio] | map(tostring) | join(" ")')"
grep -qF "$SORAD_KEY" "$T"/logs/*.log && fail "the API key is in the log"
sorad_stop
echo "gateway_openrouter: ok"
