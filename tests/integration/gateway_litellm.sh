#!/usr/bin/env bash
# examples/gateways/litellm.conf works end to end against a LiteLLM proxy look-alike:
# long base64 video ids (about 210 characters, with '+' and '=' possible), and a model
# behind the proxy that OpenAI does not have (veo-3, 6 seconds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --id-style litellm \
	--model sora-2:1280x720,720x1280:4,8,12 --model veo-3:1280x720,720x1280:4,6,8
gateway_conf litellm "$SIM_URL/v1"
gateway_sorad_start

drop sora.txt 'A hummingbird hovering at a red flower, slow motion.'
drop veo.txt $'---\nmodel: veo-3\nseconds: 6\n---\nA street market at dusk, lanterns swaying.\n'
wait_done sora
wait_done veo
check_set sora 1280x720 4
check_set veo 1280x720 6
created_once 'A street market at dusk, lanterns swaying.'

for n in sora veo; do
	id=$(jq -r .video.id "$T/outbox/$n.json")
	[ "${#id}" -ge 150 ] || fail "$n.json: expected a long LiteLLM id, got $id"
	inner=$(printf '%s' "${id#video_}" | base64 -d 2>/dev/null) ||
		fail "$n.json: the id is not video_ + base64: $id"
	[[ $inner == litellm:custom_llm_provider:*";video_id:video_"* ]] ||
		fail "$n.json: the id does not decode to LiteLLM's form: $inner"
	grep -qF "$id" "$T"/logs/sorad-*.log || fail "the log does not name the video id $id"
done
[ "$(jq -r .video.model "$T/outbox/veo.json")" = veo-3 ] || fail "veo.json: model is not veo-3"
sorad_stop
echo "gateway_litellm: ok"
