/*
 * commit.h — group commit: the durable writes of one loop turn made durable together.
 *
 * Every change of a job is still an atomic replacement (temp file, fsync, rename,
 * fsync of the directory, fsutil.h), but instead of paying two synchronous fsyncs
 * per change on the loop thread, the changes of a turn are staged and committed
 * together when the loop is about to wait (commit_flush), by a commit thread, while
 * the loop goes on with the network (the next turns stage into the next batch):
 *
 *   1. every staged replacement is written to its temp file and fsync()ed, and every
 *      path given to commit_sync is fsync()ed (in parallel on a few short-lived
 *      threads when there are many: the disk queues them together, and a journal
 *      batches them into one commit);
 *   2. the temp files are renamed over their targets, in the order they were staged;
 *   3. the directories of the renamed files are fsync()ed;
 *   4. back on the loop thread, the continuations registered with commit_then run,
 *      in order (what they stage goes into the next batch).
 *
 * So nothing that depends on a change (a create request after the intent to submit,
 * a failure report after the error, the outputs' metadata after the outputs) happens
 * before the change is durable: it is registered as a continuation. A path given to
 * commit_sync is durable before any replacement staged in the same batch becomes
 * visible. Staging the same target twice in one batch writes only the latest content.
 * Staging keeps the content in memory: no file is created and nothing is held open
 * until the commit (a batch may stage thousands; creating a file is the costly part).
 * One batch is with the commit thread at a time.
 *
 * A NULL struct commit * makes every call synchronous (atomic_write_file, fsync now,
 * continuation at once): for the command line and tests.
 *
 * Ownership: the caller owns the struct commit; staged paths are copied.
 */
#ifndef SORAD_COMMIT_H
#define SORAD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct commit;

/* ERR is 0 when everything staged before the continuation was registered is durable,
 * else an errno value (ENOSPC, EIO...): some of it may not be. */
typedef void commit_fn(void *ud, int err);

/* A group commit whose batches are committed by a thread that reports back through
 * loop L; NULL L: commit_flush commits on the calling thread. */
struct loop;
struct commit *commit_new(struct loop *l);
/* Frees C (joining its thread); whatever is still staged is dropped, the
 * continuations of a batch still with the thread are not run (commit_drain first). */
void commit_free(struct commit *c);

/*
 * Stages an atomic replacement of DIR/NAME by LEN bytes of DATA (copied) with exactly
 * MODE, through the temp file DIR/.NAME.tmp.PID; 0, or -1 with errno set. AGAIN: the
 * target will change again (a job record that is not final): the replacement is an
 * exchange, and the old inode stays as DIR/.NAME.tmp.PID (old content, a hidden
 * temp name) to be rewritten next time, instead of being deleted and a new one made.
 */
int commit_write(struct commit *c, const char *dir, const char *name, const void *data, size_t len,
                 mode_t mode, bool again);

/* Stages an fsync of PATH (a file or a directory); 0, or -1 with errno set. */
int commit_sync(struct commit *c, const char *path);

/* Stages the creation of PATH, empty, with exactly MODE, unless it exists (never
 * truncated; not fsynced): files the loop is about to fill are made on the commit
 * thread, as creating a file can cost a millisecond. MODE with S_IFDIR: a directory
 * (mkdir's MODE, under the umask). 0, or -1 with errno set. */
int commit_create(struct commit *c, const char *path, mode_t mode);

/* Stages the making of PATH, empty, mode 0600, unless it exists (a hard link to
 * .mark in its directory, made the first time: a mark costs no inode), and an fsync of
 * its directory: both done before any replacement staged in the same batch becomes visible,
 * and when either fails none becomes visible (as for commit_sync). A mark says "read
 * this record at start" (livemark.h): it is durable no later than the change that needs
 * it. NULL C: made and synced now. 0, or -1 with errno set. */
int commit_mark(struct commit *c, const char *path);
/* Makes such a mark PATH now, without the fsync (its directory is synced by the
 * caller); 0, or -1 with errno set. */
int commit_mark_here(const char *path);

/* Runs FN(UD, err) once everything staged so far is committed. */
void commit_then(struct commit *c, commit_fn *fn, void *ud);

/* Drops the continuations registered for UD (UD is going away). */
void commit_cancel(struct commit *c, const void *ud);

/* True when a replacement of PATH (DIR/NAME) is staged or with the commit thread. */
bool commit_staged(const struct commit *c, const char *path);

/* True when something is staged, or a batch is with the commit thread. */
bool commit_pending(const struct commit *c);

/* Starts committing the staged batch: handed to the commit thread (unless it is busy
 * with the previous one: then when that one is back), or, without a loop, committed
 * here with its continuations run. 0, or -1 with errno set when something could not be
 * made durable (synchronous only; logged either way). */
int commit_flush(struct commit *c);

/*
 * C hands over no batch while FIRST has one staged or with its thread (the intents'
 * fast lane: a create waits for its intent, and a batch of downloads and claims
 * beside it on the same disk would slow it). The hold is decided at each
 * commit_flush of C (the daemon flushes both before the loop waits, and FIRST's
 * batches wake the loop as they land): C goes at the first flush after FIRST is idle,
 * or after COMMIT_DEFER_MS from the first flush that held it back. commit_drain
 * ignores the hold. NULL FIRST: none.
 */
#define COMMIT_DEFER_MS 500
void commit_defer_to(struct commit *c, const struct commit *first);

/* Waits for the batch with the commit thread, then commits everything staged (and
 * staged by the continuations) on this thread: nothing is pending afterwards. For
 * stopping, and before an operation that must see everything on disk. 0 or -1. */
int commit_drain(struct commit *c);

/* Counters: what the commits did so far (tests and diagnostics). */
struct commit_stats {
	unsigned long long batches; /* flushes that had work */
	unsigned long long files;   /* replacements committed */
	unsigned long long syncs;   /* fsync() calls made */
};
void commit_get_stats(const struct commit *c, struct commit_stats *out);

#endif
