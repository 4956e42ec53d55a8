#!/usr/bin/env bash
# Hostile world: two daemons sharing one outbox (two state directories, as two
# machines syncing one outbox folder see it), each given a prompt named clip.txt at
# the same moment. Names are reserved on disk, so both paid sets survive under two
# names (clip, clip-2): neither overwrites the other. And when a file appears under a
# job's name after the reservation (a peer machine whose reservation had not synced
# yet), the final rename never replaces it: the job keeps its download and waits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 1500 --api-key "$SORAD_KEY" --seed 53
mkdir -p "$T/a/inbox" "$T/b/inbox" "$T/shared"
for d in a b; do
	cat >"$T/$d.conf" <<CONF
api_base = "$SIM_URL/v1"
inbox = "$T/$d/inbox"
outbox = "$T/shared"
state_dir = "$T/$d/state"
log_dir = "$T/$d/logs"
settle_ms = 0
poll_initial = 1
poll_max = 2
listen = ""
notify = false
log_level = "debug"
CONF
	OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" -c "$T/$d.conf" -f >>"$T/$d.out" 2>&1 &
	_pids+=("$!")
	wait_for 20 "daemon $d ready" grep -q ' ready: ' "$T/$d.out"
done
printf 'A clip made by daemon A.' >"$T/a/inbox/.clip.tmp"
printf 'A clip made by daemon B.' >"$T/b/inbox/.clip.tmp"
mv "$T/a/inbox/.clip.tmp" "$T/a/inbox/clip.txt"
mv "$T/b/inbox/.clip.tmp" "$T/b/inbox/clip.txt"
both() { [ -f "$T/shared/clip.json" ] && [ -f "$T/shared/clip-2.json" ]; }
wait_for 60 "clip.json and clip-2.json in the shared outbox" both
p1=$(jq -r '.prompt // .job.prompt' "$T/shared/clip.json")
p2=$(jq -r '.prompt // .job.prompt' "$T/shared/clip-2.json")
[ "$p1" != "$p2" ] || fail "both sets carry the same prompt ($p1): one overwrote the other"
v1=$(jq -r '.video.id' "$T/shared/clip.json")
v2=$(jq -r '.video.id' "$T/shared/clip-2.json")
[ "$v1" != "$v2" ] || fail "both sets name one video"
for n in clip clip-2; do
	[ -s "$T/shared/$n.mp4" ] || fail "$n.mp4 missing"
done
left=$(find "$T/shared" -maxdepth 1 -name '.*.reserved')
[ -z "$left" ] || fail "reservations left behind: $left"

# A peer's file lands under the name while A's job runs: never overwritten.
printf 'A take that a peer machine also made.' >"$T/a/inbox/.take.tmp"
mv "$T/a/inbox/.take.tmp" "$T/a/inbox/take.txt"
wait_for 30 "take to run" jq -e '.state == "running"' "$T/a/state/jobs/take.json"
printf 'the peer machine made this' >"$T/shared/take.mp4"
wait_for 60 "A to refuse to overwrite take.mp4" grep -q "take.mp4 exists and is not this job's" "$T/a.out"
expect_eq "the peer's take.mp4" "the peer machine made this" "$(cat "$T/shared/take.mp4")"
[ ! -e "$T/shared/take.json" ] || fail "take.json written over the peer's file"
mv "$T/shared/take.mp4" "$T/peer-take.mp4"
wait_for 90 "take.json once the place is free" test -f "$T/shared/take.json"
[ "$(head -c 8 "$T/shared/take.mp4" | tail -c 4)" = ftyp ] || fail "take.mp4 is not A's video"
echo ok
