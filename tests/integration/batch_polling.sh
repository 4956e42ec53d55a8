#!/usr/bin/env bash
# Batch polling (refresh.h): with 30 jobs in flight, their statuses come from list
# calls, so sorad makes far fewer GET /v1/videos/{id} than the polls it needed, and
# every job still completes exactly once. A job whose video lies beyond the pages a
# walk reads (600 newer videos made by someone else) is a straggler: it is finished
# through its own retrieves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 6000 --poll-after-ms 0 --ffmpeg none
sorad_conf "max_in_flight = 64"
sorad_start

# The straggler first; then 600 videos of another client bury it.
drop old.txt "the straggler"
straggler_created() { [ "$(sim_created_count "the straggler")" = 1 ]; }
wait_for 20 "the straggler's create" straggler_created
for i in $(seq 1 600); do
	printf -- '--next\nurl = "%s/v1/videos"\nheader = "Authorization: Bearer sk-other"\nform = "prompt=filler %d"\noutput = "/dev/null"\n' "$SIM_URL" "$i"
done | tail -n +2 >"$T/fillers.curl"
curl -fsS --no-progress-meter --parallel --parallel-max 16 -K "$T/fillers.curl" || fail "creating the fillers"

for i in $(seq 1 30); do
	drop "job$i.txt" "batch job $i"
done
for i in $(seq 1 30); do
	wait_done "job$i" 60
done
wait_done old 60
for i in $(seq 1 30); do
	expect_eq "videos created for job$i" 1 "$(sim_created_count "batch job $i")"
done
expect_eq "videos created for the straggler" 1 "$(sim_created_count "the straggler")"

stats=$(sim_stats)
retrieves=$(echo "$stats" | jq '[.requests["GET /v1/videos/{id}"] // {} | .[]] | add // 0')
lists=$(echo "$stats" | jq '[.requests["GET /v1/videos"] // {} | .[]] | add // 0')
echo "retrieves: $retrieves, lists: $lists"
# Per-job polling needs at least one retrieve per job (6 s of generation against
# polls at 1 s, 2 s, 2 s...: three or four each), so 31 jobs need 90 or more.
[ "$retrieves" -le 12 ] || fail "expected few retrieves with batch polling, got $retrieves"
[ "$lists" -ge 1 ] || fail "expected list calls, got none"
# The straggler was missed by a walk and then retrieved by itself.
grep -q 'job=old .*not in the listed videos: retrieving it by itself' "$T/sorad.out" ||
	fail "the straggler was never found missing from the list"
grep -q 'job=old .*GET /videos/video_[0-9a-f]*: HTTP 200' "$T/sorad.out" ||
	fail "the straggler was never retrieved by itself"
if grep 'not in the listed videos' "$T/sorad.out" | grep -v 'job=old '; then
	fail "jobs other than the straggler were missed by the walks"
fi
for n in old job1 job30; do
	[ "$(jq -r .files.video.bytes "$T/outbox/$n.json")" = "$(stat -c %s "$T/outbox/$n.mp4")" ] ||
		fail "$n.json does not match $n.mp4"
done
no_partials
sorad_stop
echo "PASS"
