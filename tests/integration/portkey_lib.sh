# shellcheck shell=bash
# portkey_lib.sh — runs the real Portkey AI gateway (npm @portkey-ai/gateway 1.15.2)
# between sorad and sora-sim: sorad -> Portkey -> sora-sim, all on 127.0.0.1 (sourced
# after lib.sh, not run by ctest on its own).
#
# Two copies, installed by scripts/install-deps.sh, each pinned by its package-lock.json:
#   tests/portkey/npm     the gateway with the dependencies npm resolves for it today
#                         (@hono/node-server 1.19.19, hono 4.13.23);
#   tests/portkey/pinned  the same gateway with @hono/node-server 1.13.5 and hono 4.9.7
#                         (npm overrides: the versions of Portkey's own lockfile).
# tests/portkey/serve.mjs starts either one on 127.0.0.1 only (the package has no host
# option: its start-server.js calls serve({fetch, port}) and so listens on every
# interface) on a port the kernel picks, written to a port file once listening.
#
# What each request needs (sorad: extra_headers, see portkey_headers_conf):
#   x-portkey-provider: openai
#   x-portkey-custom-host: http://127.0.0.1:SIMPORT/v1
# exactly that form: Portkey appends the request's path after /v1, so
# "http://127.0.0.1:SIMPORT" and "http://127.0.0.1:SIMPORT/v1/" both give sora-sim's 404;
# without x-portkey-provider: 400 {"status":"failure","message":"Either x-portkey-config
# or x-portkey-provider header is required"}. The Authorization header (Bearer) reaches
# the upstream unchanged.
#
# Seen by hand (curl, sora-sim --gen-ms 1000 --seed 1 behind each copy, Node 20.20.2):
#   npm copy (@hono/node-server 1.19.19)
#     POST /v1/videos (multipart)        500 content-type: application/json,
#       x-portkey-gateway-exception: true, Content-Length: 53,
#       {"status":"failure","message":"Something went wrong"}; the gateway logs
#       "tryTargetsRecursively error:  immutable undefined TypeError: immutable"
#       (Portkey issue #1389: it appends to the upstream Response's immutable headers).
#       sora-sim DID create the video: /__sim/stats creates_by_prompt 1, and
#       requests "POST /v1/videos" {"200": 1}.
#     GET /v1/videos, GET /v1/videos/ID, GET .../content, DELETE /v1/videos/ID: the same
#       500 (the DELETE was carried out by sora-sim).
#     4xx pass through unchanged (GET of an unknown id: 404 with sora-sim's error body
#       and content-length; a [sim:moderation] create: 400).
#     206 passes (not 500): GET .../content with Range: bytes=1000000- of a 1,900,247
#       byte MP4: 206, content-range "bytes 1000000-1900246/1900247", but
#       content-length 1709768 and a body of 1,709,768 bytes instead of 900,247: the
#       bytes decoded as UTF-8 text (U+FFFD for every invalid sequence) and re-encoded.
#   pinned copy (@hono/node-server 1.13.5, hono 4.9.7)
#     create (multipart and JSON), retrieve, list, DELETE: 200 with sora-sim's bodies.
#     GET .../content?variant=video|thumbnail|spritesheet: 200, the same bytes as from
#       sora-sim directly (1,900,247 / 28,288 / 19,256 bytes), content-type kept, but
#       no Content-Length: Transfer-Encoding: chunked on every answer.
#     Range: bytes=1000000-: 206 with the right content-range, chunked, and the same
#       corrupt 1,709,768-byte body as the npm copy: never resume a download through it.
#     Every answer adds x-portkey-* headers (cache-status DISABLED, provider openai,
#       retry-attempt-count 0, an empty x-portkey-trace-id).
#   `ss -ltnp` while both ran: LISTEN 127.0.0.1:PORT users:(("node",...)) for each,
#     nothing on 0.0.0.0 or [::] (portkey_check_loopback checks the same from /proc).

PORTKEY_DIR="$SORAD_SOURCE_DIR/tests/portkey"

# portkey_require COPY...: the test fails (does not skip) unless node and each copy
# ("npm", "pinned") are installed.
portkey_require() {
	local copy
	command -v node >/dev/null 2>&1 ||
		fail "node is not installed: run scripts/install-deps.sh"
	for copy in "$@"; do
		[ -f "$PORTKEY_DIR/$copy/node_modules/@portkey-ai/gateway/build/start-server.js" ] ||
			fail "the Portkey gateway is not installed in tests/portkey/$copy/node_modules: run scripts/install-deps.sh"
	done
}

# portkey_start COPY: starts the gateway of tests/portkey/COPY on 127.0.0.1, on a free
# port, and waits (deadline) until it answers. Sets PORTKEY_URL (http://127.0.0.1:PORT)
# and PORTKEY_PID; its output goes to $T/portkey-COPY.log.
portkey_start() {
	local copy=$1 pf="$T/portkey-$1.port"
	portkey_require "$copy"
	rm -f "$pf"
	# REDIS_CONNECTION_STRING would make it use a Redis cache: never in a test.
	env -u REDIS_CONNECTION_STRING \
		node "$PORTKEY_DIR/serve.mjs" "$PORTKEY_DIR/$copy" "$pf" >>"$T/portkey-$copy.log" 2>&1 &
	PORTKEY_PID=$!
	_pids+=("$PORTKEY_PID")
	wait_for 30 "Portkey ($copy) to listen (see $T/portkey-$copy.log)" _portkey_listening "$pf"
	PORTKEY_URL="http://127.0.0.1:$(cat "$pf")"
	wait_for 30 "Portkey ($copy) to answer on $PORTKEY_URL (see $T/portkey-$copy.log)" \
		_portkey_answers "$PORTKEY_URL"
	portkey_check_loopback "$PORTKEY_PID"
	export PORTKEY_URL PORTKEY_PID
}

_portkey_listening() {
	kill -0 "$PORTKEY_PID" 2>/dev/null ||
		fail "Portkey exited: $(tail -5 "$T/portkey-$copy.log" 2>/dev/null)"
	test -s "$1"
}

_portkey_answers() {
	[ "$(curl -sS -m 2 "$1/")" = "AI Gateway says hey!" ]
}

# portkey_check_loopback PID: every listening TCP socket of process PID is bound to
# 127.0.0.1 (from /proc, as `ss -ltnp` shows it), and there is at least one.
portkey_check_loopback() {
	local pid=$1 inodes n=0 row
	# find exits 1 when a descriptor closes while it walks /proc/PID/fd (node opens and
	# closes them all the time): under pipefail that silently ended the test.
	inodes=$({ find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null || true; } |
		sed 's/^socket:\[\([0-9]*\)\]$/\1/' | sort -u)
	[ -n "$inodes" ] || fail "Portkey (pid $pid) has no sockets"
	# /proc/net/tcp{,6}: sl local_address rem_address st ... inode (field 10); st 0A LISTEN.
	while read -r row; do
		n=$((n + 1))
		[[ $row == 0100007F:* ]] || fail "Portkey (pid $pid) listens on $row, not 127.0.0.1 only"
	done < <(awk -v list="$(echo "$inodes" | tr '\n' ' ')" '
		BEGIN { split(list, a, " "); for (i in a) want[a[i]] = 1 }
		FNR > 1 && $4 == "0A" && ($10 in want) { print $2 }' /proc/net/tcp /proc/net/tcp6)
	[ "$n" -ge 1 ] || fail "Portkey (pid $pid) has no listening socket"
}

# portkey_stop [PID]: stops a gateway (default $PORTKEY_PID) and waits for it.
portkey_stop() {
	local pid=${1:-$PORTKEY_PID}
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# portkey_headers_conf UPSTREAM_BASE: the sorad configuration line that sends the
# headers Portkey needs to forward to UPSTREAM_BASE (e.g. $SIM_URL/v1).
portkey_headers_conf() {
	printf 'extra_headers = {"x-portkey-provider: openai", "x-portkey-custom-host: %s"}\n' "$1"
}

# portkey_curl URL_PATH [curl args...]: one request to $PORTKEY_URL with those headers
# (towards $SIM_URL/v1) and sora-sim's key, as http_req (status printed, body in $T/body).
portkey_curl() {
	local path=$1
	shift
	http_req "${PORTKEY_METHOD:-GET}" "$PORTKEY_URL$path" -H "Authorization: Bearer $SIM_KEY" \
		-H "x-portkey-provider: openai" -H "x-portkey-custom-host: $SIM_URL/v1" "$@"
}
