#!/usr/bin/env bash
# examples/gateways/openai.conf works end to end: bearer key from api_key_file, /v1,
# the built-in sora-2 / sora-2-pro table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY"
gateway_conf openai "$SIM_URL/v1"
grep -q 'auth: bearer' "$T/check.out" || fail "openai.conf should send a bearer key"
gateway_sorad_start

drop fox.txt 'A red fox trotting through fresh snow at dawn.'
drop pro.txt $'---\nmodel: sora-2-pro\nsize: 1792x1024\nseconds: 8\n---\nA lighthouse in a storm, waves crashing.\n'
wait_done fox
wait_done pro
check_set fox 1280x720 4
check_set pro 1792x1024 8
created_once 'A red fox trotting through fresh snow at dawn.'
[ "$(jq -r .video.model "$T/outbox/pro.json")" = sora-2-pro ] || fail "pro.json: model is not sora-2-pro"
sorad_stop
echo "gateway_openai: ok"
