/*
 * livemark.h — STATE/live/: an empty file NAME for every job whose record a start must
 * read: a job not finished (neither done nor failed), or a finished one carrying a
 * decision recorded while no daemon ran (job.h, resolution). A start that trusts
 * STATE/history.tsv for the finished jobs reads only the records named here instead
 * of every record in STATE/jobs (issue 20: a start that does not grow with history).
 *
 * The rule every writer keeps: a record that needs a mark has it, durable no later than
 * the record's change that needs it (the daemon stages the mark with that change,
 * commit_mark; a command makes and syncs it before writing the record). A mark is
 * removed only once a change of its record that needs none is durable, so after any
 * crash the marks name every record that needs one, and perhaps a few more: a start
 * reads those too and removes their marks.
 *
 * STATE/live exists only complete: the first start without it reads every record, as
 * before, and makes it whole (STATE/live.new filled and synced, then renamed). When a
 * writer cannot keep it, it removes it (livemark_drop): the next start reads every record
 * and makes it again. Names are job names (safe file names, prompt.h).
 */
#ifndef SORAD_LIVEMARK_H
#define SORAD_LIVEMARK_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

#define LIVEMARK_DIR "live"

struct commit;

/* Whether J's record needs a mark: J not final, or a resolution waiting in it. */
bool livemark_needed(const struct job *j);

/* Whether STATE/live exists (is kept): then every writer keeps the rule above. */
bool livemark_kept(const char *state_dir);

/* Stages J's mark through C (commit_mark; NULL C: made and synced now). 0 or -1
 * (errno set). */
int livemark_stage(struct commit *c, const char *state_dir, const char *name);

/* Removes NAME's mark (not synced: a mark left by a crash is harmless). 0, or -1
 * (logged) when it exists and cannot be removed. */
int livemark_remove(const char *state_dir, const char *name);

/* For a command about to write J's record while no daemon runs: J's mark made and
 * synced now when J needs one and STATE/live is kept. 0, or -1 (logged): then STATE/live
 * has been removed (livemark_drop) or the record must not be written. */
int livemark_before_save(const char *state_dir, const struct job *j);

/* Calls FN for each mark's name. Returns how many, or -1 when STATE/live is missing or
 * cannot be read (errno set; ENOENT: not kept). */
int livemark_each(const char *state_dir, void (*fn)(const char *name, void *ud), void *ud);

/* Makes STATE/live complete with the marks NAMES[N] (any old STATE/live.new removed
 * first; synced; renamed into place). 0 or -1 (logged; nothing is kept then). */
int livemark_make(const char *state_dir, const char *const *names, size_t n);

/* Removes STATE/live (renamed away first, so that it is gone at once, then emptied):
 * the next start reads every record. Logged with WHY. */
void livemark_drop(const char *state_dir, const char *why);

#endif
