/*
 * jobs.h — the job state machine: every job sorad knows, in memory, driven through
 * claimed → submitting → running → downloading → done (or failed) by API results and
 * loop timers, with every transition saved to the state directory (store.h) through
 * the group commit (commit.h): a step that depends on a transition (the create after
 * the intent, the failure report after the error, NAME.json after the outputs, done
 * after NAME.json) waits for the commit. See job.h for the states.
 *
 * Exactly-once submission: the intent (state "submitting", submit_at, creates + 1) is
 * saved before the create call, and no create goes beyond the job's allowance (job.h).
 * A create that may have spent money without a usable answer (spend.h), or any job
 * found "submitting" at start, is reconciled (reconcile.h): a listed video that matches
 * and no other job owns is adopted; only a list that proves absence allows another
 * create; anything else puts the job in doubt for the user.
 *
 * Ownership: struct jobs owns its jobs. The loop, API client and conf are borrowed
 * and must outlive it (or be replaced through jobs_set_api / jobs_set_conf).
 */
#ifndef SORAD_JOBS_H
#define SORAD_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "conf.h"
#include "job.h"
#include "loop.h"

#define JOBS_RECONCILE_SLACK_S 120  /* clock difference allowed between us and the API */
#define JOBS_RECONCILE_PAGES 20     /* list pages (of 100) searched for a lost create */
#define JOBS_RECONCILE_DELAY_S 3    /* a create sent just before a crash may still be landing */
#define JOBS_MAX_SUBMITS 6          /* create attempts (each with its own retries) per job */
#define JOBS_RECONCILE_LIST_TRIES 3 /* failed list calls before the job is put in doubt */
#define JOBS_RECONCILE_RETRY_S 5    /* between them (each list call has its own retries) */
/* Downloads (every kind of failure is bounded, and ends with a plain reason): */
#define JOBS_DL_ROUNDS 6         /* download rounds that fail in a row before the job fails */
#define JOBS_DL_GONE_TRIES 3     /* rounds answered 404/410 for the video: "no longer has it" */
#define JOBS_DL_RETRY_MAX_S 60   /* rounds are retried after poll_max s, doubling to this */
#define JOBS_DL_LOCAL_RETRY_S 30 /* after a local failure (disk full), until the link expires */
/* A body without Content-Length is cut off past download_max_mb, or when that is 0
 * past JOBS_DL_AUTO_MB plus 2 bytes per pixel per second of the job's video (a
 * thumbnail or spritesheet: JOBS_DL_AUTO_MB). */
#define JOBS_DL_AUTO_MB 256LL
/* A claimed job whose create failed (429, 5xx before sending) tries again after its
 * own backoff, 5 s doubling to 320 s, or a server's retry-after up to
 * retry_after_max_s; a next try recorded by an earlier run waits no longer than that
 * (a record from another version or a clock set back cannot park it). */

struct jobs;

/* Observers: called after a job was created, changed state or made progress (for
 * notifications and the status endpoint). BEFORE equals j->state for a new job or a
 * progress update. The job is read-only and valid during the call; an observer must
 * not call back into jobs_* functions that change jobs. */
typedef void jobs_change_fn(const struct job *j, enum job_state before, void *ud);
#define JOBS_MAX_OBSERVERS 8

/* CM: the group commit every record change goes through (commit.h; NULL: each change
 * durable at once). Borrowed like the loop. API may be NULL: no client yet, as after
 * jobs_suspend: files are claimed, held, approved, cancelled and failed, and nothing is
 * sent (no create, poll or download) until jobs_set_api (tests/unit/t_jobs.c). */
struct commit;
struct jobs *jobs_new(struct loop *l, struct api_client *api, const struct conf *c,
                      struct commit *cm);
/* A second group commit for intents to submit, so that a create never waits behind
 * a large batch (jobs.c, intent_commit); NULL (the default): everything through CM. */
void jobs_set_intent_commit(struct jobs *js, struct commit *cm);
void jobs_free(struct jobs *js);

/* Adds an observer; 0, or -1 when JOBS_MAX_OBSERVERS are registered already. */
int jobs_observe(struct jobs *js, jobs_change_fn *fn, void *ud);

/*
 * Loads every record from the state directory, processes claims interrupted before
 * their records were written, and resumes each unfinished job from its recorded state.
 * Returns the number of jobs loaded, or -1 (logged) when the state dir is unusable.
 */
int jobs_load(struct jobs *js);
/* The same, asking STOP(UD) now and then while records are read (a long history):
 * when it says true, the load ends there and -2 is returned (the caller exits; nothing
 * was changed on disk but what a load always tidies). */
int jobs_load_until(struct jobs *js, bool (*stop)(void *ud), void *ud);

/* Claims inbox entry NAME (the watcher found it ready) and starts its jobs. Names
 * are claimed in the order given, JOBS_CLAIMS_PER_TURN per loop iteration, so that a
 * large drop starts its first submissions while the rest is still being claimed. */
#define JOBS_CLAIMS_PER_TURN 32
/* While creates are pending, new downloads and claims beyond a reserve of ready jobs
 * wait for them, at most this long. */
#define JOBS_YIELD_MS 500
void jobs_claim(struct jobs *js, const char *name);

/* A reload: new limits and folders apply from now on. */
void jobs_set_conf(struct jobs *js, const struct conf *c);

/*
 * Cancels every API request in flight (jobs keep their recorded state), so the
 * client can be replaced (a reload changed the API settings) or the daemon can stop.
 * jobs_set_api then resumes every unfinished job on the new client, as after a
 * restart (creates in flight are reconciled, not repeated).
 */
void jobs_suspend(struct jobs *js);
void jobs_set_api(struct jobs *js, struct api_client *api);

/* Jobs in state S, and jobs in flight (submitting, running, downloading). */
size_t jobs_count(const struct jobs *js, enum job_state s);
/* The places of the job table, in claim order (jobs_at). */
size_t jobs_total(const struct jobs *js);
/* Calls FN(J, UD) for every job not final (claimed to downloading), in claim order: the
 * jobs in flight, without walking the finished ones. FN must not change the jobs. */
void jobs_each_live(const struct jobs *js, void (*fn)(const struct job *j, void *ud), void *ud);

/* What the polls aimed at each video's finish cost (pollplan.h): for /metrics. */
struct pollplan_stats;
const struct pollplan_stats *jobs_poll_stats(const struct jobs *js);
/* Seconds of video the done jobs made with the I-th model sorad has seen done (0 <= I <
 * jobs_generated_models): its name in *MODEL. Kept as jobs change, not recounted. */
size_t jobs_generated_models(const struct jobs *js);
unsigned long long jobs_generated(const struct jobs *js, size_t i, const char **model);
/* Failed jobs whose input was invalid (a rejected inbox file or batch line). */
size_t jobs_rejected(const struct jobs *js);
/* Jobs that download at once: max_in_flight, at most JOBS_DOWNLOADS_MAX (each fetches
 * its three files side by side: a transfer is some 25 KiB of libcurl's, and a wave of
 * 256 finishing together took 11 MiB at the peak). */
#define JOBS_DOWNLOADS_MAX 32
/* Jobs downloading their finished video now (at most max_in_flight, and
 * JOBS_DOWNLOADS_MAX). */
size_t jobs_downloading(const struct jobs *js);

/* The job named NAME or whose video id is ID, or NULL. */
const struct job *jobs_find(const struct jobs *js, const char *name_or_id);
/* The I-th job (0 <= I < jobs_total), in claim order; NULL for a place whose job left
 * (or whose history line can no longer be read). A finished job known by its history
 * line only is read from it here; jobs_state_at says a place's state without that
 * (JOB_STATE_COUNT: none). jobs_known: how many places hold a job. */
const struct job *jobs_at(const struct jobs *js, size_t i);
enum job_state jobs_state_at(const struct jobs *js, size_t i);
size_t jobs_known(const struct jobs *js);
/* FN for every job whose record is read (not known by its history line only, and so
 * not finished since before this start), in claim order. */
void jobs_each_whole(const struct jobs *js, void (*fn)(const struct job *j, void *ud), void *ud);
/*
 * A finished job may be known by its STATE/history.tsv line only (a summary: a start
 * took it from there instead of reading its record): name, state, video id, model,
 * size, seconds, progress, times, what it spent, error code and the error's start,
 * source and reference. What shows a job whole (the status endpoint, the commands)
 * asks for jobs_whole: J's record is read now, once, and J becomes it (its pointer
 * stays valid). Returns J; it stays a summary when its record cannot be read (logged).
 */
const struct job *jobs_whole(const struct jobs *js, const struct job *j);
/* A number no other job in memory of this process has had: J's pointer may be reused
 * for another job once J leaves memory (a finished job read from its history line goes
 * back to it), its stamp is not. */
unsigned long long jobs_stamp(const struct job *j);
/* Whether J is such a summary (what it spent is in the usage log already). */
bool jobs_is_summary(const struct job *j);
/* Something derived from the records could not be written (the usage log): the next
 * start reads every record, not the history (it repairs what depends on them). */
void jobs_repair_at_start(struct jobs *js);
/* Whether some job names IMAGE as its reference ("reference:" in its prompt file). */
bool jobs_name_a_reference(const struct jobs *js, const char *image);
/* The I with jobs_at(JS, I) == J, or (size_t)-1 when J is none of JS's: O(log n). */
size_t jobs_index(const struct jobs *js, const struct job *j);

/*
 * Holds. A job is held (state held, never failed) before submission for one of two
 * reasons, recorded as its error_code with the reason in plain words as its error
 * (cleared when it is released):
 *   JOBS_HOLD_CAP       the gate (usage caps) said no; re-examined by
 *                       jobs_release_held (a new period, a reload), oldest first;
 *   JOBS_HOLD_APPROVAL  its dropped file's estimated cost exceeds approve_over_usd;
 *                       released only by jobs_approve ("sorad approve NAME").
 */
#define JOBS_HOLD_CAP "usage_cap"
#define JOBS_HOLD_APPROVAL "approval_required"

/* Asked right before a claimed job is submitted: 0 go, else hold, with the reason
 * in why[whylen]. The job is read-only; the gate must not call back into jobs_*. */
typedef int jobs_gate_fn(const struct job *j, char *why, size_t whylen, void *ud);
void jobs_set_gate(struct jobs *js, jobs_gate_fn *fn, void *ud);

/* Releases cap-held jobs the gate now allows, oldest first; returns how many. */
size_t jobs_release_held(struct jobs *js);

/* Releases the jobs held for approval named NAME, or whose dropped file's stem is
 * NAME (every line of batch.jsonl for "batch"); returns how many (0: none held). */
int jobs_approve(struct jobs *js, const char *name);
/* The test jobs_approve applies to one job (also used offline, on records). */
bool jobs_approval_matches(const struct job *j, const char *name);

/*
 * In doubt. A job whose create may have spent money, where the service cannot prove
 * that it did not, waits in state in_doubt (job.h) with the reason in plain words as
 * its error and JOBS_DOUBT (or a more precise code) as its error_code. Only the user
 * moves it on:
 *   JOBS_RESOLVE_ADOPT     the video VIDEO_ID is this job's: it is polled and downloaded;
 *   JOBS_RESOLVE_RESUBMIT  an explicit second create (logged as the user's decision);
 *   JOBS_RESOLVE_DROP      the job fails to failed/ with the story of the create.
 * Returns 0, or -1 with the reason in why[whylen] (unknown job, not in doubt, a video
 * id that is not safe or owned by another job).
 */
#define JOBS_DOUBT "in_doubt"
enum jobs_resolve_how { JOBS_RESOLVE_ADOPT, JOBS_RESOLVE_RESUBMIT, JOBS_RESOLVE_DROP };
int jobs_resolve(struct jobs *js, const char *name, enum jobs_resolve_how how, const char *video_id,
                 char *why, size_t whylen);
/* The same decision as a record's "resolution" string ("adopt:ID", "resubmit", "drop"),
 * as `sorad resolve` stores it when no daemon runs: 0 and *HOW / *ID (pointing into S),
 * or -1 when S is not one. */
int jobs_resolution_parse(const char *s, enum jobs_resolve_how *how, const char **video_id);

/*
 * Cancelling. JOBS_CANCEL stops job NAME (or the job of that video id):
 *   claimed, held, waiting  nothing was sent: it fails as "cancelled", nothing spent;
 *   running, downloading    sorad stops tracking it and fails it as "cancelled"; when
 *                           the service can delete videos (caps) a DELETE is sent for
 *                           it, whose answer is logged; the video may still be billed;
 *   submitting              refused for now: a create is on its way (try again);
 *   in_doubt                refused: `sorad resolve --drop` is the decision for it;
 *   done, failed            refused: nothing runs.
 * JOBS_REJECT is for a job held (approval or cap) only: it fails as "rejected".
 * Returns 0 with what was done in msg[n], or -1 with why not: -2 when it may work in
 * a moment (submitting).
 */
enum jobs_stop_how { JOBS_CANCEL, JOBS_REJECT };
int jobs_stop(struct jobs *js, const char *name, enum jobs_stop_how how, char *msg, size_t n);

/*
 * `sorad retry NAME`: a failed job runs again under the same name (not NAME-2). Its
 * failure goes into its history (job.h) and its failure report leaves failed/; the
 * creates it sent stay counted (they may have been billed), and one more is allowed.
 * A reference image is taken back from failed/ when the claim no longer has it.
 * Returns 0 with what was done in msg[n], or -1 with why not (not failed, too many
 * creates, its reference image gone).
 */
int jobs_retry(struct jobs *js, const char *name, char *msg, size_t n);

/*
 * `sorad delete` through the daemon, which holds the API key: asks the service to
 * delete VIDEO_ID (JOB, the job's name or NULL, names it in the log). Returns 0 when
 * the DELETE is on its way: DONE is then called exactly once, later, with OK (deleted,
 * or the service had it no longer), an error code when not ("cannot_delete": the
 * service has no delete; "config": it refused the request as set up; "unavailable":
 * anything else, also the client going away in a reload or at shutdown, jobs_suspend)
 * and a sentence for the user. Returns -1 without calling DONE, with *CODE and why not
 * in msg[n]: "cannot_delete" (caps.h says the service cannot), "busy" (a reload).
 */
typedef void jobs_deleted_fn(bool ok, const char *code, const char *msg, void *ud);
int jobs_delete(struct jobs *js, const char *video_id, const char *job, jobs_deleted_fn *done,
                void *ud, const char **code, char *msg, size_t n);

/* Forgets the final job NAME: its record is removed and it leaves memory (after
 * `sorad delete --purge` removed its outputs). 0, or -1 (unknown, not final, or the
 * record cannot be removed). */
int jobs_forget(struct jobs *js, const char *name);

/*
 * A signed callback (callback.h) said that the video VIDEO_ID changed: its job asks
 * the service at once instead of waiting for its next poll (the callback's body is
 * not trusted for the outcome; the retrieve answer is, and goes the way every poll's
 * does). Returns JOBS_REFRESH_STARTED (a retrieve is on its way), JOBS_REFRESH_PENDING
 * (the job is running but a request of its own is in flight, or the client is
 * paused: that answer or the next poll will do), JOBS_REFRESH_NOT_RUNNING (the job is
 * past running: downloading, done, failed...) or JOBS_REFRESH_UNKNOWN (no job has
 * that video id; a job NAME is never matched here).
 */
enum jobs_refresh_result {
	JOBS_REFRESH_APPLIED, /* jobs_callback_event only: the signed event itself was taken */
	JOBS_REFRESH_STARTED,
	JOBS_REFRESH_PENDING,
	JOBS_REFRESH_NOT_RUNNING,
	JOBS_REFRESH_UNKNOWN,
};
enum jobs_refresh_result jobs_refresh_now(struct jobs *js, const char *video_id);
/*
 * The "data" DATA[LEN] (JSON, may be NULL) of a signed callback for VIDEO_ID, verified
 * by callback.c: only the service that holds the secret can have written it. When it
 * reads, with the protocol's own parser, as that video ended (completed, failed, cancelled,
 * expired), the job goes on from it as from a retrieve answer: no retrieve is sent
 * (JOBS_REFRESH_APPLIED). Anything else (not running yet, unreadable, still running,
 * another id) is jobs_refresh_now's.
 */
enum jobs_refresh_result jobs_callback_event(struct jobs *js, const char *video_id,
                                             const char *data, size_t len);
/* Once a callback came for a job of sorad's, or from the start when each create carries
 * callback_url (callback_url and callback_listen set), callbacks are taken to arrive:
 * running jobs are polled no more often than every JOBS_CALLBACK_POLL_S (the fallback),
 * until a poll finds a video ended that no callback announced (then the usual pace
 * again, until the next callback). */
#define JOBS_CALLBACK_POLL_S 120

#endif
