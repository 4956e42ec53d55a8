#!/usr/bin/env bash
# Seeded fault injection at probability 1: 429 with retry-after headers and nothing
# created; 500/503; a reset create that did create (the lost response a client must
# reconcile); a truncated body (curl exit 18); slow responses that do not block
# other connections; determinism by --seed; /__sim never faulted.
source "$(dirname "$0")/lib.sh"

# curl_exit ARGS...: runs curl on the sim and prints its exit status.
curl_exit() {
	local rc=0
	curl -sS -o /dev/null -H "Authorization: Bearer $SIM_KEY" "$@" 2>>"$T/curl.err" || rc=$?
	echo "$rc"
}

# 429: nothing processed, retry-after headers, rate_limit_exceeded.
sim_start --p429 1
code=$(sim_req POST /v1/videos -F "prompt=rate limited")
expect_error 429 "$code" requests null rate_limit_exceeded
expect_eq "retry-after" 1 "$(header_get retry-after)"
ms=$(header_get retry-after-ms)
[ -n "$ms" ] && [ "$ms" -ge 200 ] && [ "$ms" -le 500 ] || fail "retry-after-ms '$ms' not in 200..500"
expect_eq "429 created nothing" 0 "$(sim_created_count "rate limited")"
expect_eq "429 counted" 1 "$(sim_stats | jq -r '.requests["POST /v1/videos"]["429"]')"
expect_eq "/__sim is never faulted" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$SIM_URL/__sim/stats")"

# 5xx: 500 or 503 with a server_error body; nothing created.
sim_start --p5xx 1 --seed 3
statuses=""
for i in $(seq 1 12); do
	code=$(sim_req POST /v1/videos -F "prompt=server error")
	case "$code" in 500 | 503) ;; *) fail "p5xx gave $code" ;; esac
	expect_eq "5xx type" server_error "$(body_get .error.type)"
	statuses="$statuses $code"
done
[[ $statuses == *500* && $statuses == *503* ]] || fail "expected both 500 and 503 in:$statuses"
expect_eq "5xx created nothing" 0 "$(sim_created_count "server error")"

# Reset: the connection drops with no response, but the video was created.
sim_start --preset 1
rc=$(curl_exit -F "prompt=lost response" "$SIM_URL/v1/videos")
[ "$rc" = 52 ] || [ "$rc" = 56 ] || fail "reset create: curl exit $rc, expected 52 or 56"
expect_eq "reset create did create" 1 "$(sim_created_count "lost response")"
rc=$(curl_exit "$SIM_URL/v1/videos")
[ "$rc" = 52 ] || [ "$rc" = 56 ] || fail "reset list: curl exit $rc, expected 52 or 56"
sim_stats >"$T/stats"
expect_eq "resets counted (create)" 1 "$(jq -r '.requests["POST /v1/videos"].reset' "$T/stats")"
expect_eq "resets counted (list)" 1 "$(jq -r '.requests["GET /v1/videos"].reset' "$T/stats")"
expect_eq "resets counted among the faults" 2 "$(jq -r '.faults.reset' "$T/stats")"

# Truncate: Content-Length announced, body cut short; the create did create.
sim_start --ptruncate 1 --gen-ms 100
rc=$(curl_exit -F "prompt=cut short" "$SIM_URL/v1/videos")
expect_eq "truncated create: curl exit" 18 "$rc"
expect_eq "truncated create did create" 1 "$(sim_created_count "cut short")"
expect_eq "truncated counted" 1 "$(sim_stats | jq -r '.requests["POST /v1/videos"].truncated')"

# Truncated content: every response of this sim is cut, so the id of its video is
# learnt from a clean sim with the same (default) seed: ids depend only on it.
sim_start --gen-ms 100
clean_id=$(sim_create "cut short")
sim_start --ptruncate 1 --gen-ms 100
rc=$(curl_exit -F "prompt=cut short" "$SIM_URL/v1/videos")
expect_eq "truncated create (2)" 18 "$rc"
truncated_id_completed() {
	[ "$(curl -s -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos/$clean_id" | head -c 200 |
		grep -c '"status":"completed"')" = 1 ]
}
wait_for 30 "the truncated create's video to complete" truncated_id_completed
rc=$(curl_exit "$SIM_URL/v1/videos/$clean_id/content")
expect_eq "truncated content: curl exit" 18 "$rc"

# Slow: delayed by --slow-ms, while other connections are served at once.
sim_start --pslow 1 --slow-ms 2000
start=$(date +%s%N)
for i in 1 2 3 4 5 6 7 8; do
	curl -sS -o "$T/slow.$i" -w '%{http_code}' -H "Authorization: Bearer $SIM_KEY" "$SIM_URL/v1/videos" >"$T/slow.code.$i" &
	_pids+=($!)
done
fast=$(curl -sS -o /dev/null -w '%{time_total}' "$SIM_URL/__sim/stats")
awk -v t="$fast" 'BEGIN { exit !(t < 1.5) }' || fail "/__sim/stats took ${fast}s while slow responses were pending"
for i in 1 2 3 4 5 6 7 8; do
	wait_for 10 "slow response $i" test -s "$T/slow.code.$i"
	expect_eq "slow response $i" 200 "$(cat "$T/slow.code.$i")"
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -ge 2000 ] || fail "slow responses came after ${elapsed_ms} ms, expected >= 2000"
# Serialized, 8 responses would take 16 s; concurrently they take a little over 2 s.
[ "$elapsed_ms" -lt 8000 ] || fail "8 slow responses took ${elapsed_ms} ms: they were serialized"
expect_eq "slow counted under real status" 8 "$(sim_stats | jq -r '.requests["GET /v1/videos"]["200"]')"
expect_eq "slow counted among the faults" 8 "$(sim_stats | jq -r '.faults.slow')"

# Determinism: the same seed gives the same fault sequence and the same ids. (No
# $(...) here: a sim started in a subshell would escape lib.sh's cleanup.)
seq_of() {
	local i code
	SEQ=""
	sim_start --seed 42 --p429 0.3 --p5xx 0.3 --gen-ms 100
	for i in $(seq 1 20); do
		code=$(sim_req POST /v1/videos -F "prompt=det $i")
		SEQ="$SEQ $code"
		[ "$code" != 200 ] || SEQ="$SEQ:$(body_get .id)"
	done
}
seq_of
first=$SEQ
seq_of
second=$SEQ
[[ $first == *429* && $first == *200:video_* ]] || fail "seeded run shows no mix of faults: $first"
expect_eq "same seed, same faults and ids" "$first" "$second"
echo "PASS sim_faults"
