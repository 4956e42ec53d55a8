# shellcheck shell=bash
# money_lib.sh — helpers for the "never pay twice" tests (sourced after lib.sh and
# daemon_lib.sh, not run by ctest on its own).

# job_field NAME JQ: a field of STATE/jobs/NAME.json ("" when there is no record).
job_field() {
	jq -r "$2 // empty" "$T/state/jobs/$1.json" 2>/dev/null || true
}

# wait_state NAME STATE [SECONDS]: waits until job NAME's record is in STATE.
wait_state() {
	wait_for "${3:-60}" "job $1 to be $2 (see $T/sorad.out)" _job_in "$1" "$2"
}
_job_in() {
	kill -0 "$SORAD_PID" 2>/dev/null || fail "sorad exited: $(tail -5 "$T/sorad.out")"
	[ "$(job_field "$1" .state)" = "$2" ]
}

# expect_creates PROMPT N: sora-sim created exactly N videos with this prompt.
expect_creates() {
	local n
	n=$(sim_created_count "$1")
	[ "$n" = "$2" ] || fail "prompt '$1' was created $n times, expected $2: $(sim_stats | jq -c .creates_by_prompt)"
}

# sim_total_creates: every video sora-sim created.
sim_total_creates() {
	sim_stats | jq '[.creates_by_prompt[]] | add // 0'
}

# usage_creates: the creates STATE/usage.jsonl counts as (possibly) spent: the last line
# of every (name, create) that is not "void", plus older lines keyed by video id only.
usage_creates() {
	[ -f "$T/state/usage.jsonl" ] || { echo 0; return; }
	jq -s '
	  [ .[] | select(type == "object") ] as $l
	  | ([ $l[] | select(.create != null) ] | group_by([.name, .create])
	     | map(last) | map(select(.state != "void")) | length)
	  + ([ $l[] | select(.create == null) ] | length)' "$T/state/usage.jsonl"
}

# expect_usage_agrees: usage.jsonl counts exactly the creates the simulator made.
expect_usage_agrees() {
	local u s
	u=$(usage_creates)
	s=$(sim_total_creates)
	[ "$u" = "$s" ] || fail "usage.jsonl counts $u creates, the simulator made $s: $(cat "$T/state/usage.jsonl")"
}

# resolve ARGS...: sorad resolve with the test's configuration.
resolve() {
	"$SORAD_BIN" resolve -c "$T/sorad.conf" "$@"
}

# expect_doubt NAME PATTERN: job NAME is in doubt, its reason matches the extended
# regular expression PATTERN, and `sorad list` shows it.
expect_doubt() {
	[ "$(job_field "$1" .state)" = in_doubt ] || fail "$1 is $(job_field "$1" .state), not in_doubt"
	job_field "$1" .error | grep -Eq "$2" ||
		fail "$1's reason does not match /$2/: $(job_field "$1" .error)"
	"$SORAD_BIN" list -c "$T/sorad.conf" --state in_doubt | grep -q "$1" ||
		fail "sorad list --state in_doubt does not show $1"
}

# wait_field NAME JQ VALUE [SECONDS]: waits until job NAME's field JQ is VALUE ("?" for
# any non-empty value).
wait_field() {
	wait_for "${4:-60}" "job $1's $2 to be $3 (see $T/sorad.out)" _field_is "$1" "$2" "$3"
}
_field_is() {
	local v
	v=$(job_field "$1" "$2")
	if [ "$3" = "?" ]; then [ -n "$v" ]; else [ "$v" = "$3" ]; fi
}
