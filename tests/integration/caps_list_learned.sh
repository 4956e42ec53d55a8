#!/usr/bin/env bash
# Capabilities learned (caps.h): a service whose list answers 405, or LiteLLM's
# "not supported" 500, is marked as having no list the first time batch polling asks;
# from then on every job polls itself by retrieve, and the log says so once, not once
# per poll (no warning per walk, no retries of the refused list). Every job completes
# with one create.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

for mode in 405 litellm-500; do
	sim_start --gen-ms 3000 --poll-after-ms 0 --ffmpeg none --list-mode "$mode"
	rm -rf "$T/state" "$T/outbox" "$T/logs" "$T/inbox"
	sorad_conf "max_in_flight = 16"
	sorad_start
	for i in $(seq 1 8); do
		drop "job$i.txt" "A lighthouse in fog, shot $i ($mode)."
	done
	for i in $(seq 1 8); do
		wait_done "job$i" 60
		expect_eq "videos created for job$i ($mode)" 1 \
			"$(sim_created_count "A lighthouse in fog, shot $i ($mode).")"
	done
	sorad_stop
	log=$(cat "$T"/logs/*.log)
	learned=$(grep -c 'capabilities: learned that the service cannot list videos' <<<"$log" || true)
	expect_eq "lines saying the list is unavailable ($mode)" 1 "$learned"
	# Nothing else about the list above debug: no warning per walk, no retries.
	noisy=$(grep -E ' (INFO|WARNING|ERROR) ' <<<"$log" | grep -E 'GET /videos\?|listing videos|list' |
		grep -v 'capabilities: learned that the service cannot list videos' || true)
	[ -z "$noisy" ] || fail "more lines about the list ($mode):
$noisy"
	stats=$(sim_stats)
	lists=$(echo "$stats" | jq '[.requests["GET /v1/videos"] // {} | .[]] | add // 0')
	retrieves=$(echo "$stats" | jq '[.requests["GET /v1/videos/{id}"] // {} | .[]] | add // 0')
	echo "list $mode: $lists list call(s), $retrieves retrieves"
	# One walk learns it (walks in flight together may share the lesson); never a retry.
	[ "$lists" -ge 1 ] && [ "$lists" -le 2 ] || fail "expected one or two list calls ($mode), got $lists"
	[ "$retrieves" -ge 8 ] || fail "expected the jobs to poll by retrieve ($mode), got $retrieves"
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
done
echo "PASS"
