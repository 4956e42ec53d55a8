/*
 * history.h — STATE/history.tsv: a summary of every finished job (done or failed), one
 * line each, appended in the order the jobs finished. It is what the commands need to
 * show a finished job without reading its record: `sorad list` reads this one file and
 * the records of the jobs still in flight, instead of every record.
 *
 * The records (store.h) stay the truth; this file is derived from them and repaired
 * from them at every start of the daemon (lines missing added, lines of jobs no longer
 * finished or no longer there marked), so it needs no fsync of its own. Its only
 * writer is the daemon holding the state lock, or a command holding it while no daemon
 * runs. A reader may meet a last line still being written: it ends without a newline
 * and is left out. When the daemon cannot write it, it removes it (the commands then
 * read every record, as before there was a history) and makes it again at its next
 * start.
 *
 * A line: FLAG NAME VIDEO_ID MODEL SIZE SECONDS PROGRESS CLAIMED_AT SUBMIT_AT
 * FINISHED_AT VIDEO_CREATED_AT VIDEO_COMPLETED_AT SPENT_MICRO_USD ERROR_CODE DUP_KEY
 * SOURCE LINE REFERENCE NOTE, separated by tabs (times in unix seconds). FLAG is 'D' (done), 'F'
 * (failed) or 'x' (superseded: the job was retried, forgotten or deleted since; the one
 * byte is overwritten in place). Unknown numbers are empty; text fields escape tab,
 * newline and backslash as \t, \n and \\. Lines starting with '#' are comments (the
 * first one names the format: a file of another version is not read, and the daemon
 * makes it again from the records).
 *
 * Ownership: struct history is the caller's (history_close); a history_line's strings
 * point into the buffer the walk hands to the callback, valid during the call only.
 */
#ifndef SORAD_HISTORY_H
#define SORAD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

#define HISTORY_FILE "history.tsv"
#define HISTORY_LINE_MAX 4096 /* bytes of a line, newline included; longer ones are skipped */
#define HISTORY_NOTE_MAX 200  /* bytes of the error kept as the note (its start) */

struct history_line {
	enum job_state state; /* JOB_DONE or JOB_FAILED */
	bool superseded;
	long long off; /* where the line starts in the file */
	const char *name, *video_id, *model, *size, *error_code, *dup_key, *note; /* "" none */
	const char *source, *reference;                                           /* "" none */
	unsigned seconds, line;                         /* line: in a .jsonl batch, 0 otherwise */
	int progress;                                   /* -1 unknown */
	long long claimed_at, submit_at, finished_at;   /* unix seconds, -1 unknown */
	long long video_created_at, video_completed_at; /* the service's, -1 unknown */
	long long spent_micro_usd;
	/* history_line_digest's: the line as read (NULL: digest_ holds its digest) */
	const char *raw_;
	size_t raw_len_;
	unsigned long long digest_;
};

/* The digest of L's line as written (history_digest's for the job it says); only
 * while L's callback runs: it reads the walk's buffer. */
unsigned long long history_line_digest(const struct history_line *l);

/* Called for every complete line; returns false to stop the walk. */
typedef bool history_fn(const struct history_line *l, void *ud);

/*
 * Walks STATE/history.tsv: FN for each complete, well-formed line (superseded ones
 * too: the callback tells). Returns the number of lines walked, or -1 when there is
 * no history file (errno ENOENT) or it cannot be read (logged by the caller).
 */
long long history_each(const char *state_dir, history_fn *fn, void *ud);

/* The line starting at OFF of FD (a reader: history_reader) into BUF (at most SIZE
 * bytes, newline included): its length, or -1 (errno EPROTO: no whole line there). */
long long history_line_at(int fd, long long off, char *buf, size_t size);
/* FN for the line starting at OFF of FD, when it is a whole line of ours: 0, else -1. */
int history_read_at(int fd, long long off, history_fn *fn, void *ud);

/* The job a line describes, as far as the line says (J initialized by the caller:
 * job_init); the strings are copies J owns. */
void history_line_job(const struct history_line *l, struct job *j);

/* A digest of the line J would get now: equal to a line's digest when that line says
 * exactly this (a job re-recorded without a change needs no new line). */
unsigned long long history_digest(const struct job *j);

/* ---- the writer (the daemon; a command only while holding the state lock) ---- */

struct history;

/*
 * Opens (creating it with its comment line when missing) STATE/history.tsv for
 * appending. A last line without its newline (a crash in the middle of an append) is
 * cut off. NULL on failure (logged).
 */
struct history *history_open(const char *state_dir);
/* Whether STATE/history.tsv exists, a regular file of this version. */
bool history_current(const char *state_dir);
void history_close(struct history *h);

/* Appends J's line (J done or failed); its offset, or -1: the file is then removed and
 * H writes nothing more (logged once), history_ok() false. DIGEST (may be NULL): the
 * line's history_digest, from the same formatting. */
long long history_append(struct history *h, const struct job *j, unsigned long long *digest);
/* Appends LINE (N bytes: one line of this format, its newline included, as
 * history_line_at reads it) as it is; its offset, or -1 as history_append. */
long long history_append_line(struct history *h, const char *line, size_t n);
/* A descriptor of H's file for reading lines at their offsets (history_read_at), the
 * caller's to close: it reads the same file even after H stops or the file is removed.
 * -1 when H does not write (history_ok false) or on failure. */
int history_reader(const struct history *h);
/* Marks the line at OFF superseded; 0 or -1 (as for history_append). */
int history_supersede(struct history *h, long long off);
/* Whether H still writes (no write failed). */
bool history_ok(const struct history *h);
/* Walks H's file as history_each does (the daemon's repair at start). */
long long history_walk(struct history *h, history_fn *fn, void *ud);

/* Marks superseded every line of job NAME (a command changing records while no daemon
 * runs, holding the state lock); 0, or -1 (the file is then removed, logged). No file:
 * 0. */
int history_forget(const char *state_dir, const char *name);

/*
 * Whether a start may take the finished jobs from the file instead of from every
 * record (jobs_load): STATE/history.trust says the daemon that kept it stopped cleanly
 * (the file synced), or is from this boot (a process that died left its writes in the
 * page cache). A file being made again (compaction, a failed write) is not trusted:
 * the trust is dropped first and set again once it is whole. *PID: that daemon's
 * process id when it did not stop cleanly (its temp files may remain), else 0.
 */
bool history_trusted(const char *state_dir, long *pid);
/* Sets it: CLEAN after syncing H's file (a clean stop), else "this boot". 0 or -1
 * (logged). */
int history_trust_set(struct history *h, const char *state_dir, bool clean);
void history_trust_drop(const char *state_dir);

#endif
