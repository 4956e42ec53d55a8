#!/usr/bin/env bash
# Jobs in doubt and `sorad resolve`: usage errors and their sysexits codes; the state
# in_doubt, its reason and its creates in list / list --state / list --json / show /
# show --json; offline decisions written into the record (adopt, resubmit replaced by
# drop) and applied when the daemon starts; a job in doubt left alone by the daemon,
# listed by /api/v1/videos?status=in_doubt in the API's shape and counted by /metrics;
# and --drop through the running daemon, which fails it to failed/ with its story.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 600 --api-key "$SORAD_KEY"
SIM_KEY=$SORAD_KEY
sorad_conf 'listen = "127.0.0.1:0"'
export OPENAI_API_KEY=$SORAD_KEY

# run EXPECTED_EXIT ARGS...: runs `sorad ARGS`, output in $T/out and $T/err.
run() {
	local want=$1 rc=0
	shift
	"$SORAD_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "sorad $* exited $rc, expected $want"
	fi
}
expect_in() { # FILE TEXT
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in $(basename "$1")"; }
}
record() { # NAME JQ_FILTER: the record's value
	jq -r "$2" "$T/state/jobs/$1.json"
}
C=(-c "$T/sorad.conf")
REASON='The create was sent but its answer was lost, and the service lists no prompts, so sorad cannot tell whether it made the video.'

# put_record NAME STATE ERROR_CODE PROMPT: a job record written straight into the
# state directory as the daemon would have left it (its input claimed beside it); an
# in_doubt job has sent one create and may send no other.
n=0
put_record() {
	local name=$1 state=$2 code=$3 prompt=$4 claim now creates=1
	n=$((n + 1))
	claim="1700000000000-1-$n"
	now=$(date +%s)
	[ "$state" = in_doubt ] || creates=0
	mkdir -p "$T/state/jobs" "$T/state/inputs/$claim"
	printf '%s\n' "$prompt" >"$T/state/inputs/$claim/$name.txt"
	jq -n --arg name "$name" --arg state "$state" --arg code "$code" --arg prompt "$prompt" \
		--arg source "$claim/$name.txt" --arg reason "$REASON" --argjson now "$now" \
		--argjson creates "$creates" '{
			version: 1, name: $name, state: $state, source: $source, claim_jobs: 1,
			prompt: $prompt, model: "sora-2", size: "1280x720", seconds: 4,
			progress: 0, claimed_at: ($now - 60), attempts: 1,
			creates: $creates, creates_allowed: 1, cost_usd: 0.4,
			error: (if $state == "in_doubt" then $reason else "It would cost more than approve_over_usd." end),
			error_code: $code
		} + (if $creates > 0 then {submit_at: ($now - 50)} else {} end)' \
		>"$T/state/jobs/$name.json"
}
put_record doubt in_doubt in_doubt "A lighthouse in a storm at night, wide shot."
put_record doubt2 in_doubt in_doubt "A paper boat on a rain puddle, macro shot."
put_record doubt3 in_doubt in_doubt "Neon rain on a city street at night, slow pan."
put_record calm held approval_required "A quiet lake at dawn, static shot."

# ---- help and usage errors (64), unknown job (66), not in doubt (65) -----------------
run 0 resolve --help
expect_in "$T/out" "usage: sorad resolve"
expect_in "$T/out" "--adopt VIDEO_ID"
run 0 resolve --version
run 0 --help
expect_in "$T/out" "sorad resolve ID|NAME"
run 64 resolve "${C[@]}"
expect_in "$T/err" "expects one argument"
run 64 resolve "${C[@]}" doubt
expect_in "$T/err" "say what to do: --adopt VIDEO_ID, --resubmit or --drop"
run 64 resolve "${C[@]}" doubt --resubmit --drop
expect_in "$T/err" "give only one of"
run 64 resolve "${C[@]}" doubt --adopt video_a --adopt video_b
expect_in "$T/err" "give only one of"
run 64 resolve "${C[@]}" doubt --adopt
expect_in "$T/err" "missing argument"
run 64 resolve "${C[@]}" doubt --purge
expect_in "$T/err" "unknown option"
run 64 resolve "${C[@]}" doubt doubt2 --drop
expect_in "$T/err" "unexpected argument"
run 66 resolve "${C[@]}" nothing-here --drop
expect_in "$T/err" "no job or video named 'nothing-here'"
run 65 resolve "${C[@]}" calm --drop
expect_in "$T/err" "calm is held, not in doubt"
run 65 resolve "${C[@]}" doubt --adopt 'video_a b'
expect_in "$T/err" "is not a video id"
[ "$(record doubt .resolution)" = null ] || fail "a refused resolve changed the record"

# ---- what list and show say about a job in doubt -------------------------------------
run 0 list "${C[@]}"
grep -E '^doubt +in_doubt .* 1 create sent: The create was sent but its answer was lost' "$T/out" \
	>/dev/null || fail "list: $(cat "$T/out")"
run 0 list "${C[@]}" --state in_doubt
expect_in "$T/out" "doubt3"
grep -q '^calm ' "$T/out" && fail "list --state in_doubt shows a held job: $(cat "$T/out")"
run 0 list "${C[@]}" --json --state in_doubt
[ "$(jq -r 'map(.name) | join(",")' "$T/out")" = "doubt,doubt2,doubt3" ] ||
	fail "list --json --state in_doubt: $(cat "$T/out")"
[ "$(jq -r '.[0] | [.state, .creates, .error_code, .error] | join("|")' "$T/out")" = \
	"in_doubt|1|in_doubt|$REASON" ] || fail "list --json: $(cat "$T/out")"
run 0 show "${C[@]}" doubt
expect_in "$T/out" "state        in_doubt"
expect_in "$T/out" "creates      1 sent (1 allowed)"
expect_in "$T/out" "in doubt     $REASON"
expect_in "$T/out" "to decide    sorad resolve doubt --adopt VIDEO_ID | --resubmit | --drop"
run 0 show "${C[@]}" doubt --json # options may follow the name
[ "$(jq -r '[.state, .creates, .creates_allowed] | join(" ")' "$T/out")" = "in_doubt 1 1" ] ||
	fail "show --json: $(cat "$T/out")"

# ---- offline decisions: into the record, applied at the next start --------------------
VID=$(sim_create "A paper boat on a rain puddle, macro shot." --form-string model=sora-2 \
	--form-string size=1280x720 --form-string seconds=4)
run 0 resolve "${C[@]}" doubt2 --adopt "$VID"
expect_in "$T/out" "no daemon is running"
[ "$(record doubt2 .resolution)" = "adopt:$VID" ] || fail "adopt was not recorded"
[ "$(record doubt2 .state)" = in_doubt ] || fail "an offline decision changed the state"
run 65 resolve "${C[@]}" doubt3 --adopt "$VID"
expect_in "$T/err" "is job doubt2's already"
run 0 resolve "${C[@]}" doubt3 --resubmit
expect_in "$T/out" "the second create is sent when sorad starts"
[ "$(record doubt3 .resolution)" = resubmit ] || fail "resubmit was not recorded"
run 0 resolve "${C[@]}" --drop doubt3
expect_in "$T/out" "replaces the earlier decision 'resubmit'"
[ "$(record doubt3 .resolution)" = drop ] || fail "drop did not replace resubmit"
run 0 list "${C[@]}" --state in_doubt
expect_in "$T/out" "decided: adopt:$VID (applied when sorad starts)"
run 0 show "${C[@]}" doubt3
expect_in "$T/out" "decided      drop (applied when the daemon starts)"

# ---- the daemon: decisions applied, the undecided job left in doubt --------------------
sorad_start
httpd_url
wait_done doubt2
[ "$(jq -r .video.id "$T/outbox/doubt2.json")" = "$VID" ] || fail "doubt2 did not adopt $VID"
wait_failed doubt3
[ -f "$T/outbox/failed/doubt3.txt" ] || fail "the dropped job's input is not in failed/"
[ "$(record doubt .state)" = in_doubt ] || fail "the daemon moved the undecided job"

code=$(hget "/api/v1/videos?status=in_doubt")
expect_eq "GET ?status=in_doubt" 200 "$code"
expect_eq "jobs in doubt" doubt "$(body_get '[.data[].name] | join(",")')"
expect_eq "status, state, creates" "queued in_doubt 1" \
	"$(body_get '.data[0] | "\(.status) \(.state) \(.creates)"')"
expect_eq "error" "in_doubt in_doubt $REASON" \
	"$(body_get '.data[0].error | "\(.type) \(.code) \(.message)"')"
code=$(hget /api/v1/videos/doubt)
expect_eq "GET /api/v1/videos/doubt" 200 "$code"
expect_eq "one job's state" in_doubt "$(body_get .state)"
code=$(hget "/api/v1/videos?status=queued")
expect_in "$T/body" '"name":"doubt"' # the API's status of a job in doubt

code=$(hget /metrics)
expect_eq "GET /metrics" 200 "$code"
for s in claimed held waiting submitting in_doubt running downloading "done" failed; do
	grep -q "^sorad_jobs{state=\"$s\"} " "$T/body" || fail "/metrics has no sorad_jobs for $s"
done
expect_in "$T/body" 'sorad_jobs{state="in_doubt"} 1'
expect_in "$T/body" 'sorad_creates_in_doubt 1'

# ---- decisions through the running daemon ----------------------------------------------
run 65 resolve "${C[@]}" calm --drop
expect_in "$T/err" "calm is held, not in doubt"
run 66 resolve "${C[@]}" nothing-here --drop
run 65 resolve "${C[@]}" doubt --adopt "$VID"
run 0 resolve "${C[@]}" doubt --drop
expect_in "$T/out" "doubt dropped"
wait_failed doubt
[ -f "$T/outbox/failed/doubt.txt" ] || fail "the dropped job's input is not in failed/"
expect_in "$T/outbox/failed/doubt.error.txt" "$REASON"
wait_for 10 "doubt failed in its record" jq -e '.state == "failed"' "$T/state/jobs/doubt.json"
run 65 resolve "${C[@]}" doubt --drop
expect_in "$T/err" "doubt is failed, not in doubt"
run 0 list "${C[@]}" --state in_doubt
expect_in "$T/out" "(no jobs in state in_doubt)"
code=$(hget /metrics)
expect_in "$T/body" 'sorad_jobs{state="in_doubt"} 0'
expect_in "$T/body" 'sorad_creates_in_doubt 0'
# Nothing was created for the jobs in doubt: the only video is the adopted one.
for p in "A lighthouse in a storm at night, wide shot." "Neon rain on a city street at night, slow pan."; do
	[ "$(sim_created_count "$p")" = 0 ] || fail "a create was sent for '$p'"
done
[ "$(sim_created_count "A paper boat on a rain puddle, macro shot.")" = 1 ] ||
	fail "the adopted video was created again"
sorad_stop
echo "ok"
