#!/usr/bin/env bash
# A gateway that breaks resumed downloads (issue 16, item 3): the real Portkey gateway,
# pinned copy (@hono/node-server 1.13.5, hono 4.9.7: see portkey_lib.sh), in front of
# sora-sim. Portkey answers a Range request with a 206 whose body is re-encoded as
# UTF-8 text: longer than its Content-Range and corrupt. sorad must catch it (a log
# line says the resume came back inconsistent and the download starts over whole,
# said once: no Range is asked of the gateway again), and every output file must be
# byte for byte the variant sora-sim serves for that video.
#
# How downloads get cut so that sorad resumes them: not with sora-sim --ptruncate
# behind Portkey. Seen here: Portkey reads an upstream body before it answers, so a
# body sora-sim cuts short becomes a 500 from Portkey (never a partial body to
# resume), and sometimes kills the gateway ("Error processing log: TypeError:
# terminated", UND_ERR_SOCKET, node exits). So a small TCP relay between sorad and
# Portkey ($T/cut.py below) cuts the first video downloads after 300,000 bytes of
# the answer, as a dropped connection would; sorad's resume then goes to Portkey.
# Not installed = FAIL (never a silent skip): run scripts/install-deps.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/portkey_lib.sh"

portkey_require pinned

# --api-key: the key must travel through Portkey to reach sora-sim.
sim_start --gen-ms 1000 --seed 7 --api-key "$SORAD_KEY"
SIM_KEY=$SORAD_KEY
portkey_start pinned
expect_eq "GET /v1/videos through Portkey (pinned)" 200 "$(portkey_curl /v1/videos)"

# cut.py UPSTREAM_PORT PORT_FILE CUTS BYTES: relays 127.0.0.1:(a free port) to
# UPSTREAM_PORT; the answers to the first CUTS requests for variant=video without a
# Range header are cut after BYTES bytes (both sockets closed).
cat >"$T/cut.py" <<'PY'
import socket, sys, threading
up, pf, cuts, limit = int(sys.argv[1]), sys.argv[2], [int(sys.argv[3])], int(sys.argv[4])
lock = threading.Lock()
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
open(pf + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(pf + ".tmp", pf)
def serve(c):
    u = socket.create_connection(("127.0.0.1", up))
    state = {"cut": False, "sent": 0}
    def down():
        try:
            while True:
                b = u.recv(65536)
                if not b:
                    break
                if state["cut"]:
                    room = limit - state["sent"]
                    if len(b) >= room:
                        c.sendall(b[:room])
                        break
                    state["sent"] += len(b)
                c.sendall(b)
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    threading.Thread(target=down, daemon=True).start()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            low = b.lower()
            if b.startswith(b"GET ") and b"variant=video" in b and b"\r\nrange:" not in low:
                with lock:
                    if cuts[0] > 0:
                        cuts[0] -= 1
                        state["cut"], state["sent"] = True, 0
            u.sendall(b)
    except OSError:
        pass
    try:
        u.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$T/cut.py" "${PORTKEY_URL##*:}" "$T/cut.port" 2 300000 >>"$T/cut.log" 2>&1 &
_pids+=($!)
wait_for 10 "the cutting relay to listen" test -s "$T/cut.port"
CUT_URL="http://127.0.0.1:$(cat "$T/cut.port")"

sorad_conf "$(portkey_headers_conf "$SIM_URL/v1")"
sed -i "s#^api_base = .*#api_base = \"$CUT_URL/v1\"#" "$T/sorad.conf"
grep -qxF "api_base = \"$CUT_URL/v1\"" "$T/sorad.conf" || fail "api_base not rewritten"
sorad_start

declare -A PROMPT=(
	[harbor]='Fishing boats rocking in a harbor at dawn, gulls overhead, slow pan.'
	[forge]='A blacksmith hammering a glowing blade, sparks flying, close-up.'
	[dunes]='Wind shaping sand dunes at sunset, time-lapse, long shadows.'
	[tram]='A vintage tram climbing a steep street in the rain, night, neon signs.'
)
names=(harbor forge dunes tram)
for n in "${names[@]}"; do
	drop "$n.txt" "${PROMPT[$n]}"
done
for n in "${names[@]}"; do
	wait_done "$n" 90
done
check_outbox_sets
for n in "${names[@]}"; do
	check_set "$n" 1280x720 4
	id=$(jq -r .video.id "$T/outbox/$n.json")
	[[ $id == video_* ]] || fail "$n.json: no video id ($id)"
	for v in video:mp4 thumbnail:thumbnail.webp spritesheet:spritesheet.jpg; do
		code=$(sim_req GET "/v1/videos/$id/content?variant=${v%%:*}" -o "$T/direct.$n.${v#*:}")
		expect_eq "$n: $id ${v%%:*} from sora-sim directly" 200 "$code"
		cmp -s "$T/direct.$n.${v#*:}" "$T/outbox/$n.${v#*:}" ||
			fail "$n.${v#*:} ($(stat -c %s "$T/outbox/$n.${v#*:}") bytes) differs from" \
				"sora-sim's ${v%%:*} of $id ($(stat -c %s "$T/direct.$n.${v#*:}") bytes)"
		[ "$(jq -r ".files.${v%%:*}.source" "$T/outbox/$n.json")" = service ] ||
			fail "$n.json: the ${v%%:*} did not come from the service"
	done
	n_created=$(sim_created_count "${PROMPT[$n]}")
	[ "$n_created" = 1 ] || fail "$n: sora-sim created $n_created videos for its prompt, expected 1"
done

# The corrupt resume was seen, said once, and the download started over whole.
n=$(grep -c 'came back inconsistent' "$T/sorad.out" || true)
[ "$n" = 1 ] || fail "expected one line saying a resumed download came back inconsistent, got $n"
grep -q 'downloads from it start over whole from now on, without Range requests' "$T/sorad.out" ||
	fail "the log does not say that downloads start over whole"
grep -q 'restarting it whole' "$T/sorad.out" ||
	fail "the log does not say that the corrupt download was restarted"
sorad_stop
echo "PASS"
