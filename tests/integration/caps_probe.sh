#!/usr/bin/env bash
# `sorad check-config --probe` (probe.h): asks the service what it can do without
# spending money and prints a table. Against the default sora-sim every capability it
# can see is there; against a LiteLLM-like list (its "not supported" 500) the list is
# not, and against a list without prompts the prompts are not; an unreachable service
# exits 69, a refused key 78. The probe never sends a POST and never prints the key.
. "$(dirname "$0")/lib.sh"

KEY=sk-probe-secret-4242
# probe [config lines...]: runs the probe against $SIM_URL; output in $T/probe.out,
# exit status in $rc.
probe() {
	{
		echo "api_base = \"${PROBE_BASE:-$SIM_URL/v1}\""
		echo "state_dir = \"$T/state\""
		local line
		for line in "$@"; do echo "$line"; done
	} >"$T/probe.conf"
	rc=0
	OPENAI_API_KEY=$KEY "$SORAD_BIN" check-config -c "$T/probe.conf" --probe >"$T/probe.out" 2>&1 || rc=$?
	if grep -q "$KEY" "$T/probe.out"; then fail "the probe printed the API key"; fi
}
# row CAPABILITY VERDICT: the table's row for CAPABILITY ends with VERDICT.
row() {
	grep -qE "^  $1 .* $2\$" "$T/probe.out" ||
		fail "expected the row '$1' to end with '$2':
$(cat "$T/probe.out")"
}
no_posts() {
	local posts
	posts=$(sim_stats | jq '[.requests | to_entries[] | select(.key | startswith("POST")) | .value[]] | add // 0')
	expect_eq "POST requests from the probe" "$1" "$posts"
}

# The default simulator, with one finished video to ask about.
sim_start --gen-ms 200 --api-key "$KEY"
SIM_KEY=$KEY
id=$(sim_create "a red kite over a hill")
sim_wait_completed "$id"
probe
expect_eq "exit status against the default simulator" 0 "$rc"
row list yes
row list_prompts yes
row delete yes
row thumbnail yes
row spritesheet yes
row remix "auto: learned while running"
row errors "ok \(the service's own error body\)"
grep -q "GET /videos?limit=1: HTTP 200" "$T/probe.out" || fail "no list answer in the table"
grep -q "thumbnail .*HTTP 200: WebP" "$T/probe.out" || fail "the thumbnail's bytes were not named"
no_posts 1 # the create above, nothing from the probe
echo "ok: the default simulator: $(grep -c '^  ' "$T/probe.out") rows"

# The configuration's pins show beside what the service answered.
probe "api_profile = litellm" "capabilities {" "  delete = no" "}"
expect_eq "exit status with pins" 0 "$rc"
row delete "yes \(set in the configuration: no\)"
row remix "yes \(api_profile litellm\)"
grep -q "capabilities   api_profile litellm:.* delete no (set)" "$T/probe.out" ||
	fail "the summary does not show the capabilities: $(cat "$T/probe.out")"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# A list that does not echo prompts.
sim_start --gen-ms 200 --api-key "$KEY" --no-prompt
id=$(sim_create "a paper boat in a gutter")
sim_wait_completed "$id"
probe
expect_eq "exit status against --no-prompt" 0 "$rc"
row list yes
row list_prompts no
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# LiteLLM in front of a backend that cannot list, whose videos carry no prompt.
sim_start --gen-ms 200 --api-key "$KEY" --list-mode litellm-500 --no-prompt
id=$(sim_create "a kettle starting to boil")
sim_wait_completed "$id"
probe
expect_eq "exit status against --list-mode litellm-500" 0 "$rc"
row list no
row list_prompts unknown
grep -q "list .*GET /videos?limit=1: HTTP 500: " "$T/probe.out" || fail "the list's 500 is not shown"
row thumbnail "auto: learned while running"
no_posts 1
reqs=$(sim_stats | jq '[.requests["GET /v1/videos"] // {} | .[]] | add // 0')
expect_eq "list calls (the refusal is not retried)" 1 "$reqs"
echo "ok: --list-mode litellm-500 --no-prompt"

# A refused key is a configuration error.
KEY_SAVED=$KEY
KEY=sk-wrong-key-0000
probe
expect_eq "exit status with a refused key" 78 "$rc"
grep -q "refused the API key" "$T/probe.out" || fail "no word about the key: $(cat "$T/probe.out")"
KEY=$KEY_SAVED
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# Nobody listening.
PROBE_BASE="http://127.0.0.1:1/v1" probe
expect_eq "exit status against an unreachable address" 69 "$rc"
grep -q "could not be reached" "$T/probe.out" || fail "no word about reachability: $(cat "$T/probe.out")"
row list unknown

# The simulator's profiles of real gateways (sora-sim --profile), when it has them.
if grep -q -- '--profile litellm-veo' <<<"$("$SIM_BIN" --help)"; then
	# LiteLLM in front of Veo: no list (its 500), no delete (FastAPI's 405).
	sim_start --gen-ms 200 --api-key "$KEY" --profile litellm-veo
	probe
	expect_eq "exit status against litellm-veo" 0 "$rc"
	row list no
	row list_prompts unknown
	row delete no
	row thumbnail "auto: learned while running"
	probe "api_profile = litellm"
	row thumbnail "no \(api_profile litellm\)"
	row remix "yes \(api_profile litellm\)"
	no_posts 0
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: --profile litellm-veo"

	# LiteLLM in front of OpenAI: a list, no delete, the MP4 for every variant.
	sim_start --gen-ms 200 --api-key "$KEY" --profile litellm-openai
	id=$(sim_create "a train crossing a viaduct")
	sim_wait_completed "$id"
	probe
	expect_eq "exit status against litellm-openai" 0 "$rc"
	row list yes
	if [ "$(sim_req GET '/v1/videos?limit=1' >/dev/null; body_get '.data[0] | has("prompt")')" = true ]; then
		row list_prompts yes
	else
		row list_prompts no
	fi
	row delete no
	grep -q "thumbnail .*HTTP 200: MP4" "$T/probe.out" || fail "the MP4 served for the thumbnail is not named: $(cat "$T/probe.out")"
	row thumbnail no
	row spritesheet no
	no_posts 1
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: --profile litellm-openai"

	# Portkey pinned: chunked bodies, everything there.
	sim_start --gen-ms 200 --api-key "$KEY" --profile portkey-pinned
	id=$(sim_create "a heron standing in reeds")
	sim_wait_completed "$id"
	probe
	expect_eq "exit status against portkey-pinned" 0 "$rc"
	row list yes
	row list_prompts yes
	row delete yes
	row thumbnail yes
	row spritesheet yes
	no_posts 1
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	echo "ok: --profile portkey-pinned"
fi

# A configuration error stays 78, before any probing.
PROBE_BASE="ftp://nowhere" probe
expect_eq "exit status for a bad configuration" 78 "$rc"
echo "PASS"
