#!/usr/bin/env bash
# examples/gateways/azure.conf works end to end against an Azure OpenAI look-alike: the
# API under /openai/v1 (nothing under /v1), the key only in an api-key header, and a
# deployment name as the model with its own sizes and durations. A job asking for
# something the deployment does not offer fails before anything is sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --path-prefix /openai/v1 --auth-header api-key \
	--model my-sora-deployment:1280x720,720x1280:4,8,12
gateway_conf azure "$SIM_URL/openai/v1"
grep -q 'auth: api-key' "$T/check.out" || fail "azure.conf should send the key in api-key"
gateway_sorad_start

drop default.txt 'A paper boat drifting down a rain gutter, macro lens.'
drop portrait.txt $'---\nsize: 720x1280\nseconds: 8\n---\nA tall waterfall in a fern forest, static camera.\n'
drop sora2.txt $'---\nmodel: sora-2\n---\nThis model is not deployed here.\n'
wait_done default
wait_done portrait
wait_failed sora2
check_set default 1280x720 4
check_set portrait 720x1280 8
[ "$(jq -r .video.model "$T/outbox/default.json")" = my-sora-deployment ] ||
	fail "default.json: expected the deployment name as the model"
created_once 'A paper boat drifting down a rain gutter, macro lens.'

# The simulator answered everything under /openai/v1 with the api-key header: any 401
# or 404 would show in its stats; the refused job never reached it.
stats=$(sim_stats)
bad=$(jq '[.requests[] | to_entries[] | select(.key == "401" or .key == "404") | .value] | add // 0' <<<"$stats")
[ "$bad" = 0 ] || fail "sorad got 401 or 404 answers from the Azure look-alike: $stats"
[ "$(jq '.creates_by_prompt | length' <<<"$stats")" = 2 ] || fail "expected 2 creates, got: $stats"
grep -qi 'sora-2' "$T/outbox/failed/sora2.error.txt" || fail "sora2.error.txt should name the model"
sorad_stop
echo "gateway_azure: ok"
