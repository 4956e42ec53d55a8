#!/usr/bin/env bash
# A claim makes no inode on the loop thread (spares.h): its claim directory is a spare
# directory made ahead in STATE/inputs, and its output name's reservation
# (OUTBOX/.NAME.reserved) a spare file made ahead in STATE/spares, renamed into the
# outbox and back when the job ends. Checked by inode: the claim directory and the
# reservation are inodes the pools held before the drop, and the reservation's inode
# goes back to STATE/spares. The outbox never holds a spare; a clean stop removes them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

# 5 s of generation: a window to see the reservation while the job runs.
sim_start --gen-ms 5000 --api-key "$SORAD_KEY" --seed 31
sorad_conf "max_in_flight = 4"
sorad_start

# With max_in_flight 4, 32 of each are made ahead, twice that kept (spares_low).
files() { find "$T/state/spares" -mindepth 1 -maxdepth 1 -type f -printf '%i\n' | sort; }
dirs() { find "$T/state/inputs" -mindepth 1 -maxdepth 1 -type d -name '.spare-*' -printf '%i\n' | sort; }
made_ahead() { [ "$(files | wc -l)" = 64 ] && [ "$(dirs | wc -l)" = 64 ]; }
wait_for 20 "the spares made ahead (now $(files | wc -l) files, $(dirs | wc -l) directories)" made_ahead
files >"$T/files-before"
dirs >"$T/dirs-before"

drop kept.txt 'A snail crossing a garden path at dawn.'
wait_state kept running 30
res="$T/outbox/.kept.reserved"
[ -f "$res" ] || fail "no reservation while kept runs: $(ls -A "$T/outbox")"
ino=$(stat -c %i "$res")
grep -qx "$ino" "$T/files-before" || fail "the reservation (inode $ino) is not a file made ahead"
grep -qF "$T/state " "$res" || fail "the reservation does not name the state directory: $(cat "$res")"
claim=$(find "$T/state/inputs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%i\n')
[ -n "$claim" ] && grep -qx "$claim" "$T/dirs-before" ||
	fail "the claim directory (inode $claim) is not a directory made ahead"
[ "$(files | wc -l)" = 63 ] || fail "STATE/spares holds $(files | wc -l) files while one is a reservation"

wait_done kept
check_set kept 1280x720 4
[ ! -e "$res" ] || fail "the reservation outlived the job"
files | grep -qx "$ino" || fail "the reservation's inode did not go back to STATE/spares"
back() { [ "$(files | wc -l)" = 64 ]; }
wait_for 10 "64 spare files again (now $(files | wc -l))" back
[ "$(find "$T/outbox" -mindepth 1 -maxdepth 1 ! -name failed -printf '%f\n' | sort | tr '\n' ' ')" = \
	"kept.json kept.mp4 kept.spritesheet.jpg kept.thumbnail.webp " ] ||
	fail "unexpected files in the outbox: $(ls -A "$T/outbox")"

sorad_stop
[ -z "$(files)" ] || fail "a clean stop left $(files | wc -l) spare files"
[ -z "$(dirs)" ] || fail "a clean stop left $(dirs | wc -l) spare directories"
echo "ok: the claim directory and the reservation were made ahead, the reservation's inode went back, none left after the stop"
