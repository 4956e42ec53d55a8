/*
 * store.h — the state directory, sorad's single source of truth:
 *
 *   STATE/jobs/NAME.json     one record per job (job.h), replaced atomically on every
 *                            change (temp file, fsync, rename, fsync of the directory)
 *   STATE/inputs/NAME/       the job's original input files, claimed from the inbox
 *   STATE/corrupt/           records that could not be read, moved aside with a
 *                            timestamp suffix: never deleted, never crash-looped on
 *   STATE/live/NAME          the records a start must read (livemark.h)
 *   STATE/history.tsv        the finished jobs summarized, derived from the records
 *                            (history.h)
 *   STATE/archive/           records of finished jobs past keep_records_days, a file
 *                            of JSON lines per month (YYYY-MM.jsonl)
 *
 * Records are JSON so that an operator can read them; parsing them back is as
 * defensive as parsing the network (a disk can be corrupted, a person can edit).
 */
#ifndef SORAD_STORE_H
#define SORAD_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

#define STORE_RECORD_MAX (256 * 1024) /* bytes of one job record */

/* Creates STATE/jobs, STATE/inputs and STATE/corrupt (mode 0700); 0 or -1 (logged). */
int store_open(const char *state_dir);

/* Writes J's record atomically (a command's write: its mark made first when it needs
 * one, livemark.h); 0, or -1 with errno set (logged with the job name). */
int store_save(const char *state_dir, const struct job *j);
/* The same through the group commit C (commit.h): staged now, durable at the next
 * commit_flush. NULL C: store_save. */
struct commit;
int store_stage(struct commit *c, const char *state_dir, const struct job *j);
/* True when a change of job NAME's record is staged in C and not committed yet. */
bool store_staged(const struct commit *c, const char *state_dir, const char *name);

/* Removes J's record (after its outputs are final), then its mark; 0 or -1. */
int store_remove(const char *state_dir, const char *name);

/*
 * Retention (keep_records_days): the records of the N finished jobs J[] are appended,
 * one line of JSON each, to STATE/archive/YYYY-MM.jsonl (the month, UTC, each finished
 * in), the archive files synced, then the records removed and STATE/jobs synced once.
 * A crash between the two leaves a record in both places: archived again next time, a
 * second line for the same job, never a loss. OK[i] says whether J[i]'s record is now
 * only in the archive. Returns how many are; failures are logged.
 */
size_t store_archive(const char *state_dir, const struct job *const *j, size_t n, bool *ok);

/*
 * Serializes J into a new JSON string (caller frees), and parses one back into an
 * initialized J: 0, or -1 with a reason in why[whylen].
 */
char *store_record_json(const struct job *j);
int store_record_parse(struct job *j, const char *json, size_t len, char *why, size_t whylen);

/* Reads and parses record FILE of directory DFD (a regular file of at most
 * STORE_RECORD_MAX bytes, opened without following a symlink or blocking) into J: 0, or
 * -1 with a reason in why[whylen] (J then holds nothing). Never moves or removes it. */
int store_record_read(int dfd, const char *file, struct job *j, char *why, size_t whylen);

/*
 * Loads every record, calling CB for each readable one (the job is the callback's
 * to keep: it must job_release it or take its contents); CB returns false to stop the
 * load there (a SIGTERM during a long start). An unreadable record is moved to
 * STATE/corrupt/ and logged. Returns the number loaded, -1 when the directory cannot
 * be read, or -2 when CB stopped it.
 */
int store_load_all(const char *state_dir, bool (*cb)(struct job *j, void *ud), void *ud);

/* As store_load_all, for the records of jobs NAMES[N] only (a missing one is skipped):
 * a start reading the marked records (livemark.h). STALE_PID > 0: the temp files that
 * daemon left for these records (a crash) are removed on the way. */
int store_load_names(const char *state_dir, const char *const *names, size_t n, long stale_pid,
                     bool (*cb)(struct job *j, void *ud), void *ud);

/*
 * Calls CB with the job name of every record ever moved to STATE/corrupt/ (its file
 * NAME.json.UNIXTIME). A record that could not be read was durable once: its job may
 * have sent a create, so its claim must never be processed again as new work (jobs.c).
 * Returns the number of names, or -1 when the directory cannot be read (logged).
 */
int store_corrupt_names(const char *state_dir, void (*cb)(const char *name, void *ud), void *ud);

#endif
