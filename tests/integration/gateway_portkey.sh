#!/usr/bin/env bash
# sorad through the real Portkey AI gateway (@portkey-ai/gateway 1.15.2, installed into
# tests/portkey/ by scripts/install-deps.sh): sorad -> Portkey -> sora-sim, all on
# 127.0.0.1, Portkey told where to go by sorad's extra_headers.
#
# a) the pinned copy (@hono/node-server 1.13.5, hono 4.9.7), where every route works
#    but answers are chunked: three prompts complete, every output file is byte for byte
#    the variant sora-sim serves for that video id, and each prompt was created once.
# b) the copy as npm installs it today (@hono/node-server 1.19.x), which answers every
#    2xx with 500 {"status":"failure","message":"Something went wrong"} after the
#    upstream acted (Portkey issue #1389): the create DID happen, and neither a retry
#    nor a list can tell sorad so. Each job must stop in state in_doubt, with the
#    gateway's answer in its error, after exactly one create, and stay there.
# Not installed = FAIL (never a silent skip): run scripts/install-deps.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/portkey_lib.sh"

portkey_require pinned npm
exec 3>&2 # wait_for silences its command: failures found while waiting go to fd 3

# --api-key: the key must travel through Portkey to reach sora-sim.
sim_start --gen-ms 1000 --seed 1 --api-key "$SORAD_KEY"
SIM_KEY=$SORAD_KEY

# portkey_sorad_conf: $T/sorad.conf as sorad_conf writes it, with api_base pointing at
# the gateway ($PORTKEY_URL/v1) and the headers that send it on to sora-sim.
portkey_sorad_conf() {
	# The shipped example must be what this test runs (its headers pointed at sora-sim).
	cp "$SORAD_SOURCE_DIR/examples/gateways/portkey.conf" "$T/example.conf"
	(umask 077 && printf '%s\n' "$SORAD_KEY" >"$T/portkey-api-key")
	"$SORAD_BIN" check-config -c "$T/example.conf" >"$T/check.out" 2>&1 ||
		fail "check-config rejects portkey.conf: $(cat "$T/check.out")"
	grep -qF "$(portkey_headers_conf https://api.example.com/v1)" \
		"$SORAD_SOURCE_DIR/examples/gateways/portkey.conf" ||
		fail "examples/gateways/portkey.conf does not send the headers this test uses"
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

# Part b gets fresh folders; part a's stay beside for a post-mortem (KEEP_TMP=1).
mkdir "$T/part-a"
mv "$T/inbox" "$T/outbox" "$T/state" "$T/logs" "$T/sorad.out" "$T/sorad.conf" "$T/part-a/"

# ---- b) npm copy: a 500 after the create happened -> in_doubt, one create ---------
portkey_start npm
# The known answer of this copy, checked first so that a different failure is told apart.
expect_eq "GET /v1/videos through Portkey (npm)" 500 "$(portkey_curl /v1/videos)"
expect_eq "its body" "Something went wrong" "$(body_get .message)"
portkey_sorad_conf
sorad_start

declare -A B_PROMPT=(
	[harbor]='Fishing boats returning to a small harbor at sunset, gulls overhead, wide shot.'
	[cactus]='A saguaro cactus in the desert under a time-lapse of moving clouds.'
	[violin]='Close-up of a violinist bowing in a dim rehearsal room, shallow focus.'
)
posts_before=$(posts_to_sim)

# in_doubt_all NAME...: true when every job's record says in_doubt; the test fails at
# once when a prompt was created twice or a job took another way out.
in_doubt_all() {
	local n st c all=0
	for n in "$@"; do
		c=$(sim_created_count "${B_PROMPT[$n]}")
		[ "$c" -le 1 ] || fail "$n: sora-sim created $c videos for one prompt (a create was" \
			"sent again after Portkey's 500; see $T/sorad.out)" 2>&3
		st=$(jq -r .state "$T/state/jobs/$n.json" 2>/dev/null) || st=none
		case $st in
		in_doubt) ;;
		done | failed | running | downloading)
			fail "$n: state $st, expected in_doubt (error: $(jq -r .error \
				"$T/state/jobs/$n.json"); see $T/sorad.out)" 2>&3
			;;
		*) all=1 ;;
		esac
	done
	return "$all"
}

for n in harbor cactus violin; do
	drop "$n.txt" "${B_PROMPT[$n]}"
done
# Deadlines: three waits of at most 90 s, with part a's few seconds, stay inside ctest's
# 300 s TIMEOUT so that a slow way to in_doubt fails with a message, not a kill.
wait_for 90 "harbor, cactus and violin in state in_doubt (see $T/sorad.out)" \
	in_doubt_all harbor cactus violin
for n in harbor cactus violin; do
	err=$(jq -r '.error // ""' "$T/state/jobs/$n.json")
	[[ $err == *"HTTP 500"* || $err == *"Something went wrong"* ]] ||
		fail "$n: the in_doubt error does not give the gateway's answer: '$err'"
	[ "$(sim_created_count "${B_PROMPT[$n]}")" = 1 ] || fail "$n: not created exactly once"
done
"$SORAD_BIN" list -c "$T/sorad.conf" --json >"$T/list.json" 2>"$T/list.err" ||
	fail "sorad list: $(cat "$T/list.err")"
for n in harbor cactus violin; do
	[ "$(jq -r --arg n "$n" '.[] | select(.name == $n) | .state' "$T/list.json")" = in_doubt ] ||
		fail "sorad list does not show $n in_doubt: $(cat "$T/list.json")"
done

# They must stay there: no second create later. Rather than sleeping, let sorad itself
# measure the time: two more jobs, one after the other, each through a whole create and
# reconciliation (its JOBS_RECONCILE_DELAY_S wait, a list) to in_doubt, so that the
# first three sit in_doubt for at least two reconciliation intervals meanwhile.
B_PROMPT[canary1]='A paper boat drifting down a rain gutter, low angle.'
B_PROMPT[canary2]='Autumn leaves falling in a park, slow motion.'
for n in canary1 canary2; do
	drop "$n.txt" "${B_PROMPT[$n]}"
	wait_for 90 "$n in state in_doubt (see $T/sorad.out)" in_doubt_all "$n"
done
in_doubt_all harbor cactus violin canary1 canary2 ||
	fail "a job left in_doubt on its own (see $T/sorad.out)"
for n in harbor cactus violin canary1 canary2; do
	[ "$(sim_created_count "${B_PROMPT[$n]}")" = 1 ] ||
		fail "$n: sora-sim created $(sim_created_count "${B_PROMPT[$n]}") videos, expected 1"
done
posts=$(($(posts_to_sim) - posts_before))
[ "$posts" = 5 ] || fail "part b: sora-sim answered $posts creates for 5 jobs, expected 5"
[ ! -e "$T/outbox/harbor.json" ] || fail "an in_doubt job wrote an outbox set"
sorad_stop
echo "gateway_portkey: b) npm copy: 5 jobs in_doubt after one create each" >&2
echo "gateway_portkey: ok"
