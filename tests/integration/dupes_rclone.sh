#!/usr/bin/env bash
# A folder of prompts copied into the inbox with real rclone, twice: `rclone copy`
# skips files the destination has, but sorad takes its files out of the inbox, so the
# second run delivers all of them again. Those second copies are not paid again: each
# fails as a duplicate ("Already made as ...") with no create at the simulator.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

command -v rclone >/dev/null || fail "rclone is not installed (scripts/install-deps.sh)"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 53
sorad_conf
sorad_start

SRC="$T/src"
mkdir -p "$SRC"
names=(fox owl elk)
declare -A prompt=(
	[fox]='A red fox trotting through fresh snow.'
	[owl]='A snowy owl gliding over a frozen lake.'
	[elk]='An elk drinking from a misty river at dawn.'
)
for n in "${names[@]}"; do
	printf '%s' "${prompt[$n]}" >"$SRC/$n.txt"
done
: >"$T/rclone.conf" # local paths only: no remotes, no user configuration read

# rclone_copy RUN: `rclone copy SRC INBOX`, its log in $T/rclone.RUN.log; checks that
# it copied all three files.
rclone_copy() {
	rclone copy --config "$T/rclone.conf" -v "$SRC" "$T/inbox" >"$T/rclone.$1.log" 2>&1 ||
		fail "rclone copy ($1): $(cat "$T/rclone.$1.log")"
	[ "$(grep -c ': Copied (new)$' "$T/rclone.$1.log")" = 3 ] ||
		fail "rclone copy ($1) did not copy the three prompts: $(cat "$T/rclone.$1.log")"
}

# 1. The first copy: three jobs, each made once.
rclone_copy first
for n in "${names[@]}"; do
	wait_done "$n"
done
for n in "${names[@]}"; do
	expect_creates "${prompt[$n]}" 1
	[ "$(job_field "$n" .state)" = "done" ] || fail "$n is $(job_field "$n" .state), not done"
done
wait_for 20 "the inbox to be empty" test -z "$(ls -A "$T/inbox")"

# 2. The same copy again: the inbox lacks the files, so rclone delivers them again;
# each is refused as a duplicate of the job that made it, and nothing is created.
rclone_copy second
for n in "${names[@]}"; do
	wait_failed "$n-2"
done
for n in "${names[@]}"; do
	e="$T/outbox/failed/$n-2.error.txt"
	grep -q "^Already made as $n on .*/$n.mp4)" "$e" || fail "$n-2.error.txt: $(cat "$e")"
	grep -q "again: true" "$e" || fail "$n-2.error.txt names no way out: $(cat "$e")"
	[ "$(job_field "$n-2" .error_code)" = duplicate ] ||
		fail "$n-2's code: $(job_field "$n-2" .error_code)"
	[ "$(job_field "$n-2" .creates)" = 0 ] || fail "$n-2 counts $(job_field "$n-2" .creates) creates"
	expect_creates "${prompt[$n]}" 1
	[ ! -e "$T/outbox/$n-2.json" ] || fail "$n-2 has an output set"
done
[ "$(sim_total_creates)" = 3 ] || fail "the simulator made $(sim_total_creates) videos, not 3"
expect_usage_agrees
sorad_stop
echo "PASS dupes_rclone"
