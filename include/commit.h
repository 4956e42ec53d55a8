/*
 * commit.h — group commit: the durable writes of one loop turn made durable together.
 *
 * Every change of a job is still an atomic replacement (temp file, fsync, rename,
 * fsync of the directory, fsutil.h), but instead of paying two synchronous fsyncs
 * per change on the loop thread, the changes of a turn are staged and committed
 * together when the loop is about to wait (commit_flush):
 *
 *   1. every staged temp file and every path given to commit_sync is fsync()ed
 *      (in parallel on a few short-lived threads when there are many: the journal
 *      batches concurrent fsyncs into one commit);
 *   2. the temp files are renamed over their targets, in the order they were staged;
 *   3. the directories of the renamed files are fsync()ed;
 *   4. the continuations registered with commit_then run, in order.
 *
 * So nothing that depends on a change (a create request after the intent to submit,
 * a failure report after the error, the outputs' metadata after the outputs) happens
 * before the change is durable: it is registered as a continuation. A path given to
 * commit_sync is durable before any replacement staged in the same batch becomes
 * visible. Staging the same target twice in one batch writes only the latest content.
 * Nothing is held open between stage and flush (a batch may stage thousands).
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

struct commit *commit_new(void);
/* Frees C; whatever is still staged is dropped (commit_flush first to keep it). */
void commit_free(struct commit *c);

/* Stages an atomic replacement of DIR/NAME by LEN bytes of DATA with exactly MODE.
 * The temp file DIR/.NAME.tmp.PID is written now; 0, or -1 with errno set. */
int commit_write(struct commit *c, const char *dir, const char *name, const void *data,
		 size_t len, mode_t mode);

/* Stages an fsync of PATH (a file or a directory); 0, or -1 with errno set. */
int commit_sync(struct commit *c, const char *path);

/* Runs FN(UD, err) once everything staged so far is committed. */
void commit_then(struct commit *c, commit_fn *fn, void *ud);

/* Drops the continuations registered for UD (UD is going away). */
void commit_cancel(struct commit *c, void *ud);

/* True when something is staged or a continuation waits. */
bool commit_pending(const struct commit *c);

/* Commits the current batch and runs its continuations (which may stage the next
 * batch). 0, or -1 with errno set when something could not be made durable (logged). */
int commit_flush(struct commit *c);

/* Counters for /metrics and the benchmarks. */
struct commit_stats {
	unsigned long long batches; /* flushes that had work */
	unsigned long long files;   /* replacements committed */
	unsigned long long syncs;   /* fsync() calls made */
};
void commit_get_stats(const struct commit *c, struct commit_stats *out);

#endif
