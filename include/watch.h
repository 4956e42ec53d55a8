/*
 * watch.h — the inbox watcher: decides which inbox entries are complete and ready
 * to be claimed, and tells its owner by a callback. It never opens, reads, renames
 * or parses an entry (inbox.c claims); it only lists the inbox and lstat()s entries,
 * so a FIFO, a device or a huge file in the inbox can never block it.
 *
 * How an entry becomes ready:
 *  - inotify mode: an entry is a candidate once it was closed after writing
 *    (IN_CLOSE_WRITE) or moved in (IN_MOVED_TO) — never merely created or modified.
 *    A full rescan (at start, after an inotify queue overflow, after the watch was
 *    lost, on watch_rescan) makes every present entry a candidate too; because a
 *    writer may have started before sorad did, such an entry is only delivered
 *    once its size and times stayed the same over the settle period and its mtime
 *    is at least settle_ms old.
 *  - Settle: a candidate is delivered settle_ms after the last event on any entry
 *    with the same stem (the name up to its last '.'), so that cat.txt waits for
 *    cat.png dropped with it; writes into an entry still open (IN_CREATE, IN_MODIFY)
 *    count as events here, so cat.txt also waits for a cat.png being copied. One loop
 *    timer serves all candidates; with nothing pending (and the inbox present) it is
 *    disarmed, so an idle watcher never wakes.
 *  - Images arriving under a temp name (watch_temp_target: a sync tool, rsync, a
 *    browser): while one whose final name has the stem of a settled prompt exists,
 *    the prompt waits for it, at most pair_wait_s (then it is delivered alone, with
 *    a warning); events on the temp name restart the stem's settle period too. In
 *    poll mode, a temp name seen in a scan holds the prompt the same way.
 *  - poll mode (watch_mode = poll, or auto on NFS/SMB/CIFS/FUSE/9p/Ceph or when
 *    inotify instances or watches ran out): the inbox is listed every
 *    max(settle_ms, 1000) ms; an entry is delivered when its size and times were
 *    the same in two consecutive scans, no entry with its stem changed, and its
 *    mtime is at least settle_ms old. An entry left in the inbox (the claimer did
 *    not take it) is not delivered again until it changes or watch_rescan is called
 *    (a claim that failed is tried again by the claimer itself: claimretry.h).
 *  - A missing inbox is logged once and, in inotify mode, looked for again with a
 *    backoff timer (250 ms doubling to 30 s) — the only periodic wakeup besides
 *    poll mode.
 *
 * Ownership: struct watch belongs to the caller (watch_free). It keeps its own copy
 * of what it needs from the conf. It owns its inotify descriptor and its one loop
 * timer; the loop must outlive it.
 */
#ifndef SORAD_WATCH_H
#define SORAD_WATCH_H

#include "conf.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct watch;

/*
 * Called once per ready candidate, always from a loop callback (never from inside
 * watch_new or another watch_* call). NAME is a file name in the inbox (no '/'),
 * valid only during the call, whose extension is a prompt format (.txt, .json,
 * .jsonl, any case) and which watch_is_ignored() lets through — or an image
 * (watch_has_image_ext) that settled with no prompt of its stem, which no claim will
 * take (it came late, or alone). It may be anything
 * the directory can hold — a FIFO, a device, a directory, a symlink — and may have
 * vanished again: the claimer turns what it cannot use into a written failure.
 * Each arrival is delivered once; a name claimed (gone) and dropped again later is
 * delivered again, and a rescan delivers whatever is still present.
 * The callback may call watch_rescan and watch_set_conf, but not watch_free.
 */
typedef void watch_ready_fn(const char *name, void *ud);

/*
 * Starts watching C->inbox (C->settle_ms, C->watch_mode) on loop L. The first full
 * scan runs on the loop's next iteration. Returns NULL (logged) only when inotify
 * was demanded (watch_mode = inotify) and cannot be had; a missing inbox is not an
 * error (it is waited for).
 */
struct watch *watch_new(struct loop *l, const struct conf *c, watch_ready_fn *cb, void *ud);
/* Stops watching; frees the descriptor, the timer and every pending candidate. */
void watch_free(struct watch *w);

/* A full rescan on the next loop iteration (SIGHUP): every present candidate again. */
void watch_rescan(struct watch *w);

/*
 * A reload: applies C's inbox, settle_ms and watch_mode. A new inbox or mode starts
 * over (pending candidates are dropped, then a full rescan). Returns 0, or -1
 * (logged) when watch_mode = inotify cannot be had; the old settings then stay.
 */
int watch_set_conf(struct watch *w, const struct conf *c);

/*
 * WATCH_INOTIFY or WATCH_POLL, after auto was decided. While a missing inbox is
 * awaited in auto mode the answer is WATCH_INOTIFY (what will be tried first).
 */
enum watch_mode watch_effective_mode(const struct watch *w);

/* Entries (prompts and images) waiting for their settle period in inotify mode. */
size_t watch_pending(const struct watch *w);

/*
 * The ignore rules, a pure function: true for empty names, "." and "..", hidden
 * names (".*": rsync's .NAME.XXXXXX, Syncthing's .syncthing.NAME.tmp, emacs's .#NAME,
 * LibreOffice's .~lock.NAME#), backups ("*~"), emacs auto-saves ("#*#"), Office
 * owner files ("~$*"), Syncthing's "~syncthing~*", vim's "4913" probe, and the
 * temp/partial suffixes of editors, browsers, transfer and torrent tools (.tmp,
 * .temp, .part, .partial, .filepart, .swp, .swo, .swx, .crdownload, .download,
 * .opdownload, .crswap, .!qB, .!ut, .!sync, .kate-swp; any case).
 * Spaces, Unicode, invalid UTF-8 and control characters do not make a name ignored.
 */
bool watch_is_ignored(const char *name);
/*
 * When NAME is the temp name under which a tool writes a file that it renames to its
 * final name once complete, that final name into OUT (SIZE bytes) and true:
 * Syncthing's .syncthing.F.tmp and ~syncthing~F.tmp, unison's .unison.F.RANDOM.unison.tmp,
 * rsync's .F.XXXXXX, rclone's F.RANDOM.partial (and F.partial), and F.crdownload,
 * F.part, F.download, F.filepart, F.tmp, F.temp, F.!sync, F.opdownload.
 */
bool watch_temp_target(const char *name, char *out, size_t size);
/*
 * The name of the file system with statfs magic F_TYPE when inotify cannot be trusted
 * on it, because changes made by other machines or by a userspace server raise no
 * events there (NFS, SMB, CIFS, SMB2, FUSE, 9p, Ceph): auto mode then polls. NULL
 * for local file systems.
 */
const char *watch_fs_needs_polling(unsigned long f_type);
/* NAME ends in .png, .jpg, .jpeg or .webp (any case) after a non-empty stem. */
bool watch_has_image_ext(const char *name);
/* NAME ends in .txt, .json or .jsonl (any case) after a non-empty stem. */
bool watch_has_prompt_ext(const char *name);

/* Test hooks. */
/* Handles MASK (e.g. IN_Q_OVERFLOW) as if inotify had reported it on the inbox. */
void watch_test_inject(struct watch *w, uint32_t mask);
/* Full scans done so far (inotify-mode rescans and poll-mode scans). */
unsigned long watch_test_scans(const struct watch *w);

#endif
