#!/usr/bin/env bash
# A prompt and its image delivered into the inbox by real Syncthing (issue 19, item 1):
# two Syncthing instances on loopback only (no discovery, relays, NAT, usage or crash
# reports, upgrades), A's folder send-only, B's receive-only and B's folder is sorad's
# inbox. shot.txt and a 1.5 MB shot.png are written on A at once; B pulls the smallest
# first (the prompt lands while the image is still .syncthing.shot.png.tmp). The job is
# made once, with its image, and nothing is made of Syncthing's temp names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

command -v syncthing >/dev/null || fail "syncthing is not installed (scripts/install-deps.sh)"
export STNODEFAULTFOLDER=1 STNOUPGRADE=1

# free_port: a TCP port nobody listens on at this instant on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# st_init NAME: keys for Syncthing instance NAME in $T/st-NAME; sets ID_NAME, GUI_NAME
# (its REST port) and SYNC_NAME (its sync protocol port).
st_init() {
	syncthing generate --home="$T/st-$1" --no-default-folder >>"$T/st-$1.log" 2>&1 ||
		fail "syncthing generate: $(tail -3 "$T/st-$1.log")"
	printf -v "ID_$1" '%s' "$(syncthing --home="$T/st-$1" --device-id)"
	printf -v "GUI_$1" '%s' "$(free_port)"
	printf -v "SYNC_$1" '%s' "$(free_port)"
}

# st_config NAME PEER FOLDER_TYPE FOLDER_PATH [RECV_KIBPS]: writes NAME's config.xml:
# itself and PEER at a fixed loopback address, one folder shared with PEER, every
# feature that would talk beyond loopback off, and what it receives from PEER limited
# to RECV_KIBPS KiB/s (0: no limit), loopback included.
st_config() {
	local me=$1 peer=$2 type=$3 path=$4 recv=${5:-0}
	local id_me="ID_$me" id_peer="ID_$peer" gui="GUI_$me" sync="SYNC_$me" psync="SYNC_$peer"
	mkdir -p "$path/.stfolder"
	cat >"$T/st-$me/config.xml" <<EOF
<configuration version="36">
    <folder id="sorad-inbox" label="sorad inbox" path="$path" type="$type" rescanIntervalS="2" fsWatcherEnabled="true" fsWatcherDelayS="1" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <device id="${!id_me}"></device>
        <device id="${!id_peer}"></device>
        <order>smallestFirst</order>
        <pullerMaxPendingKiB>128</pullerMaxPendingKiB>
        <markerName>.stfolder</markerName>
    </folder>
    <device id="${!id_me}" name="$me" compression="metadata">
        <address>dynamic</address>
    </device>
    <device id="${!id_peer}" name="$peer" compression="metadata">
        <address>tcp://127.0.0.1:${!psync}</address>
        <maxRecvKbps>$recv</maxRecvKbps>
    </device>
    <gui enabled="true" tls="false">
        <address>127.0.0.1:${!gui}</address>
        <apikey>$ST_KEY</apikey>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${!sync}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <stunKeepaliveStartS>0</stunKeepaliveStartS>
        <stunServer></stunServer>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <crashReportingEnabled>false</crashReportingEnabled>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <reconnectionIntervalS>1</reconnectionIntervalS>
        <setLowPriority>false</setLowPriority>
        <limitBandwidthInLan>true</limitBandwidthInLan>
    </options>
</configuration>
EOF
}

# st_start NAME: starts instance NAME (its output in $T/st-NAME.log) and waits until its
# REST API answers.
st_start() {
	local gui="GUI_$1"
	syncthing serve --home="$T/st-$1" --no-browser --no-restart --no-upgrade \
		--gui-address="127.0.0.1:${!gui}" >>"$T/st-$1.log" 2>&1 &
	_pids+=("$!")
	printf -v "PID_$1" '%s' "$!"
	wait_for 30 "syncthing $1's REST API (see $T/st-$1.log)" st_pong "$1"
}

# st_rest NAME PATH: GET on instance NAME's REST API.
st_rest() {
	local gui="GUI_$1"
	curl -fsS -H "X-API-Key: $ST_KEY" "http://127.0.0.1:${!gui}$2"
}
st_pong() {
	local pid="PID_$1"
	kill -0 "${!pid}" 2>/dev/null || fail "syncthing $1 exited: $(tail -5 "$T/st-$1.log")"
	[ "$(st_rest "$1" /rest/system/ping | jq -r .ping)" = pong ]
}
# st_connected NAME PEER: NAME has a connection to PEER.
st_connected() {
	local id_peer="ID_$2"
	st_rest "$1" /rest/system/connections |
		jq -e --arg id "${!id_peer}" '.connections[$id].connected == true' >/dev/null
}

ST_KEY="sorad-test-$RANDOM$RANDOM$RANDOM"
SRC="$T/src"
mkdir -p "$SRC" "$T/inbox"
st_init A
st_init B
st_config A B sendonly "$SRC"
# B pulls at 512 KiB/s: over loopback the image would land within sorad's settle_ms of
# the prompt, and the prompt would never have to wait for it; this way it lands seconds
# after, as it does over a real network.
st_config B A receiveonly "$T/inbox" 512
st_start A
st_start B
wait_for 60 "syncthing A and B to connect (see $T/st-A.log, $T/st-B.log)" st_connected A B
wait_for 30 "syncthing B to see A" st_connected B A
# Every TCP/UDP socket they hold is on loopback (no discovery, relays, QUIC or NAT).
# syncthing runs as a monitor process (our pid, which passes SIGTERM on) and a child.
st_sockets() {
	local inos p
	inos=$(for p in "$PID_A" "$PID_B" $(pgrep -P "$PID_A,$PID_B" || true); do
		ls -l "/proc/$p/fd" 2>/dev/null || true
	done |
		sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | paste -sd'|')
	[ -z "$inos" ] || ss -Hatuen | grep -E " ino:($inos) " || true
}
if command -v ss >/dev/null; then
	socks=$(st_sockets)
	[ "$(grep -c . <<<"$socks")" -ge 2 ] || fail "ss does not show syncthing's listeners: $socks"
	if grep -Ev '^[a-z]+ +[A-Z-]+ +[0-9]+ +[0-9]+ +127\.0\.0\.1:[0-9]+ +(127\.0\.0\.1:[0-9]+|0\.0\.0\.0:\*) ' <<<"$socks"; then
		fail "syncthing has a socket beyond loopback (above)"
	fi
	echo "syncthing's sockets: $(wc -l <<<"$socks"), all on 127.0.0.1"
fi

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 47
# settle_ms as the README recommends for sync: it bridges the gap between the prompt
# landing and Syncthing creating the image's temp file (then pair_wait_s takes over).
sorad_conf
sed -i 's/^settle_ms = .*/settle_ms = 2000/' "$T/sorad.conf"
sorad_start

# A 1280x720 (default_size) PNG of noise, about 1.5 MB, that does not compress.
ffmpeg -v error -y -f lavfi \
	-i "nullsrc=s=1280x720,geq=lum=random(1)*255:cb=if(lt(Y\,H*0.2)\,random(2)*255\,128):cr=128" \
	-frames:v 1 "$T/shot.png"
bytes=$(stat -c %s "$T/shot.png")
[ "$bytes" -gt 1400000 ] && [ "$bytes" -lt 1700000 ] || fail "shot.png is $bytes bytes, not about 1.5 MB"

# The prompt first, then the image, both at once: one fsWatcher batch on A.
SHOT='A lighthouse on a cliff, as in the picture.'
printf '%s' "$SHOT" >"$SRC/shot.txt"
cp "$T/shot.png" "$SRC/shot.png"

# Both files arrive in the inbox through Syncthing; the job is done, made once, with
# its image.
wait_done shot 120
expect_creates "$SHOT" 1
st_rest B "/rest/db/status?folder=sorad-inbox" >"$T/st-B.status" || true
echo "syncthing B folder status: $(jq -c '{state, inSyncFiles, globalFiles, receiveOnlyChangedFiles}' "$T/st-B.status" 2>/dev/null)"
# B's pulls, in order (the default event subscription, buffered since B started).
st_rest B "/rest/events?since=0&timeout=1" >"$T/st-B.events" || true
echo "syncthing B pulled: $(jq -r '[.[] | select(.type == "ItemStarted" or .type == "ItemFinished")
	| "\(.time[11:23]) \(.type[4:]) \(.data.item)\(if .data.error then " (" + .data.error + ")" else "" end)"]
	| join(", ")' "$T/st-B.events" 2>/dev/null)"
echo "sorad's inbox log: "
grep -E 'watch: .*(shot|syncthing)' "$T/sorad.out" | sed 's/^/  /' || true
[ "$(job_field shot .state)" = "done" ] || fail "shot is $(job_field shot .state), not done"
expect_eq "shot's reference" shot.png "$(job_field shot .reference)"
expect_eq "shot.json's reference" shot.png "$(jq -r .reference "$T/outbox/shot.json")"
expect_eq "what is left in the inbox" .stfolder "$(ls -A "$T/inbox")"

# Nothing was made or refused from a Syncthing temp name, and nothing failed.
temps=$(find "$T/state" "$T/outbox" -name '*syncthing*')
[ -z "$temps" ] || fail "a job or output from a Syncthing temp name: $temps"
if grep -F '.syncthing.' "$T/sorad.out" | grep -E 'claimed|\[job=|fail'; then
	fail "sorad took a Syncthing temp file (see $T/sorad.out)"
fi
[ -z "$(ls -A "$T/outbox/failed" 2>/dev/null)" ] || fail "failures: $(ls "$T/outbox/failed")"
[ "$(sim_total_creates)" = 1 ] || fail "the simulator made $(sim_total_creates) videos, not 1"
expect_usage_agrees
sorad_stop
echo "PASS sync_syncthing"
