/*
 * jobs_int.h — what the parts of the job state machine share, and nothing else sees
 * (the way curl's multihandle.h serves multi.c and transfer.c). include/jobs.h is the
 * contract; this is the inside:
 *
 *   jobs.c            the state core: the job table and its name index, jr_move_state (the
 *                     one place a state changes, with the per-state counters) and
 *                     set_state, timers, commits, failures, holds, advance/pump,
 *                     lifetime and getters
 *   jobs_claim.c      claims: inbox files into job records; the load at start and the
 *                     recovery of claims a crash interrupted
 *   jobs_submit.c     the create: the intent made durable, the request, its answer
 *   jobs_reconcile.c  a create in doubt: the list searched, adoption, the user's decision
 *   jobs_poll.c       running videos: polls, batch refreshes, signed callbacks
 *   jobs_download.c   finished videos: the download rounds and the finished set
 *   jobs_control.c    the user's commands: approve, cancel/reject, retry, delete, forget
 *   jobs_archive.c    retention: old finished jobs' records archived, the jobs let go
 *   jobs_cold.c       finished jobs known by their STATE/history.tsv line only ("cold"):
 *                     a few bytes each in the job table, found by name or video id
 *                     through compact indexes, made a struct jrun when asked for
 *
 * Every function here runs on the loop's thread, as jobs.h's do. The functions the parts
 * share carry the jr_ prefix (for struct jrun): global to the linker, internal to
 * src/jobs*.c, never called from elsewhere.
 */
#ifndef SORAD_JOBS_INT_H
#define SORAD_JOBS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "coldidx.h"
#include "commit.h"
#include "eta.h"
#include "hmap.h"
#include "job.h"
#include "jobs.h"
#include "loop.h"
#include "pollplan.h"
#include "reconcile.h"
#include "video.h"

struct refresh;
struct dupes;
struct claimretry;
struct jdelete; /* jobs_control.c */

/* A job and what is happening to it right now (never persisted). */
struct jrun {
	struct job rec;
	struct jobs *js;
	struct api_req *req;      /* the request in flight, or NULL */
	struct loop_timer *timer; /* the next scheduled action, allocated on first use */
	long long poll_ms;        /* the current polling interval (the cap: pollplan.h) */
	struct pollplan_job pp;   /* its polls aimed at its predicted finish (pollplan.h) */
	struct dl {               /* the three variants download side by side */
		struct jrun *r;
		struct api_req *req; /* in flight, or NULL */
		int fd;              /* its .part file, or -1 */
		struct derive *drv;  /* ffmpeg making it from the MP4, or NULL */
	} dl[3];
	unsigned have;     /* variants downloaded completely (bit per variant) */
	unsigned fetching; /* variant downloads in flight */
	bool dl_round;     /* counted in jobs.dl_active: downloading (or waiting to retry) */
	bool dl_expired;   /* this round found the download link gone */
	bool dl_local;     /* this round could not write (disk full...) */
	bool parts_staged; /* its .part files are being made ahead (jr_prepare_parts) */
	bool parts_ready;  /* ...and were made: its first round needs no commit for them */
	bool parts_go;     /* ...and that round uses them at its next advance */
	long long bytes[3];
	unsigned unserved;      /* variants the service cannot serve: to be made from the MP4 */
	unsigned derived;       /* variants made from the MP4 (derive.h) */
	unsigned absent;        /* variants left out of the set: neither served nor made */
	unsigned char vfail[3]; /* failed downloads of each variant in a row */
	char *vwhy[3];          /* why a variant is unserved, then absent (owned) */
	char *list_after;       /* reconciliation: the list cursor */
	struct reconcile_scan *scan; /* reconciliation: where the search through the list is
	                              * (owned; NULL while none is under way) */
	unsigned list_failures;      /* reconciliation: list calls that failed in a row */
	bool queued;                 /* waiting for a free in-flight slot (jr_set_queued) */
	size_t seq;                  /* its place in claim order: increases along jobs.v */
	size_t wpos;                 /* in state waiting: its place in jobs.waiting */
	size_t lpos;                 /* not final: its place in jobs.live */
	struct jclaim *claim;        /* the counts of its claim (jobs.by_claim), or NULL */
	bool id_noted;               /* the service's other id for its video was logged */
	bool committing;             /* waiting for its changes to be durable (commit.h) */
	/* Its clocks, monotonic (loop_now_ms), from what sorad observed (deadline.h): */
	long long next_mono;   /* a claimed job's next try, 0 now */
	long long submit_mono; /* the latest create's intent */
	long long doubt_mono;  /* since when it is in doubt */
	long long dl_deadline; /* the download link is taken as expired from then, 0 unknown */
	unsigned dl_fails;     /* download rounds failed in a row (the video not here) */
	unsigned dl_gone;      /* ...of them, those the service answered 404/410 */
	bool dl_gone_round;    /* this round: the service said it has no such video */
	char *dl_why;          /* what the latest failed download said (owned), or NULL */
	bool by_callback;      /* its retrieve in flight was asked by a callback */
	/* What it adds to the totals of struct jobs (jobs_generated, jobs_rejected), as
	 * last tallied (tally in jobs.c): failed as invalid input, rejected; done, its
	 * seconds under model gen_model. */
	bool rejected;
	bool archived; /* its record moved to STATE/archive/: it leaves (jobs_archive.c) */
	bool marked, mark_durable; /* its mark in STATE/live: below, mark_cm */
	bool summary;              /* finished, known by its STATE/history.tsv line only: jr_full */
	bool thawed; /* made from a cold slot, its record unchanged since: it may go back to that
	              * slot (jobs_cold.c, the sweep) */
	unsigned gen_seconds;
	size_t gen_model;
	long long hist_off; /* finished: its line in STATE/history.tsv (history.h), -1 none */
	unsigned long long hist_digest; /* ...and what that line says (history_digest) */
	unsigned long long stamp;       /* this struct's own number (jobs_stamp) */
	/* Its mark in STATE/live (livemark.h): staged (marked) through MARK_CM, known durable
	 * (mark_durable) once that batch committed. */
	struct commit *mark_cm;
};

struct jobs {
	struct loop *loop;
	struct api_client *api;
	const struct conf *conf;
	/* Every job, in claim order: a slot holds a struct jrun * (even), or a finished job
	 * known by its history line only (cold: jr_slot_cold), or JSLOT_GONE (a job that
	 * left; the slots keep their places while cold jobs are indexed by place). */
	uintptr_t *slot;
	size_t n, cap;
	size_t next_seq; /* the seq of the next job added (== n: a job's seq is its slot) */
	unsigned long long stamps; /* the last jrun.stamp given */
	struct jcold {             /* the cold jobs (jobs_cold.c) */
		int fd;            /* reads their lines (history_reader), -1 when there are none */
		struct coldidx by_name, by_vid; /* hash of the name / video id → slot */
		size_t n;                       /* cold slots */
		size_t gone;                    /* JSLOT_GONE slots */
		size_t by_state[2];             /* cold slots done, failed */
		unsigned long long gen;         /* what they add to jobs.gen's seconds */
		size_t rejected;                /* ...and to jobs.rejected */
		struct hmap refs;               /* reference image → itself (owned): named by
		                                 * a cold job (jobs_name_a_reference) */
		struct cold_load *load;         /* while the load collects them, else NULL */
		size_t thawed;                  /* jobs thawed and unchanged (jrun.thawed) */
		size_t thawed_max;              /* ...sent back when they are as many */
		struct loop_timer *sweep;       /* sends them back when they are many */
	} cold;
	struct { /* the queued jobs, in claim order (by seq): what jr_pump starts */
		struct jrun **v;
		size_t n, cap;
	} queue;
	struct hmap by_name;  /* name → the job (keys: the jobs' rec.name) */
	struct hmap by_vid;   /* video id → the job with it (keys: the jobs' rec.video_id) */
	struct hmap by_claim; /* claim id → struct jclaim (owned): its jobs counted */
	struct hmap by_ref;   /* reference image → the jobs naming it (keys: rec.reference) */
	struct {              /* the jobs in JOB_WAITING (for a source), in no order */
		struct jrun **v;
		size_t n, cap;
	} waiting;
	struct { /* the jobs not final, in no order (jobs_each_live) */
		struct jrun **v;
		size_t n, cap;
	} live;
	struct dupes *dupes;  /* what each job asks for → the newest job asking it */
	struct history *hist; /* STATE/history.tsv, open from the end of the load on */
	size_t hist_walked, hist_superseded; /* a fast start's walk of it: lines, superseded */
	struct loop_timer *archive_timer;    /* retention passes (jobs_archive.c), or NULL */
	size_t archive_at;                   /* ...the slot the pass goes on from */
	struct jgen {                        /* seconds generated by the done jobs, per model */
		char *model;
		unsigned long long seconds;
	} * gen;
	size_t n_gen, cap_gen;
	size_t rejected;   /* failed jobs whose input was invalid (error code invalid_input) */
	size_t in_flight;  /* jobs submitted whose video is not finished (max_in_flight) */
	size_t dl_active;  /* jobs downloading their finished video (jr_download_room) */
	size_t submitting; /* jobs in JOB_SUBMITTING: a create to be sent or answered */
	size_t claimed;    /* jobs in JOB_CLAIMED: ready to submit (or waiting to retry) */
	size_t by_state[JOB_STATE_COUNT]; /* jobs in each state (jobs_count) */
	long long yield_ms; /* loop clock: since when work that can wait gives way, or 0 */
	struct loop_timer *yield_timer; /* ends the giving way (yield_to_creates) */
	bool api_blocked;               /* the API refused our credentials: wait for a reload */
	bool marks_kept;                /* STATE/live is kept (livemark.h): from the load's end */
	bool distrust; /* the next start reads every record (jobs_repair_at_start) */
	struct {
		jobs_change_fn *fn;
		void *ud;
	} observers[JOBS_MAX_OBSERVERS];
	size_t n_observers;
	jobs_gate_fn *gate; /* usage caps: may a claimed job be submitted now? */
	void *gate_ud;
	struct refresh *refresh;             /* batch polling (refresh.h) */
	struct eta eta;                      /* generation times per model, for estimates (eta.h) */
	struct pollplan_durations durations; /* create → completed by model+size+seconds */
	struct pollplan_stats poll_stats;    /* what the predictions cost (/metrics) */
	char odd_status[16][VIDEO_TOKEN_MAX + 1]; /* status words logged as unknown */
	size_t n_odd_status;
	struct commit *commit;  /* the group commit of records and outputs (commit.h) */
	struct commit *intents; /* a second one for intents to submit, or NULL */
	struct {                /* inbox names waiting to be claimed, oldest first */
		char **v;
		size_t head, n, cap;
		struct loop_timer *timer;
	} claimq;
	struct claimretry *retry; /* names whose claim failed, tried again with backoff */
	struct jdelete *deletes;  /* `sorad delete`s waiting for the service (jobs_delete) */
	bool callbacks_live;      /* signed callbacks arrive: polls are the fallback (jobs.h) */
};

/* ---- the slots of the job table ----------------------------------------------------- */

/* A cold slot: (its line's offset in STATE/history.tsv << 2) | failed << 1 | 1. An
 * offset is never 0 (the file starts with its comment line): 1 is free for GONE. */
#define JSLOT_GONE ((uintptr_t)1)

static inline bool jr_slot_cold(uintptr_t w)
{
	return (w & 1) && w != JSLOT_GONE;
}
static inline uintptr_t jr_slot_of_line(long long off, bool failed)
{
	return ((uintptr_t)off << 2) | (uintptr_t)(failed ? 2 : 0) | 1;
}
static inline long long jr_slot_off(uintptr_t w)
{
	return (long long)(w >> 2);
}
static inline enum job_state jr_slot_state(uintptr_t w)
{
	return (w & 2) ? JOB_FAILED : JOB_DONE;
}
/* The job in memory at slot I, or NULL (a cold job, or gone). */
static inline struct jrun *jr_at(const struct jobs *js, size_t i)
{
	return (js->slot[i] & 1) ? NULL : (struct jrun *)js->slot[i];
}

/* ---- jobs.c: the core --------------------------------------------------------------- */

/* Tells the observers (jobs_observe) that J changed; BEFORE == J->state: new/progress. */
void jr_notify_observers(const struct jobs *js, const struct job *j, enum job_state before);
/* The wall clock in seconds and in milliseconds (for records; deadlines are on
 * loop_now_ms, deadline.h). */
long long jr_now_s(void);
long long jr_now_ms_real(void);
/* Whether work that can wait (downloads, claims beyond a reserve) gives way to creates. */
bool jr_yield_to_creates(struct jobs *js);
/* Whether one more job may download now (max_in_flight, at most JOBS_DOWNLOADS_MAX:
 * jobs.h), and creates are not waiting. */
bool jr_download_room(struct jobs *js);
/* The jobs of FROM[0..N) that PICK says yes to (all of them when PICK is NULL), in claim
 * order (seq), in a new array the caller frees; *OUT of them. For the short lists of jobs
 * in flight or waiting: a walk of those, not of every job. */
struct jrun **jr_in_claim_order(struct jrun *const *from, size_t n,
                                bool (*pick)(const struct jrun *r, const void *ud), const void *ud,
                                size_t *out);
/* The job named NAME; or else the one whose video id is NAME. NULL when none. */
struct jrun *jr_by_name(const struct jobs *js, const char *name);
struct jrun *jr_by_name_or_id(const struct jobs *js, const char *name);
/* A claimed job's own backoff after ATTEMPTS tries: 5 s doubling to 320 s. */
long long jr_claimed_backoff_ms(unsigned attempts);
/* Adds a job with record REC (its strings taken; REC is left empty), counted in its state;
 * place_job: into slot POS (js->n: a new one at the end; else a cold slot, whose counts
 * the caller took out), in the duplicate index when DUPES. */
struct jrun *jr_add_job(struct jobs *js, struct job *rec);
struct jrun *jr_place_job(struct jobs *js, struct job *rec, size_t pos, bool dupes);
/* The slot of MODEL in jobs.gen (added when new); whether J failed as invalid input. */
size_t jr_gen_slot(struct jobs *js, const char *model);
bool jr_is_rejected(const struct job *j);
/* Whether a job (in memory or cold) is named NAME, without thawing it. */
bool jr_name_known(const struct jobs *js, const char *name);
/* Takes the jobs DROP(r, UD) says yes to out of the table (their records stay on disk
 * unless the caller removed them), uncounted, and frees them. */
void jr_remove_jobs(struct jobs *js, bool (*drop)(const struct jrun *r, const void *ud),
                    const void *ud);
/* The job with video id ID (the first in claim order when several), or NULL; set_vid:
 * R's video id becomes a copy of ID (NULL: none), the index kept in step. */
struct jrun *jr_by_vid(const struct jobs *js, const char *id);
void jr_set_vid(struct jrun *r, const char *id);
/* Whether a job other than R has video id ID. */
bool jr_vid_owned_by_other(const struct jobs *js, const struct jrun *r, const char *id);
/* Sets R's queued flag, keeping the list of queued jobs (jobs.queue) in step. */
void jr_set_queued(struct jrun *r, bool queued);
/* Rebuilds the name index (and the jobs' seq) after the table was reordered. */
void jr_rebuild_index(struct jobs *js);
/* Under SORAD_CHECK_COUNTS (CMake, on unless Release): recounts every job by state and
 * aborts, naming WHERE (and J, or NULL), when the counters differ. Else nothing. */
void jr_check_counts(const struct jobs *js, const struct job *j, const char *where);
/* A finished job taken from its history line at a start (summary) is read-only: what
 * changes it or shows it whole reads its record first. 0 (R whole now), or -1 when the
 * record cannot be read (logged; R stays a summary). */
int jr_full(struct jrun *r);
/* R's mark in STATE/live (livemark.h) kept in step with its record, staged through CM
 * ahead of the record's change (jr_stage does it); jr_marks_drop: marks can no longer
 * be kept (logged with WHY): STATE/live is removed, the next start reads every record. */
void jr_mark(struct commit *cm, struct jrun *r);
void jr_marks_drop(struct jobs *js, const char *why);
/* At the load, right after the records are read (jobs_claim.c): each job's mark found,
 * missing ones made, stale ones removed; STATE/live made when there is none. */
void jr_marks_load(struct jobs *js);
/* The one place a job's state changes, with the per-state counters (jobs.c). */
void jr_move_state(struct jrun *r, enum job_state s);
/* A state change recorded: moved, record staged (through the group
 * commit CM; set_state: the main one), the change logged and observers told. 0, or -1
 * when the record could not be staged. */
int jr_set_state(struct jrun *r, enum job_state s);
/* Stages R's record in CM (store_stage) and keeps its history line in step: every
 * record of a job is staged through here. 0 or -1 as store_stage. */
int jr_stage(struct commit *cm, struct jrun *r);
/* The finished jobs' lines repaired from the jobs loaded (missing ones added, lines of
 * jobs no longer finished marked), at the end of jobs_load. */
void jr_history_load(struct jobs *js, bool walked);
/* Retention (jobs_archive.c): a pass at the next loop turn when keep_records_days is
 * set (after the load, after a reload), none otherwise. */
void jr_archive_start(struct jobs *js);
int jr_set_state_in(struct jrun *r, enum job_state s, struct commit *cm);
/* Runs advance(R) after DELAY_MS (0: on the next loop iteration). */
void jr_schedule(struct jrun *r, long long delay_ms);
/* Runs FN(R, err) once R's changes staged in CM (after_commit: the main commit) are
 * durable; R waits until then (committing). after_record: through the commit R's record
 * is staged in. */
void jr_after_commit_in(struct jrun *r, struct commit *cm, commit_fn *fn);
void jr_after_commit(struct jrun *r, commit_fn *fn);
void jr_after_record(struct jrun *r, commit_fn *fn);
/* The commit a change of record NAME goes through instead of WANT when the other one
 * still has its previous change (a record's changes are durable in order). */
struct commit *jr_record_commit(const struct jobs *js, const char *name, struct commit *want);
/* The claim directory of J (its source before '/'), into buf[size]; "" when none.
 * of_source: the same from a SOURCE string (a history line's). */
void jr_claim_of(const struct job *j, char *buf, size_t size);
void jr_claim_of_source(const char *source, char *buf, size_t size);
/* How many jobs came from claim ID, and how many of them are final. */
void jr_claim_counts(const struct jobs *js, const char *id, size_t *total, size_t *final);
/* commit_fn: R's final state is durable, so its claim directory may go. */
void jr_on_final_durable(void *ud, int err);
/* Jobs waiting for R (their remix or extension source) look again. */
void jr_wake_dependants(struct jrun *r);
/* Every job waiting for a source (and not asking the service) looks again. */
void jr_wake_waiting(struct jobs *js);
/* Sets R's error (CODE, and a sentence from FMT) and finishes it as failed: the error is
 * durable first, then the failure report goes to failed/. fail_from_api: from RES. */
void jr_fail_job(struct jrun *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void jr_fail_from_api(struct jrun *r, const struct api_result *res, const char *doing);
/* The reason a held or in-doubt job waited is gone. */
void jr_clear_error(struct jrun *r);
/* Back from held to claimed, and on its way. */
void jr_unhold_job(struct jrun *r);
/* What an answer says about R's video V (its id only before R follows it). */
void jr_take_video(struct jrun *r, const struct video *v);
/* Back to claimed, to be submitted when a slot is free (oldest claim first). */
void jr_requeue(struct jrun *r);
/* The first line of S, at most 200 bytes, into buf[n]. */
void jr_first_line(const char *s, char *buf, size_t n);
/* Decides and starts R's next step from its recorded state; pump: queued jobs while
 * there are free slots. */
void jr_advance(struct jrun *r);
void jr_pump(struct jobs *js);

/* ---- jobs_submit.c ------------------------------------------------------------------ */

/* Records the intent (submitting, creates + 1) and sends the create once it is durable. */
void jr_submit(struct jrun *r);
/* Create number K of R made nothing: it costs nothing, and one more may go. */
void jr_void_create(struct jrun *r, unsigned k);
/* What the latest create got back (NULL: nothing to tell), saved with the next change. */
void jr_set_story(struct jrun *r, const char *story);
/* What an answer RES was, in plain words, into buf[size]. */
void jr_describe_answer(const struct api_result *res, char *buf, size_t size);

/* ---- jobs_reconcile.c --------------------------------------------------------------- */

/* Searches the service's list for what R's latest create made (state submitting). */
void jr_reconcile(struct jrun *r);
/* Parks R in doubt, WHY in plain words: nothing is sent until the user decides. */
void jr_doubt(struct jrun *r, const char *why);
/* Whether J waits in doubt for the user (a dropped one is a failure in progress). */
bool jr_waiting_in_doubt(const struct job *j);
/* The lines that end a doubt's reason: the decisions it waits for. Returns BUF. */
const char *jr_decide_help(const char *name, char *buf, size_t size);
/* Resubmits R once it has been in doubt in_doubt_resubmit_hours (when set). */
void jr_auto_resubmit(struct jrun *r);

/* ---- jobs_poll.c -------------------------------------------------------------------- */

/* R's video was just created or adopted: its first poll is scheduled (RES: the create's
 * answer, for its poll hint, or NULL). */
void jr_start_polling(struct jrun *r, const struct api_result *res);
/* Asks the service how R's video is doing (or fails R past job_timeout). */
void jr_poll_job(struct jrun *r);
/* refresh.h's callbacks: a list call saw a job's video, or did not show it. */
void jr_on_refresh_seen(void *job, const struct video *v, long poll_after_ms, void *ud);
void jr_on_refresh_miss(void *job, void *ud);
/* Whether C's creates carry a callback_url to sorad's listener; expect_callbacks: from
 * now on, polls are the fallback (jobs.h, JOBS_CALLBACK_POLL_S). */
bool jr_callbacks_expected(const struct conf *c);
void jr_expect_callbacks(struct jobs *js);

/* ---- jobs_download.c ---------------------------------------------------------------- */

/* How close_download leaves the .part files. */
enum close_how {
	DL_KEEP,         /* stopping: parts stay as they are */
	DL_DROP_PARTIAL, /* the downloads in flight are abandoned: their parts go */
	DL_DROP_ALL,     /* the job failed: every part goes */
};
/* Ends R's download round: what is in flight cancelled, files closed, parts per HOW. */
void jr_close_download(struct jrun *r, enum close_how how);
/* Forgets what the download rounds made: the next round fetches every variant. */
void jr_forget_outputs(struct jrun *r);
/* Downloads the variants of R's finished video not here yet, once a slot is free. */
void jr_start_download(struct jrun *r);
/* R's video was just created: its .part files are made now, beside the generation, so
 * that its downloads start as soon as it is seen completed. */
void jr_prepare_parts(struct jrun *r);

/* ---- jobs_cold.c: finished jobs known by their history line only -------------------- */

/* A fast start collects them (jobs_claim.c, load_fast): begin (after js->hist is open),
 * one collect per history line of a finished job not in memory (0, or -1: not taken,
 * the caller keeps it in memory), then finish: every slot in claim order (the jobs in
 * memory among them, TIE ordering two of those with the same jr_claim_key; NULL: by
 * address), the indexes made, the seqs stale (jr_rebuild_index next). */
void jr_cold_begin(struct jobs *js);
struct history_line;
int jr_cold_collect(struct jobs *js, const struct history_line *l);
void jr_cold_finish(struct jobs *js, int (*tie)(const void *, const void *));
/* The slot of the cold job named KEY (BY_VID: with video id KEY, the first in claim
 * order), its line read back to confirm; (size_t)-1 when none. Nothing thawed. */
size_t jr_cold_find(const struct jobs *js, const char *key, bool by_vid);
/* Slot I's job: thawed (a struct jrun summary in the same slot) when cold. NULL when
 * gone, or when its line cannot be read (logged; the slot is then gone). */
struct jrun *jr_thaw(struct jobs *js, size_t i);
/* Every cold job thawed and the GONE slots dropped (a start that reads every record
 * after all): the table as before cold jobs. */
void jr_cold_thaw_all(struct jobs *js);
/* The GONE slots dropped and the indexes made again from the lines (the slots moved). */
void jr_cold_reindex(struct jobs *js);
/* The cold jobs' lines copied into js->hist, a new file (compaction); 0, or -1: they
 * could not all be, and every one was thawed. */
int jr_cold_rewrite(struct jobs *js);
/* When cold slot I's job finished (else was claimed), unix s, as its line says; -1 when
 * unknown or unreadable. */
long long jr_cold_time(const struct jobs *js, size_t i);
/* J (a cold job's record or line) counted in (D = 1) or out of (D = -1) the cold counts
 * and the totals of /metrics; IMAGE named by a cold job (jobs_name_a_reference). */
void jr_cold_count(struct jobs *js, const struct job *j, int d);
void jr_cold_ref(struct jobs *js, const char *image);
/* After a load that read every record: the finished jobs whose history line says what
 * their record says, and for which nothing is under way, become cold (jobs.c), as a
 * fast start would have left them. */
void jr_freeze_finished(struct jobs *js);
/* The thawed jobs (jrun.thawed) that can go back to their cold slots do, unless fewer
 * than jcold.thawed_max (COLD_THAWED_MAX; tests lower it) are in memory: what the status list or a
 * lookup read of a long history does not stay. Run from the loop (a timer), never while a caller
 * holds a job. */
#define COLD_THAWED_MAX 4096
void jr_refreeze_thawed(struct jobs *js);
/* R, if thawed, stays in memory from now on: it leaves the thawed count (jobs.c). */
void jr_unthaw(struct jrun *r);
/* Whether a cold job names IMAGE as its reference. */
bool jr_cold_names_ref(const struct jobs *js, const char *image);
void jr_cold_free(struct jobs *js);

/* ---- jobs_claim.c ------------------------------------------------------------------- */

/* The load learns generation times (eta.h, pollplan.h) from the jobs finished in these
 * last days only. */
#define JOBS_LEARN_DAYS 30

/* A job's place in claim order as one number: its claim time (unix s), then its claim
 * id's millisecond and sequence ("MS-PID-SEQ/file", SOURCE), then its LINE in a batch. */
uint64_t jr_claim_key(long long claimed_at, const char *source, unsigned line);

/* claimretry.h's callback: a name whose claim failed is due again. */
void jr_on_claim_retry(const char *name, void *ud);

/* ---- jobs_control.c ----------------------------------------------------------------- */

/* Applies the decisions `sorad resolve/retry/cancel/reject` recorded while no daemon ran. */
void jr_apply_resolutions(struct jobs *js);
/* The deletes waiting for the service lose their client: answered "unavailable" now. */
void jr_deletes_abandon(struct jobs *js);

#endif
