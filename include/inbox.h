/*
 * inbox.h — claiming a ready inbox file (one the watcher delivered): it is renamed
 * out of the inbox into its own claim directory STATE/inputs/ID/ before anything
 * else, so the inbox only ever holds unclaimed work; then it is read (bounded),
 * parsed into job specs (prompt.h), its reference images are found and kept with it,
 * and every spec is validated against the model table — image pixel size included —
 * before any money is spent.
 *
 * A claim directory holds the prompt file and its images. A claim is recorded once
 * every job made from it has a record (each record carries the claim's job count;
 * older state directories used a marker file ".recorded" instead); a claim directory
 * found unrecorded after a crash is processed again by inbox_reprocess().
 *
 * Ownership: struct claim and everything in it belong to the caller, freed by
 * claim_release().
 */
#ifndef SORAD_INBOX_H
#define SORAD_INBOX_H

#include <stdbool.h>

#include "conf.h"
#include "prompt.h"

struct commit;

struct claim {
	char *id;   /* the claim directory's name under STATE/inputs */
	char *file; /* the prompt file's name inside it */
	enum prompt_format fmt;
	struct prompt_file
	    pf; /* at least one spec; spec->reference names a file in the claim dir */
};

void claim_release(struct claim *cl);

/*
 * Claims inbox entry NAME. Returns 0 with *out filled; 1 when the entry vanished
 * before it could be claimed (someone else took it: nothing to do); -1 on a local
 * error (the state directory full or read-only, the inbox on another file system):
 * the entry stays in the inbox, WHY says what went wrong in plain words (the same
 * words for the same cause: no claim id in them), and the caller tries again later
 * (claimretry.h).
 * Whatever is wrong with the file itself (not a regular file, a symlink leading out
 * of the inbox, too large, not text, bad keys, wrong-size image) is not an error
 * here: it becomes the error of the spec(s), in plain words.
 * The renames are made durable through CM (commit.h: the directories involved are
 * staged for fsync; NULL: at once) before any job record of the claim.
 */
int inbox_claim(const struct conf *c, const char *name, struct claim *out, struct commit *cm,
                char *why, size_t whylen);

/*
 * The crash-loop breaker. Reading and recording a claim are counted in the claim
 * directory (INBOX_READING, "how many times this began") before the file is read:
 * by inbox_claim (count 1, not fsynced: a crashing process leaves the page cache as
 * it was) and by inbox_reprocess (the next count, fsynced). The owner calls
 * inbox_claim_processed once the claim's records are made (staged), which removes
 * the counter. A claim found unrecorded at start with INBOX_CRASHES_MAX attempts
 * already begun is not read again.
 */
#define INBOX_READING ".reading"
#define INBOX_CRASHES_MAX 2u
void inbox_claim_processed(const struct conf *c, const char *id);

/*
 * Processes the existing claim directory ID again (after a crash before it was
 * recorded). 0 with OUT filled; 1 when there is nothing left to process; -1 on an
 * error (logged); 2 when reading it began INBOX_CRASHES_MAX times already without
 * finishing: the file is not read, and OUT holds one error spec saying that sorad
 * stopped unexpectedly while reading it (the caller fails it, unless a create may
 * have been sent for it).
 */
int inbox_reprocess(const struct conf *c, const char *id, struct claim *out);

/* Removes claim directory ID and everything in it; 0 or -1 (logged). The emptied
 * directory may be kept, as STATE/inputs/INBOX_SPARE_PREFIX..., for a later claim. */
int inbox_remove_claim(const struct conf *c, const char *id);

/* Removes the kept claim directories (at exit, after the commits are drained; a
 * start removes any left over). */
#define INBOX_SPARE_PREFIX ".spare-"
void inbox_spares_clear(void);

/* When few are kept, stages the making of more through CM (the commit thread makes
 * them: a claim then never waits for a mkdir). */
void inbox_spares_fill(const struct conf *c, struct commit *cm);

/*
 * The claim directories in STATE/inputs, for a start (jobs_load): FN(ID, MARKED, UD) for
 * each, MARKED true when the claim says it was recorded completely (a marker an earlier
 * version wrote). The empty directories an earlier run kept for claims
 * (INBOX_SPARE_PREFIX) are removed on the way. FN may remove claim ID.
 */
typedef void inbox_claim_fn(const char *id, bool marked, void *ud);
void inbox_claims_each(const struct conf *c, inbox_claim_fn *fn, void *ud);

/* Path of FILE in claim ID into buf; 0 or -1. */
int inbox_claim_path(const struct conf *c, const char *id, const char *file, char *buf,
                     size_t size);

#endif
