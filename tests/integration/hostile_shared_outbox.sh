#!/usr/bin/env bash
# Hostile world: two daemons sharing one outbox (two state directories, as two
# machines syncing one outbox folder see it), each given a prompt named clip.txt at
# the same moment. Names are reserved on disk, so both paid sets survive under two
# names (clip, clip-2): neither overwrites the other.
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
echo ok
