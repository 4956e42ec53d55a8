#!/usr/bin/env bash
# daemon_diskfull.sh — the outbox fills up in the middle of a download. The outbox is a
# small tmpfs (else a loop-mounted ext4 image) mostly taken by a ballast file, and
# sora-sim serves a 5 MB video: the write fails with ENOSPC part-way. Expected: nothing
# half-written appears under a final name, the job is not done (nor failed), sorad says
# so in one clear log line, and once the ballast is deleted the job completes (after
# the 30 s retry, well within the download link's validity) with the whole file,
# submitted exactly once.
#
# Mounting needs root, or an unprivileged user namespace (the test re-runs itself under
# `unshare -rm` then). Where neither works, the test says so and skips (exit 0).
set -euo pipefail

if [ "$(id -u)" -ne 0 ] && [ -z "${SORAD_DISKFULL_NS:-}" ]; then
	if unshare -rm true 2>/dev/null; then
		SORAD_DISKFULL_NS=1 exec unshare -rm bash "$0" "$@"
	fi
	echo "SKIP: daemon_diskfull needs root or user namespaces to mount a small outbox" >&2
	exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

VIDEO_BYTES=5000000 # the padded MP4 sora-sim serves
FS_MB=8             # the outbox's size
BALLAST_MB=5        # leaves ~3 MB: the video cannot fit until the ballast goes
mounted=""

# Processes first (an open file keeps a mount busy), then the mount, then the rest.
diskfull_cleanup() {
	local rc=$?
	if [ -n "${SORAD_PID:-}" ]; then
		kill "$SORAD_PID" 2>/dev/null || true
		wait "$SORAD_PID" 2>/dev/null || true
	fi
	if [ -n "$mounted" ]; then
		umount "$T/outbox" 2>/dev/null || umount -l "$T/outbox" 2>/dev/null || true
	fi
	_cleanup
	exit "$rc"
}
trap diskfull_cleanup EXIT

# mount_outbox: an FS_MB tmpfs on $T/outbox, else an ext4 image on a loop device.
mount_outbox() {
	mkdir -p "$T/outbox"
	if mount -t tmpfs -o "size=${FS_MB}m,mode=0755" tmpfs "$T/outbox" 2>"$T/mount.err"; then
		mounted=tmpfs
		return 0
	fi
	if truncate -s "${FS_MB}M" "$T/outbox.img" && mkfs.ext4 -q -m 0 "$T/outbox.img" \
		2>>"$T/mount.err" && mount -o loop "$T/outbox.img" "$T/outbox" 2>>"$T/mount.err"; then
		mounted=loop
		return 0
	fi
	echo "SKIP: cannot mount a small outbox (tmpfs or loop image): $(cat "$T/mount.err")" >&2
	exit 0
}

log_has() {
	grep -q -- "$1" "$T/sorad.out"
}

sim_start --gen-ms 500 --video-bytes "$VIDEO_BYTES"
sorad_conf
mount_outbox
echo "outbox: ${FS_MB} MB $mounted" >&2
head -c "$((BALLAST_MB * 1024 * 1024))" /dev/zero >"$T/outbox/.ballast"
sorad_start

drop big.txt "A lighthouse in a storm, filmed from a boat"
wait_for 60 "sorad to report the full outbox (see $T/sorad.out)" \
	log_has "cannot write the video to $T/outbox (writing the download failed: No space left on device); trying again in 30 s"

# While the disk is full: nothing under a final name, no leftover part, not done.
for f in big.mp4 big.thumbnail.webp big.spritesheet.jpg big.json; do
	[ ! -e "$T/outbox/$f" ] || fail "$f is visible although the download failed"
done
no_partials
if compgen -G "$T/outbox/.big*.part" >/dev/null; then
	fail "a partial download was left behind: $(ls -a "$T/outbox")"
fi
state=$(jq -r .state "$T/state/jobs/big.json")
[ "$state" = downloading ] || fail "job state while the disk is full: expected downloading, got $state"
[ ! -e "$T/outbox/failed/big.error.txt" ] || fail "the job failed instead of waiting for space"
kill -0 "$SORAD_PID" || fail "sorad exited on a full disk"

# Space returns: the next attempt (30 s after the failure) completes the job.
rm -f "$T/outbox/.ballast"
wait_done big 90
no_partials
size=$(stat -c %s "$T/outbox/big.mp4")
[ "$size" = "$VIDEO_BYTES" ] || fail "big.mp4: expected $VIDEO_BYTES bytes, got $size"
id=$(jq -r .video.id "$T/outbox/big.json")
curl -fsS -H "Authorization: Bearer $SORAD_KEY" -o "$T/expected.mp4" \
	"$SIM_URL/v1/videos/$id/content"
cmp -s "$T/expected.mp4" "$T/outbox/big.mp4" || fail "big.mp4 differs from what sora-sim served"
[ "$(jq -r .files.video.bytes "$T/outbox/big.json")" = "$VIDEO_BYTES" ] ||
	fail "big.json: video bytes differ from the file"
creates=$(sim_stats | jq '[.creates_by_prompt[]?] | add // 0')
[ "$creates" = 1 ] || fail "expected exactly one create, got $creates ($(sim_stats))"

sorad_stop
SORAD_PID=""
echo ok
