#!/usr/bin/env bash
# examples/gateways/litellm-veo.conf works end to end against sora-sim's picture of a
# LiteLLM proxy in front of Veo (--profile litellm-veo): ids of ~180 characters with
# '+', '/' and '=', "processing" without progress, no prompt, no list/delete/remix,
# the MP4 for every variant, no Content-Length, Veo's own model names. Each prompt is
# created once; the thumbnail and spritesheet are made by sorad from the video (or, with
# ffmpeg hidden from PATH, left out with the reason in NAME.json); the log says once
# that the list is missing, never per poll.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

sim_start --gen-ms 1500 --api-key "$SORAD_KEY" --seed 12 --profile litellm-veo
gateway_conf litellm-veo "$SIM_URL/v1"
gateway_sorad_start

drop meadow.txt 'A meadow of poppies in wind, low angle, golden hour.'
drop tall.txt $'---\nmodel: veo-3.1\nsize: 720x1280\nseconds: 4\n---\nA waterfall in a fern gorge, vertical.\n'
wait_done meadow 90
wait_done tall 90
check_set meadow 1280x720 8
check_set tall 720x1280 4
created_once 'A meadow of poppies in wind, low angle, golden hour.'
created_once 'A waterfall in a fern gorge, vertical.'
for n in meadow tall; do
	id=$(jq -r .video.id "$T/outbox/$n.json")
	[ "${#id}" -ge 150 ] || fail "$n.json: expected a long LiteLLM id, got $id"
	for v in thumbnail spritesheet; do
		[ "$(jq -r ".files.$v.source" "$T/outbox/$n.json")" = derived ] ||
			fail "$n.json: the $v is not marked derived: $(jq -c .files "$T/outbox/$n.json")"
	done
	[ "$(jq -r .files.video.source "$T/outbox/$n.json")" = service ] || fail "$n.json: video source"
	[ "$(head -c 4 "$T/outbox/$n.thumbnail.webp")" = RIFF ] || fail "$n.thumbnail.webp is not a WebP"
	[ "$(od -An -tx1 -N3 "$T/outbox/$n.spritesheet.jpg" | tr -d ' ')" = ffd8ff ] ||
		fail "$n.spritesheet.jpg is not a JPEG"
done
[ "$(jq -r .model "$T/outbox/tall.json")" = veo-3.1 ] || fail "tall.json: model is not veo-3.1"
n=$(grep -c 'cannot list videos' "$T"/logs/sorad-*.log || true)
[ "$n" -le 1 ] || fail "the missing list was logged $n times"

# LiteLLM cannot remix Veo videos: the first remix is answered 500 "not supported"
# (a 5xx: in doubt, one remix sent, never repeated); once that is learned, a second
# remix fails at once without sending anything.
drop again.txt $'---\nremix_of: meadow\n---\nThe poppies turn blue.\n'
wait_for 60 "again to wait in doubt" jq -e '.state == "in_doubt"' "$T/state/jobs/again.json"
[ "$(jq -r .creates "$T/state/jobs/again.json")" = 1 ] || fail "again sent more than one remix"
drop twice.txt $'---\nremix_of: meadow\n---\nThe poppies turn white.\n'
wait_failed twice 30
grep -q "The service cannot remix videos" "$T/outbox/failed/twice.error.txt" ||
	fail "twice.error.txt: $(cat "$T/outbox/failed/twice.error.txt")"
[ "$(jq -r .creates "$T/state/jobs/twice.json")" = 0 ] || fail "twice sent a remix"
sorad_stop

# ffmpeg hidden from PATH: the set completes without the variants, and says why.
# (only sorad's own environment: it looks for ffmpeg on its PATH)
env -u OPENAI_API_KEY PATH=/nonexistent "$SORAD_BIN" -c "$T/sorad.conf" -f >>"$T/sorad.out" 2>&1 &
SORAD_PID=$!
_pids+=("$SORAD_PID")
wait_for 20 "sorad to be ready (see $T/sorad.out)" _sorad_ready_after 1
drop bare.txt 'A kite over dunes, wide shot.'
wait_done bare 90
sorad_stop
[ -f "$T/outbox/bare.mp4" ] || fail "bare.mp4 missing"
[ ! -e "$T/outbox/bare.thumbnail.webp" ] || fail "a thumbnail appeared without ffmpeg"
[ "$(jq -r '.files.thumbnail' "$T/outbox/bare.json")" = null ] ||
	fail "bare.json does not say the thumbnail is missing"
jq -e '(.missing.thumbnail | length > 0) and (.missing.spritesheet | length > 0)' \
	"$T/outbox/bare.json" >/dev/null ||
	fail "bare.json gives no reason for the missing thumbnail: $(cat "$T/outbox/bare.json")"
created_once 'A kite over dunes, wide shot.'
echo "gateway_litellm_veo: ok"
