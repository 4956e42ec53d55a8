#!/usr/bin/env bash
# daemon_writers.sh — prompts delivered by real tools, each picked up exactly once and
# only when complete (the prompt in outbox/NAME.json is the whole file):
#   1. rsync (its .NAME.XXXXXX temp file, renamed into place), one file and a tree;
#   2. a large reference image written slowly, 64 KiB every 50 ms by a writer that keeps
#      it open, with its paired prompt dropped first: the prompt waits for the image;
#   3. an editor's save: vim's "4913" probe, the NAME~ backup, .NAME.swp, then the file
#      written under a temp name and renamed over the final one;
#   4. Syncthing: .syncthing.NAME.tmp (and ~syncthing~NAME.tmp) written, then renamed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

command -v rsync >/dev/null || fail "rsync is not installed (scripts/install-deps.sh)"

sim_start --gen-ms 300 --api-key "$SORAD_KEY"
# A settle time well above the image writer's pauses (even on a loaded CI machine) but
# well below its whole copy (~20 chunks, 50 ms apart): only the fix makes it wait.
sorad_conf 'settle_ms = 400'
mkdir -p "$T/inbox" "$T/src"
sorad_start

# expect_job NAME TEXT: NAME completes with exactly TEXT as its prompt, created once.
expect_job() {
	wait_done "$1"
	local got
	got=$(jq -r .prompt "$T/outbox/$1.json")
	[ "$got" = "$2" ] || fail "$1: expected the prompt '$2', got '$got'"
	[ "$(sim_created_count "$2")" = 1 ] ||
		fail "$1: created $(sim_created_count "$2") times, expected once"
}

# 1. rsync: one file, then a tree of several, each through rsync's own temp names.
p1='An rsync delivery: a red kite over green hills, wide shot.'
printf '%s' "$p1" >"$T/src/kite.txt"
rsync "$T/src/kite.txt" "$T/inbox/"
mkdir -p "$T/src/tree"
for i in 1 2 3; do
	printf 'An rsync tree delivery %d: paper lanterns rising at night.' "$i" >"$T/src/tree/lantern$i.txt"
done
rsync -r "$T/src/tree/" "$T/inbox/"
expect_job kite "$p1"
for i in 1 2 3; do
	expect_job "lantern$i" "An rsync tree delivery $i: paper lanterns rising at night."
done

# 2. A slow writer of a ~1.3 MB reference image; the paired prompt arrives first.
ffmpeg -v error -y -f lavfi -i "nullsrc=s=1280x720,geq=random(1)*255:128:128" -frames:v 1 \
	"$T/src/big.png"
bytes=$(stat -c %s "$T/src/big.png")
chunks=$(((bytes + 65535) / 65536))
p2='A slowly copied reference: the same scene, gently animated.'
exec {img}>"$T/inbox/big.png"
dd if="$T/src/big.png" bs=64k count=1 status=none >&$img
drop big.txt "$p2"
for ((c = 1; c < chunks; c++)); do
	dd if="$T/src/big.png" bs=64k skip=$c count=1 status=none >&$img
	sleep 0.05 # pacing, like a copy over a slow link; nothing waits on it
done
# Just before the writer closes: both files must still wait in the inbox.
[ -e "$T/inbox/big.txt" ] || fail "big.txt was claimed while its image was still being written"
[ -e "$T/inbox/big.png" ] || fail "big.png was taken while still being written"
exec {img}>&-
expect_job big "$p2"
[ "$(jq -r .reference "$T/outbox/big.json")" = big.png ] ||
	fail "big.json: the job did not use big.png as its reference: $(jq -c . "$T/outbox/big.json")"

# 3. An editor's save, the way vim does it: a write probe named 4913, a backup NAME~,
#    the swap file .NAME.swp; the new text under a temp name renamed over NAME.
p3='An editor save: a calico cat asleep on a windowsill, soft light.'
: >"$T/inbox/4913"
rm -f "$T/inbox/4913"
printf 'A swap file, never a prompt.' >"$T/inbox/.cat.txt.swp"
printf 'An old version kept as a backup, never a prompt.' >"$T/inbox/cat.txt~"
printf '%s' "$p3" >"$T/inbox/.cat.txt.new"
mv "$T/inbox/.cat.txt.new" "$T/inbox/cat.txt"
rm -f "$T/inbox/.cat.txt.swp"
expect_job cat "$p3"
[ -e "$T/inbox/cat.txt~" ] || fail "the backup cat.txt~ was claimed"
[ "$(sim_created_count 'An old version kept as a backup, never a prompt.')" = 0 ] ||
	fail "the editor backup was submitted"

# 4. Syncthing: the temp file is written (slowly, in two parts), then renamed.
p4='A Syncthing delivery: waves breaking on black sand, slow motion.'
printf '%s' "${p4:0:20}" >"$T/inbox/.syncthing.waves.txt.tmp"
printf '%s' "${p4:20}" >>"$T/inbox/.syncthing.waves.txt.tmp"
mv "$T/inbox/.syncthing.waves.txt.tmp" "$T/inbox/waves.txt"
p5='An older Syncthing delivery: fog rolling over a pine forest.'
printf '%s' "$p5" >"$T/inbox/~syncthing~fog.txt.tmp"
mv "$T/inbox/~syncthing~fog.txt.tmp" "$T/inbox/fog.txt"
expect_job waves "$p4"
expect_job fog "$p5"

# Nothing else was ever submitted: one create per delivered prompt.
total=$(sim_stats | jq '[.creates_by_prompt[]] | add')
[ "$total" = 8 ] || fail "expected 8 creates, got $total: $(sim_stats | jq -c .creates_by_prompt)"
no_partials
sorad_stop
echo ok
