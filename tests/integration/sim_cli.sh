#!/usr/bin/env bash
# sora-sim's command line: --help/--version, bad arguments exit 64 with a message,
# --port-file holds the bound port, SIGTERM exits 0 and removes the temp media dir.
source "$(dirname "$0")/lib.sh"

"$SIM_BIN" --help >"$T/help" || fail "--help exited non-zero"
grep -q -- "--listen HOST:PORT" "$T/help" || fail "--help does not document --listen"
grep -q -- "--ptruncate" "$T/help" || fail "--help does not document --ptruncate"
"$SIM_BIN" --version | grep -q '^sora-sim [0-9]' || fail "--version does not print 'sora-sim N...'"

for bad in "--p429 2" "--p5xx -0.1" "--gen-ms -5" "--gen-ms abc" "--bogus" "--listen nonsense" \
	"--listen 127.0.0.1:" "--seed" "extra-arg" "--threads 0" "--api-key="; do
	set +e
	# shellcheck disable=SC2086 # word splitting is the point here
	"$SIM_BIN" --listen 127.0.0.1:0 $bad >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	expect_eq "exit status for '$bad'" 64 "$rc"
	grep -q "sora-sim" "$T/err" || fail "no message on stderr for '$bad'"
done

# --port-file: the port written is the one that answers.
sim_start --gen-ms 100
port=$(cat "$T"/sim.port.*)
[[ $port =~ ^[0-9]+$ ]] || fail "port file holds '$port', not a number"
curl -fsS "http://127.0.0.1:$port/__sim/stats" >/dev/null || fail "nothing answers on port $port"

# SIGTERM: clean exit 0, and the default (temporary) media directory is removed.
mkdir "$T/tmp"
pf="$T/term.port"
TMPDIR="$T/tmp" "$SIM_BIN" --listen 127.0.0.1:0 --port-file "$pf" --gen-ms 10 >"$T/term.log" 2>&1 &
pid=$!
wait_for 20 "second sora-sim to listen" test -s "$pf"
compgen -G "$T/tmp/sora-sim-media.*" >/dev/null || fail "no temp media dir under TMPDIR"
SIM_URL="http://127.0.0.1:$(cat "$pf")"
id=$(sim_create "render then terminate")
sim_wait_completed "$id"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
expect_eq "exit status after SIGTERM" 0 "$rc"
[ -z "$(ls -A "$T/tmp")" ] || fail "temp media dir left behind: $(ls -A "$T/tmp")"
echo "PASS sim_cli"
