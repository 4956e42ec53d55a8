#!/usr/bin/env bash
# Every prompt format becomes a complete, valid output set: a plain .txt, front matter
# with sora-2-pro, a paired reference image, `reference:`, a .json job, a .jsonl batch
# whose bad line fails alone, a remix of an earlier job by NAME, and `name:`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 1200 --api-key "$SORAD_KEY" --seed 3
sorad_conf
sorad_start

drop plain.txt $'\xEF\xBB\xBFA calico cat playing piano on stage, warm spotlight.\r\n'
drop pro.txt $'---\r\nmodel: sora-2-pro\r\nsize: 1792x1024\r\nseconds: 8\r\n---\r\nAerial shot of a mountain lake at golden hour.\r\n'
image 1280x720 "$T/lake.png"
cp "$T/lake.png" "$T/inbox/.paired.png.tmp" && mv "$T/inbox/.paired.png.tmp" "$T/inbox/paired.png"
drop paired.txt 'The lake comes alive: slow dolly forward, ripples in the water.'
image 720x1280 "$T/portrait.jpg"
cp "$T/portrait.jpg" "$T/inbox/style.jpg"
drop referenced.json '{"prompt": "A tall waterfall, static camera.", "size": "720x1280", "reference": "style.jpg", "name": "waterfall"}'
drop batch.jsonl $'{"prompt": "Close-up of a watch on marble, soft focus."}\n\n{"prompt": "bad", "seconds": 10}\n{"prompt": "Rain on a window at night.", "name": "rain"}\n'

wait_done plain
wait_done pro
wait_done paired
wait_done waterfall
wait_done batch-1
wait_done rain
wait_failed batch-3
check_set plain 1280x720 4
check_set pro 1792x1024 8
check_set paired 1280x720 4
check_set waterfall 720x1280 4
check_set batch-1 1280x720 4
check_set rain 1280x720 4

# The paired image went with its prompt; the shared reference stays in the inbox.
[ "$(jq -r .reference "$T/outbox/paired.json")" = paired.png ] || fail "paired.png was not used"
[ ! -e "$T/inbox/paired.png" ] || fail "the paired image was left in the inbox"
[ -e "$T/inbox/style.jpg" ] || fail "a shared reference image must stay in the inbox"
grep -q "10 seconds is not available for sora-2" "$T/outbox/failed/batch-3.error.txt" ||
	fail "batch-3.error.txt does not explain: $(cat "$T/outbox/failed/batch-3.error.txt")"
jq -e '.prompt == "bad"' "$T/outbox/failed/batch-3.jsonl" >/dev/null ||
	fail "the failed batch line was not kept in failed/batch-3.jsonl"

# A remix of an earlier job, named by that job's NAME.
drop snow.txt $'---\nremix_of: plain\n---\nThe same scene, but it is snowing.\n'
wait_done snow
check_set snow 1280x720 4
src=$(jq -r .video.id "$T/outbox/plain.json")
[ "$(jq -r .video.remixed_from_video_id "$T/outbox/snow.json")" = "$src" ] ||
	fail "snow.json is not a remix of plain ($src)"

# A remix dropped together with its source, even just before it, waits for it.
drop storm.txt $'---\nremix_of: calm\n---\nThe same sea in a storm.\n'
drop calm.txt 'A calm sea at noon, static wide shot.'
wait_done calm
wait_done storm
[ "$(jq -r .video.remixed_from_video_id "$T/outbox/storm.json")" = "$(jq -r .video.id "$T/outbox/calm.json")" ] ||
	fail "storm.json is not a remix of calm"

# The same name dropped again later becomes NAME-2.
drop plain.txt 'A calico cat playing piano on stage, second take.'
wait_done plain-2
check_set plain-2 1280x720 4

no_partials
[ -z "$(find "$T/inbox" -mindepth 1 -maxdepth 1 ! -name style.jpg)" ] || fail "inbox not empty: $(ls -A "$T/inbox")"
# Emptied claim directories may stay as hidden spares (.spare-PID-N) for later claims,
# beside .reading-1, the first attempt's counter every claim links to.
claims=$(find "$T/state/inputs" -mindepth 1 -maxdepth 1 ! -name '.spare-*' ! -name .reading-1 -printf '%f\n')
[ -z "$claims" ] || fail "claims left in state/inputs: $claims"
spares=$(find "$T/state/inputs" -mindepth 1 -maxdepth 1 -name '.spare-*' | wc -l)
[ "$spares" -gt 0 ] || fail "no emptied claim directory was kept as a spare"
[ -z "$(find "$T/state/inputs" -mindepth 2)" ] || fail "a spare is not empty: $(find "$T/state/inputs" -mindepth 2)"
# Each prompt was created exactly once.
for p in "A calico cat playing piano on stage, warm spotlight." "Rain on a window at night."; do
	[ "$(sim_created_count "$p")" = 1 ] || fail "'$p' created $(sim_created_count "$p") times"
done
sorad_stop
# A clean stop removes the spares (.reading-1, what every first attempt links to, stays).
left=$(find "$T/state/inputs" -mindepth 1 -maxdepth 1 ! -name .reading-1 -printf '%f ')
[ -z "$left" ] || fail "left in state/inputs after stop: $left"
echo "ok"
