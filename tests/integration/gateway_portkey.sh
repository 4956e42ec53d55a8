#!/usr/bin/env bash
# sorad through the real Portkey AI gateway (@portkey-ai/gateway 1.15.2, installed into
# tests/portkey/ by scripts/install-deps.sh): sorad -> Portkey -> sora-sim, all on
# 127.0.0.1, Portkey told where to go by sorad's extra_headers.
#
# a) the pinned copy (@hono/node-server 1.13.5, hono 4.9.7), where every route works
#    but answers are chunked: three prompts complete, every output file is byte for byte
#    the variant sora-sim serves for that video id, and each prompt was created once.
# Not installed = FAIL (never a silent skip): run scripts/install-deps.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/portkey_lib.sh"

portkey_require pinned npm

# --api-key: the key must travel through Portkey to reach sora-sim.
sim_start --gen-ms 1000 --seed 1 --api-key "$SORAD_KEY"
SIM_KEY=$SORAD_KEY

# portkey_sorad_conf: $T/sorad.conf as sorad_conf writes it, with api_base pointing at
# the gateway ($PORTKEY_URL/v1) and the headers that send it on to sora-sim.
portkey_sorad_conf() {
	sorad_conf "$(portkey_headers_conf "$SIM_URL/v1")"
	sed -i "s#^api_base = .*#api_base = \"$PORTKEY_URL/v1\"#" "$T/sorad.conf"
	grep -qxF "api_base = \"$PORTKEY_URL/v1\"" "$T/sorad.conf" || fail "api_base not rewritten"
	"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1 ||
		fail "check-config: $(cat "$T/check.out")"
}

# posts_to_sim: how many creates sora-sim answered (through any gateway).
posts_to_sim() {
	sim_stats | jq '[.requests["POST /v1/videos"][]?] | add // 0'
}

# ---- a) pinned copy: everything completes, byte-identical ------------------------
portkey_start pinned
PINNED_PID=$PORTKEY_PID
# Through the gateway, as sorad will talk to it (a failure here is Portkey's, not sorad's).
expect_eq "GET /v1/videos through Portkey (pinned)" 200 "$(portkey_curl /v1/videos)"
portkey_sorad_conf
sorad_start

declare -A A_PROMPT=(
	[lighthouse]='A lighthouse on a cliff at dawn, waves breaking below, slow aerial orbit.'
	[teapot]='Steam rising from a cast-iron teapot on a wooden table, macro, soft window light.'
	[fox]='A red fox trotting across fresh snow in a birch forest, tracking shot.'
)
for n in lighthouse teapot fox; do
	drop "$n.txt" "${A_PROMPT[$n]}"
done
for n in lighthouse teapot fox; do
	wait_done "$n" 60
done
for n in lighthouse teapot fox; do
	check_set "$n" 1280x720 4
	id=$(jq -r .video.id "$T/outbox/$n.json")
	[[ $id == video_* ]] || fail "$n.json: no video id ($id)"
	for v in video:mp4 thumbnail:thumbnail.webp spritesheet:spritesheet.jpg; do
		code=$(sim_req GET "/v1/videos/$id/content?variant=${v%%:*}" -o "$T/direct.$n.${v#*:}")
		expect_eq "$n: $id ${v%%:*} from sora-sim directly" 200 "$code"
		cmp -s "$T/direct.$n.${v#*:}" "$T/outbox/$n.${v#*:}" ||
			fail "$n.${v#*:} ($(stat -c %s "$T/outbox/$n.${v#*:}") bytes) differs from" \
				"sora-sim's ${v%%:*} of $id ($(stat -c %s "$T/direct.$n.${v#*:}") bytes)"
	done
	n_created=$(sim_created_count "${A_PROMPT[$n]}")
	[ "$n_created" = 1 ] || fail "$n: sora-sim created $n_created videos for its prompt, expected 1"
done
[ "$(posts_to_sim)" = 3 ] || fail "part a: sora-sim answered $(posts_to_sim) creates, expected 3"
sorad_stop
portkey_stop "$PINNED_PID"
echo "gateway_portkey: a) pinned copy: 3 jobs done, outputs identical to sora-sim's" >&2

echo "gateway_portkey: ok"
