/*
 * claimretry.h — inbox files whose claim failed for a local reason (the state
 * directory full or read-only, STATE/inputs not a directory, the inbox on another
 * file system than state_dir): each is tried again on one loop timer, 1 s after its
 * first failure, the wait doubling to 5 min at most, until it is claimed or gone — no
 * SIGHUP or restart is needed once the cause goes away. A file's reason is logged
 * (warning) when it first fails and whenever the reason changes; tries that fail the
 * same way again are logged at debug level only; a file claimed after failing is
 * logged once more (info).
 *
 * The set lives in memory: at a restart the files are still in the inbox, and the
 * start's full scan delivers them again.
 *
 * Ownership: struct claimretry belongs to its creator (claimretry_free); it keeps
 * copies of the names and reasons. The loop must outlive it.
 */
#ifndef SORAD_CLAIMRETRY_H
#define SORAD_CLAIMRETRY_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>

#define CLAIMRETRY_FIRST_MS 1000LL
#define CLAIMRETRY_MAX_MS 300000LL

struct claimretry;

/* Called from the loop when NAME is due for another try; the owner tries to claim it
 * and reports back with claimretry_failed or claimretry_done. */
typedef void claimretry_fn(const char *name, void *ud);

struct claimretry *claimretry_new(struct loop *l, claimretry_fn *cb, void *ud);
void claimretry_free(struct claimretry *cr);

/* The claim of NAME failed because of WHY (plain words, without the file's name):
 * NAME is tried again after its next wait. */
void claimretry_failed(struct claimretry *cr, const char *name, const char *why);

/* NAME was claimed (CLAIMED) or is gone (!CLAIMED): no more tries. A name never
 * failed is not an error. */
void claimretry_done(struct claimretry *cr, const char *name, bool claimed);

/* Files waiting for another try. */
size_t claimretry_pending(const struct claimretry *cr);

#endif
