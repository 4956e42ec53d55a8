#!/usr/bin/env bash
# Benchmark: what sorad costs the machine.
#  - peak RSS (VmHWM) idle with an empty state directory;
#  - start-up time with JOBS (10,000) finished jobs in the state directory (exec to
#    the "ready:" log line, by the line's own timestamp), and peak RSS then;
#  - CPU time (utime + stime) and context switches over IDLE_S (60) idle seconds
#    with those jobs loaded (no periodic wakeups: ~0);
#  - peak RSS growth while downloading one VIDEO_BYTES (2 GiB) video (sora-sim
#    --video-bytes), which must not grow with the file.
# Targets: idle <= 8 MiB, 10,000 jobs <= 40 MiB, start-up <= 1 s, 2 GiB growth < 4 MiB.
#
# Usage: bench/resources.sh   (env: BUILD_DIR=build, JOBS=10000, IDLE_S=60,
#        VIDEO_BYTES=2147483648)
# shellcheck source=bench/lib.sh disable=SC2119
. "$(dirname "$0")/lib.sh"
jobs_n=${JOBS:-10000}
idle_s=${IDLE_S:-60}
vbytes=${VIDEO_BYTES:-2147483648}

# fresh: an empty daemon directory in $T.
fresh() {
	sorad_stop 2>/dev/null || true
	rm -rf "$T/inbox" "$T/outbox" "$T/state" "$T/logs" "$T/sorad.out"
}

# ready_ms: the timestamp of the last "ready:" line of $T/sorad.out, in ms since the epoch.
ready_ms() {
	local ts
	ts=$(grep ' ready: ' "$T/sorad.out" | tail -1 | cut -d' ' -f1)
	echo $(($(date -d "$ts" +%s%N) / 1000000))
}

sim_start --gen-ms 200 --ffmpeg none --media-dir "$T/media" --video-bytes "$vbytes"

# --- idle, empty ---------------------------------------------------------------------
bench_conf
sorad_start
sleep 1
idle_hwm=$(proc_kib "$SORAD_PID" VmHWM)
idle_rss=$(proc_kib "$SORAD_PID" VmRSS)
echo "idle, empty state: VmHWM $idle_hwm KiB (VmRSS $idle_rss KiB)"

# --- 10,000 jobs: start-up, memory, idle CPU ---------------------------------------
fresh
bench_conf
python3 "$BENCH_DIR/tools/make_state.py" "$T/state" "$T/outbox" "$jobs_n"
sync
t0_ms=$(($(now_ns) / 1000000))
sorad_start
startup_ms=$(($(ready_ms) - t0_ms))
sleep 1
many_hwm=$(proc_kib "$SORAD_PID" VmHWM)
many_rss=$(proc_kib "$SORAD_PID" VmRSS)
echo "$jobs_n jobs: start-up $startup_ms ms, VmHWM $many_hwm KiB (VmRSS $many_rss KiB)"
c0=$(cpu_ticks "$SORAD_PID")
w0=$(awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$SORAD_PID/status")
sleep "$idle_s"
c1=$(cpu_ticks "$SORAD_PID")
w1=$(awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$SORAD_PID/status")
idle_cpu=$(ticks_s $((c1 - c0)))
idle_wakeups=$((w1 - w0))
echo "idle $idle_s s with $jobs_n jobs: CPU $idle_cpu s, $idle_wakeups context switches"

# --- one big download ----------------------------------------------------------------
fresh
bench_conf
sorad_start
sleep 1
dl_before=$(proc_kib "$SORAD_PID" VmHWM)
t0=$(now_ns)
drop big.txt "one very large video"
peak_rss=0
until [ -f "$T/outbox/big.json" ]; do
	r=$(proc_kib "$SORAD_PID" VmRSS)
	[ "$r" -gt "$peak_rss" ] && peak_rss=$r
	kill -0 "$SORAD_PID" || fail "sorad died downloading: $(tail -3 "$T/sorad.out")"
	[ $(($(now_ns) - t0)) -lt 600000000000 ] || fail "the big download did not finish in 600 s"
	sleep 0.2
done
dl_secs=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
dl_after=$(proc_kib "$SORAD_PID" VmHWM)
dl_size=$(stat -c %s "$T/outbox/big.mp4")
[ "$dl_size" = "$vbytes" ] || fail "big.mp4 has $dl_size bytes, not $vbytes"
dl_growth=$((dl_after - dl_before))
echo "download of $vbytes bytes in $dl_secs s: VmHWM $dl_before → $dl_after KiB (growth $dl_growth KiB; VmRSS peak $peak_rss KiB)"
rm -f "$T/outbox/big.mp4"
sorad_stop

v_idle=$(verdict 'h <= 8192' h="$idle_hwm")
v_many=$(verdict 'h <= 40960' h="$many_hwm")
v_start=$(verdict 's <= 1000' s="$startup_ms")
v_dl=$(verdict 'g < 4096' g="$dl_growth")
v_cpu=$(verdict 'c <= 0.05' c="$idle_cpu")

head=$(results_header "sorad: memory, start-up and idle CPU" "$(bench_cmd JOBS IDLE_S VIDEO_BYTES)")
results_section resources "$(cat <<MD
$head

Daemon with the default configuration except: no status endpoint, no notifications.
$jobs_n finished jobs are written by \`bench/tools/make_state.py\` (records as sorad
writes them, tiny outputs). The big video comes from \`sora-sim --video-bytes $vbytes\`
(the MP4 with a sparse trailing 'free' box), written to the outbox on the same disk.

| figure | value | target |
| --- | ---: | --- |
| peak RSS idle, empty state | $idle_hwm KiB | $v_idle ≤ 8 MiB |
| start-up with $jobs_n jobs (exec → ready:) | $startup_ms ms | $v_start ≤ 1 s |
| peak RSS with $jobs_n jobs | $many_hwm KiB | $v_many ≤ 40 MiB |
| CPU over $idle_s idle s with $jobs_n jobs | $idle_cpu s ($idle_wakeups context switches) | $v_cpu ~0 |
| peak RSS growth downloading $vbytes bytes | $dl_growth KiB ($dl_before → $dl_after; took $dl_secs s) | $v_dl < 4 MiB |
MD
)"
