/* jobs.c — the job state machine (see jobs.h and job.h). */
#include "jobs.h"
#include "caps.h"
#include "catalog.h"
#include "claimretry.h"
#include "commit.h"
#include "deadline.h"
#include "derive.h"
#include "dupes.h"
#include "eta.h"
#include "fsutil.h"
#include "inbox.h"
#include "log.h"
#include "media.h"
#include "outbox.h"
#include "prompt.h"
#include "proto.h"
#include "reconcile.h"
#include "pollplan.h"
#include "refresh.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	long long bytes[3];
	unsigned unserved;          /* variants the service cannot serve: to be made from the MP4 */
	unsigned derived;           /* variants made from the MP4 (derive.h) */
	unsigned absent;            /* variants left out of the set: neither served nor made */
	unsigned char vfail[3];     /* failed downloads of each variant in a row */
	char *vwhy[3];              /* why a variant is unserved, then absent (owned) */
	char *list_after;           /* reconciliation: the list cursor */
	struct reconcile_scan scan; /* reconciliation: where the search through the list is */
	unsigned list_failures;     /* reconciliation: list calls that failed in a row */
	bool queued;                /* waiting for a free in-flight slot */
	bool id_noted;              /* the service's other id for its video was logged */
	bool committing;            /* waiting for its changes to be durable (commit.h) */
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
};

struct jobs {
	struct loop *loop;
	struct api_client *api;
	const struct conf *conf;
	struct jrun **v; /* every job, in claim order */
	size_t n, cap;
	size_t *ht; /* name → index + 1, open addressing */
	size_t ht_cap;
	struct dupes *dupes; /* what each job asks for → the newest job asking it */
	size_t in_flight;    /* jobs submitted whose video is not finished (max_in_flight) */
	size_t dl_active;    /* jobs downloading their finished video (max_in_flight too) */
	size_t submitting;   /* jobs in JOB_SUBMITTING: a create to be sent or answered */
	size_t claimed;      /* jobs in JOB_CLAIMED: ready to submit (or waiting to retry) */
	long long yield_ms;  /* loop clock: since when work that can wait gives way, or 0 */
	struct loop_timer *yield_timer; /* ends the giving way (yield_to_creates) */
	bool api_blocked;               /* the API refused our credentials: wait for a reload */
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

/* A user's delete of a video at the service, waiting for its answer (jobs_delete). */
struct jdelete {
	struct jobs *js;
	struct api_req *req;
	char *video_id, *job;
	jobs_deleted_fn *done;
	void *ud;
	struct jdelete *next;
};

static void notify_observers(const struct jobs *js, const struct job *j, enum job_state before)
{
	for (size_t i = 0; i < js->n_observers; i++)
		js->observers[i].fn(j, before, js->observers[i].ud);
}

static void advance(struct jrun *r);
static void pump(struct jobs *js);
static void deletes_abandon(struct jobs *js);
static void fail_job(struct jrun *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static long long now_s(void)
{
	return (long long)time(NULL);
}

static long long now_ms_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool in_flight_state(enum job_state s);

/* Counts a job in state S in (D = 1) or out of (D = -1) js's per-state counters. */
static void count_state(struct jobs *js, enum job_state s, int d)
{
	if (in_flight_state(s))
		js->in_flight += (size_t)d;
	if (s == JOB_SUBMITTING)
		js->submitting += (size_t)d;
	else if (s == JOB_CLAIMED)
		js->claimed += (size_t)d;
}

/*
 * Whether work that can wait should give way now: new download rounds, and claims
 * beyond a reserve of jobs ready to submit. Submissions go first: a create starts a
 * generation (the service's clock), while a download only fetches what is done and a
 * claim only takes a file that cannot be submitted yet. So while creates are pending,
 * that work waits, for at most JOBS_YIELD_MS, and does not take the loop's, the
 * disk's and the service's time from them. A burst of completions then turns into the
 * next burst of creates at once, and its downloads follow.
 */
static bool yield_to_creates(struct jobs *js)
{
	if (js->submitting == 0) {
		js->yield_ms = 0;
		return false;
	}
	long long now = loop_now_ms();
	if (!js->yield_ms)
		js->yield_ms = now;
	long long left = js->yield_ms + JOBS_YIELD_MS - now;
	if (left <= 0)
		return false;
	if (!loop_timer_armed(js->yield_timer))
		loop_timer_arm(js->yield_timer, left);
	return true;
}

/* A generation in flight: what max_in_flight limits, since that is what a service
 * limits. A finished video being downloaded no longer counts (downloads have their
 * own limit, jobs.dl_active). */
static bool in_flight_state(enum job_state s)
{
	return s == JOB_SUBMITTING || s == JOB_RUNNING;
}

/* ---- the name index ------------------------------------------------------------ */

static void ht_put(struct jobs *js, size_t idx)
{
	if ((js->n + 1) * 2 > js->ht_cap) {
		size_t cap = js->ht_cap ? js->ht_cap * 2 : 256;
		free(js->ht);
		js->ht = xcalloc(cap, sizeof(*js->ht));
		js->ht_cap = cap;
		for (size_t i = 0; i < js->n; i++) {
			if (i == idx)
				continue;
			size_t h = hash_str(js->v[i]->rec.name) & (cap - 1);
			while (js->ht[h])
				h = (h + 1) & (cap - 1);
			js->ht[h] = i + 1;
		}
	}
	size_t h = hash_str(js->v[idx]->rec.name) & (js->ht_cap - 1);
	while (js->ht[h])
		h = (h + 1) & (js->ht_cap - 1);
	js->ht[h] = idx + 1;
}

static struct jrun *by_name(const struct jobs *js, const char *name)
{
	if (!js->ht_cap || !name)
		return NULL;
	size_t h = hash_str(name) & (js->ht_cap - 1);
	while (js->ht[h]) {
		struct jrun *r = js->v[js->ht[h] - 1];
		if (!strcmp(r->rec.name, name))
			return r;
		h = (h + 1) & (js->ht_cap - 1);
	}
	return NULL;
}

/* The job named NAME, else the one whose video id is NAME (a linear search). */
static struct jrun *by_name_or_id(const struct jobs *js, const char *name)
{
	struct jrun *r = by_name(js, name);
	for (size_t i = 0; !r && name && i < js->n; i++)
		if (js->v[i]->rec.video_id && !strcmp(js->v[i]->rec.video_id, name))
			r = js->v[i];
	return r;
}

/* Rebuilds the name index from scratch (after the job array was reordered). */
static void rebuild_index(struct jobs *js)
{
	free(js->ht);
	js->ht = NULL;
	js->ht_cap = 0;
	size_t n = js->n;
	for (size_t i = 0; i < n; i++) {
		js->n = i;
		ht_put(js, i);
	}
	js->n = n;
}

/* A claimed job's own backoff after ATTEMPTS tries: 5 s doubling to 320 s. */
static long long claimed_backoff_ms(unsigned attempts)
{
	return 5000LL << (attempts < 6 ? attempts : 6);
}

/* The longest wait sorad itself schedules before the next try of a claimed job that
 * made ATTEMPTS tries: its backoff, or a server's retry-after (retry_after_max_s). */
static long long longest_wait_ms(const struct jobs *js, unsigned attempts)
{
	long long ra = (long long)js->conf->retry_after_max_s * 1000;
	long long own = claimed_backoff_ms(attempts);
	return ra > own ? ra : own;
}

/*
 * The monotonic clocks of a job whose record was written by an earlier run (or just
 * made: then nothing is set). The wall clock says how much time passed meanwhile,
 * bounded (deadline.h): a clock set back counts as no time, and nothing waits longer
 * than sorad would schedule now. A job submitted longer than job_timeout ago polls
 * once more before it times out; a download link whose window passed allows one more
 * round before it is called expired (download_round_over checks after a round).
 */
static void clocks_from_record(struct jrun *r)
{
	const struct job *j = &r->rec;
	long long now = loop_now_ms(), wall = now_ms_real();
	if (j->state == JOB_CLAIMED && j->next_at_ms > 0)
		r->next_mono = now + deadline_wait_ms(j->next_at_ms, wall,
		                                      longest_wait_ms(r->js, j->attempts));
	if (j->submit_at >= 0) {
		long long most = (long long)r->js->conf->job_timeout * 1000 - 1000;
		r->submit_mono = now - deadline_elapsed_ms(j->submit_at * 1000, wall, most);
	}
	if (j->state == JOB_IN_DOUBT && j->next_at_ms > 0)
		r->doubt_mono = now - deadline_elapsed_ms(j->next_at_ms, wall, LLONG_MAX / 4);
	if (j->dl_window_s >= 0 && j->dl_seen_at > 0) {
		long long w = j->dl_window_s * 1000;
		r->dl_deadline = now + w - deadline_elapsed_ms(j->dl_seen_at * 1000, wall, w);
	}
}

static struct jrun *add_job(struct jobs *js, struct job *rec)
{
	struct jrun *r = xcalloc(1, sizeof(*r));
	r->rec = *rec; /* takes the strings */
	job_init(rec);
	r->js = js;
	for (int v = 0; v < 3; v++) {
		r->dl[v].r = r;
		r->dl[v].fd = -1;
	}
	if (js->n == js->cap) {
		js->cap = js->cap ? js->cap * 2 : 64;
		js->v = xrealloc(js->v, js->cap * sizeof(*js->v));
	}
	js->v[js->n++] = r;
	ht_put(js, js->n - 1);
	count_state(js, r->rec.state, 1);
	clocks_from_record(r);
	/* The index names jobs that may make their video: not a failure, nor a job that
	 * will fail for its input or as a duplicate. */
	const char *code = r->rec.error_code;
	if (r->rec.dup_key && r->rec.state != JOB_FAILED &&
	    !(code && (!strcmp(code, "duplicate") || !strcmp(code, "invalid_input"))))
		dupes_put(js->dupes, r->rec.dup_key, r->rec.name, r->rec.claimed_at);
	return r;
}

/* ---- bookkeeping ----------------------------------------------------------------- */

static int set_state_in(struct jrun *r, enum job_state s, struct commit *cm);
static struct commit *record_commit(const struct jobs *js, const char *name, struct commit *want);

/* Records a new state: saved before anything else happens, observers told. */
static int set_state(struct jrun *r, enum job_state s)
{
	return set_state_in(r, s, r->js->commit);
}

/* The same, through the group commit CM. */
static int set_state_in(struct jrun *r, enum job_state s, struct commit *cm)
{
	struct jobs *js = r->js;
	enum job_state before = r->rec.state;
	cm = record_commit(js, r->rec.name, cm);
	count_state(js, before, -1);
	count_state(js, s, 1);
	if (before == JOB_SUBMITTING && js->submitting == 0 && js->yield_ms)
		loop_timer_arm(js->yield_timer, 0); /* what gave way goes now */
	if (before == JOB_RUNNING && s != JOB_RUNNING)
		refresh_untrack(js->refresh, r, r->rec.video_id);
	r->rec.state = s;
	if (s == JOB_DONE && before != JOB_DONE)
		eta_add(&js->eta, &r->rec);
	if (job_state_is_final(s) && !job_state_is_final(before))
		outbox_release(js->conf, r->rec.name); /* its set or report holds the name */
	int rc = store_stage(cm, js->conf->state_dir, &r->rec);
	if (before != s)
		log_event(LOG_INFO, r->rec.name, r->rec.video_id, "%s → %s", job_state_name(before),
		          job_state_name(s));
	notify_observers(js, &r->rec, before);
	return rc;
}

static void schedule(struct jrun *r, long long delay_ms);

static void on_timer(void *ud)
{
	advance(ud);
}

/* Runs advance(r) after DELAY_MS (0: on the next loop iteration). */
static void schedule(struct jrun *r, long long delay_ms)
{
	if (!r->timer)
		r->timer = loop_timer_new(r->js->loop, on_timer, r);
	loop_timer_arm(r->timer, delay_ms);
}

/* Runs FN(R, err) once R's changes staged so far are durable; until then R waits
 * (advance does nothing for it). */
static void after_commit_in(struct jrun *r, struct commit *cm, commit_fn *fn)
{
	r->committing = true;
	commit_then(cm, fn, r);
}

static void after_commit(struct jrun *r, commit_fn *fn)
{
	after_commit_in(r, r->js->commit, fn);
}

/*
 * The commit for a change of JS's record NAME that would go through WANT: the other
 * commit if the record is staged there (its previous change is not durable yet), so
 * that a record's changes become durable in the order they were made.
 */
static struct commit *record_commit(const struct jobs *js, const char *name, struct commit *want)
{
	struct commit *other = want == js->intents ? js->commit : js->intents;
	if (other && store_staged(other, js->conf->state_dir, name))
		return other;
	return want;
}

/* after_commit for what waits for R's record itself. */
static void after_record(struct jrun *r, commit_fn *fn)
{
	after_commit_in(r, record_commit(r->js, r->rec.name, r->js->commit), fn);
}

/* The claim directory of a job (the part of its source before '/'), into buf. */
static void claim_of(const struct job *j, char *buf, size_t size)
{
	buf[0] = '\0';
	const char *slash = j->source ? strchr(j->source, '/') : NULL;
	if (slash && (size_t)(slash - j->source) < size) {
		memcpy(buf, j->source, (size_t)(slash - j->source));
		buf[slash - j->source] = '\0';
	}
}

/* How many jobs came from claim ID, and how many of them are final. */
static void claim_counts(const struct jobs *js, const char *id, size_t *total, size_t *final)
{
	*total = *final = 0;
	for (size_t i = 0; i < js->n; i++) {
		char c[128];
		claim_of(&js->v[i]->rec, c, sizeof(c));
		if (strcmp(c, id) != 0)
			continue;
		(*total)++;
		*final += job_state_is_final(js->v[i]->rec.state);
	}
}

/*
 * True when claim ID was recorded completely: each of its records says how many jobs
 * the claim made and that many exist. A claim with a job that was ever submitted or
 * finished counts as recorded too: records are committed in order, so a submission
 * proves its claim's records were all durable (jobs forgotten since do not undo that).
 */
static bool claim_recorded(const struct jobs *js, const char *id)
{
	size_t total = 0;
	bool counts_ok = true, progressed = false;
	unsigned want = 0;
	for (size_t i = 0; i < js->n; i++) {
		const struct job *j = &js->v[i]->rec;
		char c[128];
		claim_of(j, c, sizeof(c));
		if (strcmp(c, id) != 0)
			continue;
		total++;
		if (!j->claim_jobs || (want && j->claim_jobs != want))
			counts_ok = false;
		want = j->claim_jobs;
		if (j->submit_at >= 0 || j->video_id || job_state_is_final(j->state))
			progressed = true;
	}
	return progressed || (total > 0 && counts_ok && total == want);
}

/* Removes the claim directory once every job of it is final. */
static void release_claim_if_done(struct jobs *js, const struct job *j);

/* R's final state is durable: its claim directory may go (when it was the last). */
static void on_final_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (!err) /* else the directory stays; the next start removes it */
		release_claim_if_done(r->js, &r->rec);
}

static void release_claim_if_done(struct jobs *js, const struct job *j)
{
	char id[128];
	claim_of(j, id, sizeof(id));
	if (!id[0])
		return;
	size_t total, final;
	claim_counts(js, id, &total, &final);
	if (total == final)
		inbox_remove_claim(js->conf, id);
}

enum close_how {
	DL_KEEP,         /* stopping: parts stay as they are */
	DL_DROP_PARTIAL, /* the downloads in flight are abandoned: their parts go */
	DL_DROP_ALL,     /* the job failed: every part goes */
};

/* Forgets what the download rounds made: the next round fetches every variant. */
static void forget_outputs(struct jrun *r)
{
	r->have = r->unserved = r->derived = r->absent = 0;
	for (int v = 0; v < 3; v++) {
		r->vfail[v] = 0;
		free(r->vwhy[v]);
		r->vwhy[v] = NULL;
	}
}

/* Ends the job's download round: cancels what is in flight (downloads, ffmpeg),
 * closes the files. */
static void close_download(struct jrun *r, enum close_how how)
{
	for (int v = 0; v < 3; v++) {
		struct dl *d = &r->dl[v];
		bool partial = d->req || d->fd >= 0 || d->drv;
		if (d->req) {
			api_req_cancel(d->req);
			d->req = NULL;
		}
		if (d->drv) { /* reaped now only when stopping: the loop goes away */
			derive_cancel(d->drv, how == DL_KEEP);
			d->drv = NULL;
		}
		if (d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
		}
		char part[PATH_MAX];
		if (((partial && how != DL_KEEP) || how == DL_DROP_ALL) &&
		    outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part,
		                     sizeof(part)) == 0)
			unlink(part);
	}
	r->fetching = 0;
	if (how == DL_DROP_ALL)
		forget_outputs(r);
	if (r->dl_round) {
		r->dl_round = false;
		r->js->dl_active--;
	}
}

/* The job or video R starts from: its remix_of or its extend_of (never both,
 * prompt.c), or NULL. Both wait for a source job the same way (resolve_source). */
static const char *source_of(const struct job *j)
{
	return j->remix_of ? j->remix_of : j->extend_of;
}

/* Jobs waiting for R (their source) look again: R is done, or failed. */
static void wake_dependants(struct jrun *r)
{
	for (size_t i = 0; i < r->js->n; i++) {
		struct jrun *w = r->js->v[i];
		const char *src = source_of(&w->rec);
		if (w->rec.state == JOB_WAITING && src && !strcmp(src, r->rec.name))
			schedule(w, 0);
	}
}

/*
 * Puts the job's inputs and NAME.error.txt into failed/, then records it failed. A job
 * whose record carries an error but is not final yet is a failure in progress: it is
 * finished here again after a crash or when failed/ could not be written (disk full),
 * and is never submitted.
 */
static void finish_failure(struct jrun *r)
{
	struct jobs *js = r->js;
	char id[128], input[PATH_MAX] = "", image[PATH_MAX] = "";
	claim_of(&r->rec, id, sizeof(id));
	const char *file = r->rec.source ? strchr(r->rec.source, '/') : NULL;
	size_t total = 0, final = 0;
	if (id[0] && file)
		inbox_claim_path(js->conf, id, file + 1, input, sizeof(input));
	if (id[0] && r->rec.reference)
		inbox_claim_path(js->conf, id, r->rec.reference, image, sizeof(image));
	if (id[0])
		claim_counts(js, id, &total, &final);
	if (outbox_write_failure(js->conf, &r->rec, input[0] ? input : NULL, total <= 1,
	                         image[0] ? image : NULL) != 0) {
		/* The inputs stay in the state directory until failed/ can take them. */
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot write the failure report to %s; trying again in 30 s",
		          js->conf->failed_dir);
		schedule(r, 30000);
		return;
	}
	r->rec.finished_at = now_s();
	set_state(r, JOB_FAILED);
	after_record(r, on_final_durable);
	wake_dependants(r); /* they cannot run now: they fail too */
	pump(js);
}

/* The error is durable: the failure report can be written. */
static void on_error_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) { /* advance finishes the failure later: the record has the error */
		schedule(r, 30000);
		return;
	}
	finish_failure(r);
}

/* Sets the job's error (a sentence in plain words) and finishes it as failed. */
static void fail_job(struct jrun *r, const char *code, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (buf[0] >= 'a' && buf[0] <= 'z') /* reasons read as sentences */
		buf[0] = (char)(buf[0] - 'a' + 'A');
	free(r->rec.error);
	r->rec.error = xstrdup(buf);
	free(r->rec.error_code);
	r->rec.error_code = code ? xstrdup(code) : NULL;
	close_download(r, DL_DROP_ALL);
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id, "failed: %s", buf);
	/* Durable first: from here on the job can only end as failed. */
	store_stage(record_commit(r->js, r->rec.name, r->js->commit), r->js->conf->state_dir,
	            &r->rec);
	after_record(r, on_error_durable);
}

/* The plain-words failure for an API error, with the API's own message when useful. */
static void fail_from_api(struct jrun *r, const struct api_result *res, const char *doing)
{
	const char *msg = res->error.message;
	const char *code = res->error.code ? res->error.code : api_kind_name(res->kind);
	if (res->kind == API_CONTENT_POLICY)
		fail_job(r, code,
		         "%s\n\nWhat the service said: %s\n\nContent guidelines: no real people "
		         "or public figures, no copyrighted characters or music, no faces in "
		         "reference images, and nothing unsuitable for under-18 audiences. Edit "
		         "the prompt and drop it into the inbox again.",
		         api_kind_describe(res->kind), msg ? msg : "(no details)");
	else
		fail_job(r, code, "While %s: %s\n\nWhat the service said: %s", doing,
		         api_kind_describe(res->kind), msg ? msg : "(no details)");
}

/* ---- holds: usage caps and approvals -------------------------------------------- */

/* Parks R in state held with CODE and a plain-words REASON (shown by list and show). */
static void hold_job(struct jrun *r, const char *code, const char *reason)
{
	free(r->rec.error);
	r->rec.error = xstrdup(reason);
	free(r->rec.error_code);
	r->rec.error_code = xstrdup(code);
	r->queued = false;
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, NULL, "held: %s", reason);
	set_state(r, JOB_HELD);
}

/* The reason a job waits (held, in doubt) is gone. */
static void clear_error(struct jrun *r)
{
	free(r->rec.error);
	r->rec.error = NULL;
	free(r->rec.error_code);
	r->rec.error_code = NULL;
}

/* Back from held to claimed, reason cleared, and on its way. */
static void unhold_job(struct jrun *r)
{
	clear_error(r);
	set_state(r, JOB_CLAIMED);
	advance(r);
}

static bool held_for(const struct jrun *r, const char *code)
{
	return r->rec.state == JOB_HELD && r->rec.error_code && !strcmp(r->rec.error_code, code);
}

/* ---- submission ------------------------------------------------------------------ */

static void on_created(struct api_req *req, void *ud);
static void reconcile(struct jrun *r);
static bool waiting_in_doubt(const struct job *j);
static void auto_resubmit(struct jrun *r);

/* What an answer says about the job's video. A create answer or an adoption names the
 * video; once the job follows it (running, downloading), answers never re-key it:
 * gateways answer with "" or the upstream's raw id (providers.md). */
static void take_video(struct jrun *r, const struct video *v)
{
	bool following = r->rec.state == JOB_RUNNING || r->rec.state == JOB_DOWNLOADING;
	if (v->id && !following && (!r->rec.video_id || strcmp(r->rec.video_id, v->id) != 0)) {
		free(r->rec.video_id);
		r->rec.video_id = xstrdup(v->id);
	} else if (v->id && r->rec.video_id && strcmp(r->rec.video_id, v->id) != 0 &&
	           !r->id_noted) {
		r->id_noted = true;
		log_event(LOG_INFO, r->rec.name, r->rec.video_id,
		          "the service calls this video %s; sorad keeps the id its create returned",
		          v->id);
	}
	free(r->rec.status);
	r->rec.status = xstrdup(video_status_name(v->status));
	r->rec.progress = v->progress; /* -1: the service says nothing (LiteLLM) */
	r->rec.typical_s = eta_typical_s(&r->js->eta, r->rec.model);
	if (v->usage_json) {
		free(r->rec.usage);
		r->rec.usage = xstrdup(v->usage_json);
	}
	if (v->usage_cost >= 0)
		r->rec.reported_cost_usd = v->usage_cost;
	if (v->created_at >= 0)
		r->rec.video_created_at = v->created_at;
	if (v->completed_at >= 0)
		r->rec.video_completed_at = v->completed_at;
	if (v->expires_at >= 0)
		r->rec.video_expires_at = v->expires_at;
	if (v->remixed_from_video_id && !r->rec.remix_video_id)
		r->rec.remix_video_id = xstrdup(v->remixed_from_video_id);
}

static void send_create(struct jrun *r);

/* The intent to submit is durable: the create may go. */
static void on_intent_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) {
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "cannot record the intent to submit (%s); trying again in 30 s",
		          strerror(err));
		r->rec.creates--; /* never sent: it is not counted (the next intent counts it) */
		set_state(r, JOB_CLAIMED);
		schedule(r, 30000);
		return;
	}
	if (!r->js->api)
		return; /* suspended: jobs_set_api resumes it from its record (reconciling) */
	send_create(r);
}

/*
 * The group commit an intent to submit goes through. The main one carries a turn's
 * bulk (records of jobs moving on, downloads, usage lines) and can take a while on a
 * slow disk; an intent goes through the second, small one unless the job's record
 * still has an older change in the main one (a record never overtakes an older
 * change), which is also always the case for a job claimed in this batch: all the
 * records of its claim are there, and they must be durable before any of its creates.
 */
static struct commit *intent_commit(const struct jrun *r)
{
	const struct jobs *js = r->js;
	return record_commit(js, r->rec.name, js->intents ? js->intents : js->commit);
}

/*
 * Money. A job may send a create only while creates < creates_allowed (job.h); the
 * allowance grows only when a create is proven to have made nothing (void_create) or
 * the user said --resubmit. create_allowed() is asked where the request is made
 * (send_create) as well as where the intent is recorded (submit).
 */
static bool create_allowed(const struct job *j)
{
	return j->creates < j->creates_allowed && j->creates < JOB_CREATES_MAX;
}

/* Create number K of R (from 1) made nothing: it costs nothing, and one more may go. */
static void void_create(struct jrun *r, unsigned k)
{
	if (k >= 1 && k <= JOB_CREATES_MAX)
		r->rec.creates_void |= 1u << (k - 1);
	if (r->rec.creates_allowed < r->rec.creates + 1)
		r->rec.creates_allowed = r->rec.creates + 1;
}

/* A job in doubt that waits for the user (a dropped one is a failure in progress). */
static bool waiting_in_doubt(const struct job *j)
{
	return j->state == JOB_IN_DOUBT && j->error_code && !strcmp(j->error_code, JOBS_DOUBT);
}

/* What the latest create got back (job.h, create_answer); saved with the next change. */
static void set_story(struct jrun *r, const char *story)
{
	free(r->rec.create_answer);
	r->rec.create_answer = story ? xstrdup(story) : NULL;
}

/* What a create got back, in plain words, for the story of a job in doubt. */
static void describe_answer(const struct api_result *res, char *buf, size_t size)
{
	const char *msg = res->error.message ? res->error.message : "";
	if (res->http_status >= 200 && res->http_status < 300)
		bfmt(buf, size, "HTTP %ld with an answer sorad cannot use (%s)", res->http_status,
		     *msg ? msg : "no usable video");
	else if (res->http_status > 0 && !strncmp(msg, "HTTP ", 5))
		bfmt(buf, size, "%s", msg); /* api.c said "HTTP N: the body" already */
	else if (res->http_status > 0)
		bfmt(buf, size, "HTTP %ld%s%s", res->http_status, *msg ? ": " : "", msg);
	else
		bfmt(buf, size, "no answer (%s)", *msg ? msg : curl_easy_strerror(res->curl_code));
}

static void clear_reconcile(struct jrun *r)
{
	free(r->list_after);
	r->list_after = NULL;
	memset(&r->scan, 0, sizeof(r->scan));
	r->list_failures = 0;
}

/* The decisions a job in doubt waits for, as the lines that end its reason. */
static const char *decide_help(const char *name, char *buf, size_t size)
{
	bfmt(buf, size,
	     "Nothing more is sent for this job until you decide:\n"
	     "  sorad resolve %s --adopt VIDEO_ID   if the provider's dashboard shows its video\n"
	     "  sorad resolve %s --resubmit         to create it again (a second charge if the "
	     "first was made)\n"
	     "  sorad resolve %s --drop             to give it up (its input goes to failed/)",
	     name, name, name);
	return buf;
}

/*
 * Parks R in doubt: its latest create may have spent money and nothing proves it did
 * not. WHY says why it cannot be proven. Nothing is sent until the user decides
 * (jobs_resolve) or in_doubt_resubmit_hours pass.
 */
static void doubt(struct jrun *r, const char *why)
{
	struct jobs *js = r->js;
	char when[64] = "an unknown time", text[4096], help[1024];
	time_t t = (time_t)r->rec.submit_at;
	struct tm tm;
	if (r->rec.submit_at >= 0 && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	bfmt(text, sizeof(text),
	     "The service may have made this video (and charged for it), and sorad cannot prove "
	     "that it did not. %s %u for %s (%s, %s, %u s) was sent at %s; what came back: %s. "
	     "%s%s\n\n%s",
	     r->rec.remix_video_id ? "Remix" : "Create", r->rec.creates, r->rec.name,
	     r->rec.model ? r->rec.model : "?", r->rec.size ? r->rec.size : "?", r->rec.seconds,
	     when,
	     r->rec.create_answer ? r->rec.create_answer
	                          : "nothing (sorad stopped while it was in flight)",
	     why, why[0] && why[strlen(why) - 1] != '.' ? "." : "",
	     decide_help(r->rec.name, help, sizeof(help)));
	free(r->rec.error);
	r->rec.error = xstrdup(text);
	free(r->rec.error_code);
	r->rec.error_code = xstrdup(JOBS_DOUBT);
	r->rec.next_at_ms = now_ms_real(); /* in doubt since: for a restart */
	r->doubt_mono = loop_now_ms();     /* ...and for in_doubt_resubmit_hours */
	clear_reconcile(r);
	r->queued = false;
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, NULL, "in doubt: %s", why);
	set_state(r, JOB_IN_DOUBT);
	if (js->conf->in_doubt_resubmit_hours)
		schedule(r, (long long)js->conf->in_doubt_resubmit_hours * 3600000LL);
	pump(js);
}

static void submit(struct jrun *r)
{
	const struct caps *caps = api_client_caps(r->js->api);
	if (r->rec.remix_video_id && !caps_has(caps, CAPS_REMIX)) {
		/* Known not to work (configured, or a "not supported" answer): nothing is sent. */
		char known[300];
		caps_explain(caps, CAPS_REMIX, known, sizeof(known));
		fail_job(
		    r, "remix_unsupported",
		    "The service cannot remix videos (%s). Nothing was sent and nothing was "
		    "spent.\n\nTo make this video, drop it as a new prompt (without remix_of).",
		    known);
		return;
	}
	if (!create_allowed(&r->rec)) {
		/* Every path that allows another create raised the allowance first. */
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "refusing to send create %u: only %u allowed for this job",
		          r->rec.creates + 1, r->rec.creates_allowed);
		doubt(r, "sorad's own bound on creates per job stopped a further create");
		return;
	}
	r->rec.submit_at = now_s();
	r->submit_mono = loop_now_ms();
	r->rec.attempts++;
	r->rec.creates++; /* counted durably, with the intent, before the request exists */
	set_story(r, NULL);
	/* The intent is durable before the request can reach the server. */
	struct commit *cm = intent_commit(r);
	if (set_state_in(r, JOB_SUBMITTING, cm) != 0) {
		r->rec.creates--;
		set_state(r, JOB_CLAIMED);
		schedule(r, 30000);
		return;
	}
	after_commit_in(r, cm, on_intent_durable);
}

static void send_create(struct jrun *r)
{
	struct jobs *js = r->js;
	/* The bound, where the request is made: this create was counted (creates) when
	 * its intent was recorded, and must be within the allowance. */
	if (r->rec.state != JOB_SUBMITTING || r->rec.creates == 0 ||
	    r->rec.creates > r->rec.creates_allowed) {
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "refusing to send a create: %u sent of %u allowed, state %s",
		          r->rec.creates, r->rec.creates_allowed, job_state_name(r->rec.state));
		doubt(r, "sorad's own bound on creates per job stopped a further create");
		return;
	}
	if (r->rec.remix_video_id) {
		r->req = api_remix(js->api, r->rec.remix_video_id, r->rec.prompt, r->rec.name,
		                   on_created, r);
		return;
	}
	char secs[16], ref[PATH_MAX] = "", last[PATH_MAX] = "", id[128];
	bfmt(secs, sizeof(secs), "%u", r->rec.seconds);
	claim_of(&r->rec, id, sizeof(id));
	if (r->rec.reference)
		inbox_claim_path(js->conf, id, r->rec.reference, ref, sizeof(ref));
	if (r->rec.last_frame)
		inbox_claim_path(js->conf, id, r->rec.last_frame, last, sizeof(last));
	struct api_create_params p = {
	    .prompt = r->rec.prompt,
	    .model = r->rec.model,
	    .seconds = secs,
	    .size = r->rec.size,
	    .size_as_is = catalog_takes_size(catalog_current(), r->rec.model, r->rec.size),
	    .input_reference = ref[0] ? ref : NULL,
	    .last_frame = last[0] ? last : NULL,
	    .has_seed = r->rec.has_seed,
	    .seed = r->rec.seed,
	    .audio = (enum api_audio)r->rec.audio,
	    .options_json = r->rec.options,
	    .callback_url = js->conf->callback_url,
	    .previous_job_id = r->rec.extend_job_id};
	r->req = api_create(js->api, &p, r->rec.name, on_created, r);
}

/* Back to the queue for a later attempt, or failed once attempts are used up. */
static void retry_later(struct jrun *r, const struct api_result *res, const char *doing)
{
	if (r->rec.attempts >= JOBS_MAX_SUBMITS) {
		fail_from_api(r, res, doing);
		return;
	}
	long long delay = claimed_backoff_ms(r->rec.attempts);
	/* the server's retry-after, bounded by retry_after_max_s (api.c) */
	if (res->retry_after_ms > delay)
		delay = res->retry_after_ms;
	r->next_mono = loop_now_ms() + delay;
	r->rec.next_at_ms = now_ms_real() + delay; /* for a restart (clocks_from_record) */
	set_state(r, JOB_CLAIMED);
	log_event(LOG_WARNING, r->rec.name, NULL, "%s failed (%s); trying again in %lld s", doing,
	          api_kind_name(res->kind), delay / 1000);
	schedule(r, delay);
	pump(r->js);
}

/* The observed duration of jobs like R's (pollplan.h), -1 none. */
static long long typical_ms(const struct jrun *r)
{
	char key[POLLPLAN_KEY_MAX];
	pollplan_key(key, sizeof(key), r->rec.model, r->rec.size, r->rec.seconds);
	return pollplan_typical_ms(&r->js->durations, key);
}

static long long callback_pace(const struct jrun *r, long long wait_ms);

static void start_polling(struct jrun *r, const struct api_result *res)
{
	r->poll_ms = (long long)r->js->conf->poll_initial * 1000;
	pollplan_start(&r->pp, loop_now_ms());
	schedule(r, callback_pace(r, pollplan_wait(&r->pp, loop_now_ms(), r->poll_ms,
	                                           res ? res->poll_after_ms : -1, typical_ms(r))));
}

static void on_created(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	const char *doing = r->rec.remix_video_id ? "remixing" : "submitting";
	if (res->kind == API_OK && res->has_video && res->spend == SPEND_MADE) {
		set_story(r, NULL);
		take_video(r, &res->video);
		r->rec.attempts = 0;
		set_state(r, JOB_RUNNING);
		log_event(LOG_INFO, r->rec.name, r->rec.video_id, "created (%s, %s, %u s)",
		          r->rec.model, r->rec.size, r->rec.seconds);
		start_polling(r, res);
		return;
	}
	if (res->spend != SPEND_REFUSED) {
		/* The service may have made the video: find it before sending anything again. */
		char story[1024];
		describe_answer(res, story, sizeof(story));
		set_story(r, story);
		set_state(r, JOB_SUBMITTING); /* the story survives a restart */
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "the create may have made a video (%s); reconciling before anything is "
		          "sent again",
		          story);
		reconcile(r);
		return;
	}
	/* An explicit refusal, or nothing was sent: this create made nothing. */
	set_story(r, NULL);
	void_create(r, r->rec.creates);
	switch (res->kind) {
	case API_CONFIG:
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "the API refused sorad's credentials or address (HTTP %ld): %s. "
		          "Submissions are paused until the configuration is fixed and reloaded "
		          "(SIGHUP)",
		          res->http_status, api_kind_describe(res->kind));
		r->js->api_blocked = true;
		set_state(r, JOB_CLAIMED);
		r->queued = true; /* resumes after the reload */
		return;
	case API_RATE_LIMITED:
	case API_TRANSIENT:
		retry_later(r, res, doing);
		return;
	default:
		fail_from_api(r, res, doing);
		return;
	}
}

/* ---- reconciliation of a create whose outcome is unknown (reconcile.h) ------------ */

static bool owned_by_other(const struct jobs *js, const struct jrun *r, const char *id)
{
	for (size_t i = 0; i < js->n; i++)
		if (js->v[i] != r && js->v[i]->rec.video_id && !strcmp(js->v[i]->rec.video_id, id))
			return true;
	return false;
}

static bool owned_cb(const char *id, void *ud)
{
	const struct jrun *r = ud;
	return owned_by_other(r->js, r, id);
}

static void on_list(struct api_req *req, void *ud);

static void reconcile(struct jrun *r)
{
	/* A list the service is known not to have, or whose videos carry no prompt, cannot
	 * prove anything (caps.h): in doubt now, not after the wait and a list call. */
	const struct caps *caps = api_client_caps(r->js->api);
	bool no_list = !caps_has(caps, CAPS_LIST);
	if (r->scan.pages == 0 && (no_list || !caps_has(caps, CAPS_LIST_PROMPTS))) {
		char known[300], why[512];
		caps_explain(caps, no_list ? CAPS_LIST : CAPS_LIST_PROMPTS, known, sizeof(known));
		if (no_list)
			bfmt(why, sizeof(why), "The service has no list of videos to check (%s)",
			     known);
		else
			bfmt(why, sizeof(why),
			     "The service's list does not include prompts (%s), so "
			     "it cannot show whether this create made a video",
			     known);
		doubt(r, why);
		return;
	}
	/* Give a create that was on the wire when the answer was lost time to land, so
	 * the list below can see it. */
	long long wait_ms = r->submit_mono + (1 + JOBS_RECONCILE_DELAY_S) * 1000LL - loop_now_ms();
	if (r->scan.pages == 0 && wait_ms > 0) {
		schedule(r, wait_ms);
		return;
	}
	struct api_list_params p = {.limit = 100, .after = r->list_after, .order = "desc"};
	r->req = api_list(r->js->api, &p, on_list, r);
}

/* Back to claimed, to be submitted as soon as a slot is free (oldest claim first). */
static void requeue(struct jrun *r)
{
	set_state(r, JOB_CLAIMED);
	r->queued = true;
	pump(r->js);
}

/* The service proved that the latest create made nothing: it may be sent again. */
static void absent(struct jrun *r)
{
	clear_reconcile(r);
	if (r->rec.creates >= JOBS_MAX_SUBMITS) {
		/* Every one of them "proven" void: a list that keeps proving absence is more
		 * likely wrong than a service that keeps failing after 5xx answers. */
		char why[256];
		bfmt(why, sizeof(why),
		     "The service's list says none of this job's %u creates made a video; after "
		     "that many, sorad stops and asks rather than trusting the list again",
		     r->rec.creates);
		doubt(r, why);
		return;
	}
	void_create(r, r->rec.creates);
	log_event(
	    LOG_INFO, r->rec.name, NULL,
	    "reconciled: the service has no video for this job (its list proves create %u made "
	    "none); submitting it again",
	    r->rec.creates);
	requeue(r);
}

static void adopt(struct jrun *r, const struct video *v, const char *how)
{
	log_event(LOG_INFO, r->rec.name, v->id, "%s", how);
	clear_reconcile(r);
	set_story(r, NULL);
	take_video(r, v);
	r->rec.attempts = 0;
	set_state(r, JOB_RUNNING);
	start_polling(r, NULL);
}

static void on_list(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	char why[1024];
	if (res->kind != API_OK || !res->has_list) {
		const char *msg =
		    res->error.message ? res->error.message : api_kind_name(res->kind);
		if (res->kind == API_CONFIG) {
			r->js->api_blocked = true;
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "cannot list videos to reconcile (%s); trying again in 30 s",
			          msg);
			schedule(r, 30000);
			return;
		}
		if (reconcile_list_unsupported(res->http_status, msg)) {
			bfmt(why, sizeof(why),
			     "The service has no list of videos to check (HTTP %ld: %s)",
			     res->http_status, msg);
			doubt(r, why);
			return;
		}
		/* A list that answers with something sorad cannot read will not read better
		 * later; a lost or refused one may. */
		bool may_pass = res->kind == API_TRANSIENT || res->kind == API_RATE_LIMITED;
		if (may_pass && ++r->list_failures < JOBS_RECONCILE_LIST_TRIES) {
			/* Never resubmit without an answer: try the list again later. */
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "cannot list videos to reconcile (%s); trying again in %d s", msg,
			          JOBS_RECONCILE_RETRY_S);
			schedule(r, JOBS_RECONCILE_RETRY_S * 1000LL);
			return;
		}
		char answer[600];
		describe_answer(res, answer, sizeof(answer));
		if (may_pass)
			bfmt(why, sizeof(why),
			     "Listing the service's videos failed %u times "
			     "(last: %s)",
			     r->list_failures, answer);
		else
			bfmt(why, sizeof(why),
			     "The service's list of videos could not be used (%s)", answer);
		doubt(r, why);
		return;
	}
	/* The service's times are on its own clock: the intent is placed on it with the
	 * skew its Date header shows (a clock hours behind would otherwise hide the video
	 * and make older ones look like proof of absence). */
	struct job view = r->rec;
	if (res->has_skew && view.submit_at >= 0)
		view.submit_at += res->server_skew_s;
	if (res->has_skew && (res->server_skew_s > JOBS_RECONCILE_SLACK_S ||
	                      res->server_skew_s < -JOBS_RECONCILE_SLACK_S))
		log_event(LOG_INFO, r->rec.name, NULL,
		          "the service's clock is %lld s off this machine's; matching on its clock",
		          res->server_skew_s);
	const struct video *v = NULL;
	switch (reconcile_page(&r->scan, r->js->conf, &view, &res->list, JOBS_RECONCILE_SLACK_S,
	                       JOBS_RECONCILE_PAGES, owned_cb, r, &v, why, sizeof(why))) {
	case RECONCILE_ADOPT:
		adopt(r, v, "reconciled: the lost create had made this video; adopting it");
		return;
	case RECONCILE_NEXT_PAGE:
		free(r->list_after);
		r->list_after = xstrdup(res->list.last_id);
		reconcile(r);
		return;
	case RECONCILE_ABSENT:
		absent(r);
		return;
	case RECONCILE_UNPROVEN:
		if (why[0] >= 'a' && why[0] <= 'z')
			why[0] = (char)(why[0] - 'a' + 'A');
		doubt(r, why);
		return;
	}
}

/* ---- in doubt: the user's decision ------------------------------------------------- */

static void auto_resubmit(struct jrun *r)
{
	unsigned hours = r->js->conf->in_doubt_resubmit_hours;
	if (!waiting_in_doubt(&r->rec) || !hours || !r->js->api)
		return;
	long long due = r->doubt_mono + (long long)hours * 3600000LL;
	long long left = due - loop_now_ms();
	if (left > 0) {
		schedule(r, left);
		return;
	}
	char why[256];
	log_event(LOG_WARNING, r->rec.name, NULL,
	          "in doubt for more than %u h: resubmitting as configured "
	          "(in_doubt_resubmit_hours)",
	          hours);
	jobs_resolve(r->js, r->rec.name, JOBS_RESOLVE_RESUBMIT, NULL, why, sizeof(why));
}

int jobs_resolution_parse(const char *s, enum jobs_resolve_how *how, const char **video_id)
{
	*video_id = NULL;
	if (!s)
		return -1;
	if (!strcmp(s, "resubmit")) {
		*how = JOBS_RESOLVE_RESUBMIT;
		return 0;
	}
	if (!strcmp(s, "drop")) {
		*how = JOBS_RESOLVE_DROP;
		return 0;
	}
	if (!strncmp(s, "adopt:", 6) && video_id_is_safe(s + 6)) {
		*how = JOBS_RESOLVE_ADOPT;
		*video_id = s + 6;
		return 0;
	}
	return -1;
}

int jobs_resolve(struct jobs *js, const char *name, enum jobs_resolve_how how, const char *video_id,
                 char *why, size_t whylen)
{
	struct jrun *r = by_name_or_id(js, name);
	if (!r) {
		bfmt(why, whylen, "no job is named %s", name);
		return -1;
	}
	if (!waiting_in_doubt(&r->rec)) {
		bfmt(why, whylen, "job %s is not in doubt (it is %s)", r->rec.name,
		     job_state_name(r->rec.state));
		return -1;
	}
	if (how == JOBS_RESOLVE_ADOPT) {
		if (!video_id_is_safe(video_id)) {
			bfmt(why, whylen, "%s is not a video id sorad can use",
			     video_id ? video_id : "(none)");
			return -1;
		}
		if (owned_by_other(js, r, video_id)) {
			bfmt(why, whylen, "video %s belongs to another job", video_id);
			return -1;
		}
	}
	if (r->timer)
		loop_timer_disarm(r->timer);
	free(r->rec.resolution);
	r->rec.resolution = NULL;
	r->rec.next_at_ms = 0;
	r->next_mono = 0;
	switch (how) {
	case JOBS_RESOLVE_ADOPT: {
		struct video v;
		video_init(&v);
		v.id = (char *)video_id; /* borrowed: take_video copies it */
		v.status = VIDEO_QUEUED;
		clear_error(r);
		adopt(r, &v, "resolved by the user: adopting this video");
		return 0;
	}
	case JOBS_RESOLVE_RESUBMIT:
		clear_error(r);
		/* The create in doubt stays counted (unconfirmed): it may have been made. */
		r->rec.creates_allowed = r->rec.creates + 1;
		r->rec.attempts = 0;
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "resolved: a second create is allowed (create %u may also have been "
		          "made and charged)",
		          r->rec.creates);
		requeue(r);
		return 0;
	case JOBS_RESOLVE_DROP: {
		const char *story = r->rec.error ? r->rec.error : "";
		const char *para = strstr(story, "\n\n");
		char *keep = xstrdup(story);
		if (para)
			keep[para - story] = '\0';
		fail_job(r, JOBS_DOUBT "_dropped",
		         "Dropped by the user while in doubt. %s\n\nIf the service made the video, "
		         "it may still be in the provider's dashboard.",
		         keep);
		free(keep);
		return 0;
	}
	}
	bfmt(why, whylen, "unknown decision");
	return -1;
}

/* ---- polling ----------------------------------------------------------------------- */

static void on_retrieved(struct api_req *req, void *ud);
static void start_download(struct jrun *r);

static void poll_job(struct jrun *r)
{
	const struct conf *c = r->js->conf;
	if (r->rec.submit_at >= 0 &&
	    loop_now_ms() - r->submit_mono > (long long)c->job_timeout * 1000) {
		fail_job(r, "timeout",
		         "The video was not ready %u seconds after it was submitted (job_timeout), "
		         "so sorad stopped waiting. It may still finish on the service: its id is "
		         "%s. Raise job_timeout for long or busy generations.",
		         c->job_timeout, r->rec.video_id);
		return;
	}
	/* Many jobs in flight: a list call answers for many of them (refresh.h). */
	if (r->js->in_flight >= REFRESH_MIN_JOBS &&
	    refresh_due(r->js->refresh, r, r->rec.video_id, r->rec.video_created_at))
		return;
	r->req = api_retrieve(r->js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
}

static void polled(struct jrun *r, const struct video *v, long poll_after_ms);

static void on_retrieved(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	const struct conf *c = r->js->conf;
	if (res->kind != API_OK || !res->has_video) {
		r->by_callback = false; /* the next poll is its own (callback_missed) */
		if (res->kind == API_NOT_FOUND) {
			fail_from_api(r, res, "checking the video's progress");
			return;
		}
		if (res->kind == API_CONFIG)
			r->js->api_blocked = true;
		schedule(r, (long long)c->poll_max * 1000);
		return;
	}
	polled(r, &res->video, res->poll_after_ms);
}

/* A list call showed the job's video (refresh.h). */
static void on_refresh_seen(void *job, const struct video *v, long poll_after_ms, void *ud)
{
	(void)ud;
	struct jrun *r = job;
	if (!r->req && r->rec.state == JOB_RUNNING)
		polled(r, v, poll_after_ms);
}

/* A due job the list did not show: it retrieves its video itself. */
static void on_refresh_miss(void *job, void *ud)
{
	(void)ud;
	struct jrun *r = job;
	if (!r->req && r->rec.state == JOB_RUNNING && r->js->api) {
		log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
		          "not in the listed videos: retrieving it by itself");
		r->req = api_retrieve(r->js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
	}
}

/* A status word sorad does not know: the job goes on as running (job_timeout bounds
 * it), and each such word is logged once in the daemon's lifetime. */
static void odd_status(struct jrun *r, const struct video *v)
{
	struct jobs *js = r->js;
	const char *w = v->status_raw ? v->status_raw : "(unreadable)";
	for (size_t i = 0; i < js->n_odd_status; i++)
		if (!strcmp(js->odd_status[i], w))
			return;
	if (js->n_odd_status == ARRAY_LEN(js->odd_status))
		return; /* that many odd words: the first ones said enough */
	bcopy_str(js->odd_status[js->n_odd_status++], sizeof(js->odd_status[0]), w);
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "the service says status \"%s\", which sorad does not know: treating it as "
	          "still running (until job_timeout); not logged again",
	          w);
}

/*
 * The video V was just seen completed: how long its download link lives, on the
 * service's clock (the latest Date header) when sorad has it, else against the
 * video's own times (deadline.h), becomes a monotonic deadline from now; the window
 * and the wall time are recorded for a restart. The local wall clock is never
 * compared with expires_at.
 */
static void observe_expiry(struct jrun *r, const struct video *v)
{
	long long skew = 0;
	bool has = api_client_server_skew(r->js->api, &skew);
	long long server_now = has ? now_s() + skew : -1;
	long long w = deadline_window_s(v->expires_at, server_now, v->completed_at, v->created_at,
	                                DEADLINE_DEFAULT_WINDOW_S);
	r->rec.dl_window_s = w;
	r->rec.dl_seen_at = now_s();
	r->dl_deadline = loop_now_ms() + w * 1000;
	r->dl_fails = r->dl_gone = 0;
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "download link valid for %lld s from now (%s)", w,
	          v->expires_at <= 0 ? "no expires_at: the default"
	          : has              ? "expires_at on the service's clock, from its Date header"
	                             : "expires_at counted from the video's own times");
}

/* R's video V was just seen completed: what the prediction cost, into the durations
 * observed, /metrics and the debug log (pollplan.h). */
static void plan_completed(struct jrun *r, const struct video *v)
{
	struct jobs *js = r->js;
	long long service_s = v->created_at > 0 && v->completed_at >= v->created_at
	                          ? v->completed_at - v->created_at
	                          : -1;
	struct pollplan_outcome o;
	if (!pollplan_completed(&r->pp, loop_now_ms(), service_s, &o))
		return;
	char key[POLLPLAN_KEY_MAX];
	pollplan_key(key, sizeof(key), r->rec.model, r->rec.size, r->rec.seconds);
	pollplan_learn(&js->durations, key, o.duration_ms);
	pollplan_count(&js->poll_stats, &o);
	if (o.predicted)
		log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
		          "completed after about %.2f s; predicted %.2f s (error %+.2f s); seen "
		          "%.2f s after finishing (at most %.2f s)",
		          (double)o.duration_ms / 1000,
		          (double)(r->pp.predicted_ms - r->pp.start_ms) / 1000,
		          (double)o.error_ms / 1000, (double)o.detect_ms / 1000,
		          (double)(loop_now_ms() - r->pp.open_ms) / 1000);
	else
		log_event(
		    LOG_DEBUG, r->rec.name, r->rec.video_id,
		    "completed after about %.2f s; no prediction; seen %.2f s after finishing "
		    "(at most %.2f s)",
		    (double)o.duration_ms / 1000, (double)o.detect_ms / 1000,
		    (double)(loop_now_ms() - r->pp.open_ms) / 1000);
}

/* The video's latest state V, from a retrieve or a list: on to the download, the
 * failure, or the next poll. */
static void callback_missed(struct jrun *r, const struct video *v);

static void polled(struct jrun *r, const struct video *v, long poll_after_ms)
{
	const struct conf *c = r->js->conf;
	int before = r->rec.progress;
	callback_missed(r, v);
	take_video(r, v);
	if (!r->pp.start_ms) /* polling began in an earlier run: from the video's creation */
		pollplan_resume(&r->pp, loop_now_ms(),
		                r->rec.video_created_at > 0
		                    ? deadline_elapsed_ms(r->rec.video_created_at * 1000,
		                                          now_ms_real(), POLLPLAN_MAX_MS)
		                    : -1);
	switch (v->status) {
	case VIDEO_COMPLETED:
		if (r->timer) /* a list showed it finished before its own poll came due */
			loop_timer_disarm(r->timer);
		plan_completed(r, v);
		r->rec.progress = 100;
		r->have = 0;
		observe_expiry(r, v);
		set_state(r, JOB_DOWNLOADING);
		start_download(r);
		pump(r->js); /* its generation slot is free */
		return;
	case VIDEO_FAILED: {
		bool policy = api_code_is_content_policy(v->error_code);
		const char *m = v->error_message;
		if (policy)
			fail_job(r, v->error_code, "%s\n\nWhat the service said: %s",
			         api_kind_describe(API_CONTENT_POLICY), m ? m : "(no details)");
		else
			fail_job(
			    r, v->error_code ? v->error_code : "generation_failed",
			    "Video generation failed. Please try again with a different prompt."
			    "\n\nWhat the service said: %s",
			    m ? m : "(no details)");
		return;
	}
	case VIDEO_CANCELLED:
		fail_job(r, "cancelled",
		         "The service cancelled the job, so no video was made. To try again, "
		         "drop the prompt into the inbox again.\n\nWhat the service said: %s",
		         v->error_message ? v->error_message : "(no details)");
		return;
	case VIDEO_EXPIRED:
		fail_job(r, "expired",
		         "The video expired before it was downloaded: the service no longer "
		         "keeps it. To make it again, drop the prompt into the inbox again.%s%s",
		         v->error_message ? "\n\nWhat the service said: " : "",
		         v->error_message ? v->error_message : "");
		return;
	case VIDEO_UNKNOWN:
		odd_status(r, v);
		break;
	case VIDEO_QUEUED:
	case VIDEO_IN_PROGRESS:
		break;
	}
	if (r->rec.progress != before)
		notify_observers(r->js, &r->rec, r->rec.state);
	/* The seed's schedule is the cap; the wait aims at the predicted finish. */
	long long delay = r->poll_ms ? r->poll_ms * 2 : (long long)c->poll_initial * 1000;
	if (delay > (long long)c->poll_max * 1000)
		delay = (long long)c->poll_max * 1000;
	r->poll_ms = delay;
	const struct caps *caps = api_client_caps(r->js->api);
	bool progress = caps_get(caps, CAPS_PROGRESS, NULL) != CAPS_NO;
	pollplan_running(&r->pp, loop_now_ms(), progress ? v->progress : -1);
	schedule(r, callback_pace(r, pollplan_wait(&r->pp, loop_now_ms(), delay, poll_after_ms,
	                                           typical_ms(r))));
}

/* ---- downloads ---------------------------------------------------------------------- */

/*
 * A round downloads the variants not in the outbox's temp files yet, side by side.
 * Each file's bytes are checked to be a whole file of its kind (media.h) before it
 * counts: a thumbnail answered with the MP4 (LiteLLM) or a 404/400 for a variant
 * means the service cannot serve it, and once the video is here sorad makes it from
 * the MP4 with ffmpeg (derive.h), or leaves it out and NAME.json says why. The set is
 * complete when the video is here and every other variant is here or left out.
 */

static void on_downloaded(struct api_req *req, void *ud);
static void download_round_over(struct jrun *r);
static void on_parts_made(void *ud, int err);
static void on_parts_durable(void *ud, int err);

/* Failed downloads of a thumbnail or spritesheet in a row, the video being here,
 * after which the service is taken not to serve it (a gateway answering 500). */
#define JOBS_VARIANT_TRIES 3

static const enum media_kind variant_kind[3] = {MEDIA_MP4, MEDIA_WEBP, MEDIA_JPEG};

/* The video is here, and every other variant is here or left out. */
static bool outputs_settled(const struct jrun *r)
{
	return (r->have & 1u) && (r->have | r->absent) == 7;
}

/* The most bytes variant V of R's video may bring without a Content-Length
 * (download_max_mb, else JOBS_DL_AUTO_MB plus 2 bytes per pixel-second). */
static long long download_max_bytes(const struct jrun *r, int v)
{
	const struct conf *c = r->js->conf;
	if (c->download_max_mb > 0)
		return (long long)c->download_max_mb << 20;
	long long b = JOBS_DL_AUTO_MB << 20;
	const struct model_def *m = conf_model(c, r->rec.model);
	const struct model_size *ms = m ? conf_model_size(m, r->rec.size) : NULL;
	if (v == API_VARIANT_VIDEO && ms)
		b += 2LL * ms->width * ms->height * (r->rec.seconds ? r->rec.seconds : 20);
	return b;
}

/* Starts downloading variant V into its .part file; false when it cannot start (logged). */
static bool fetch_variant(struct jrun *r, int v)
{
	struct dl *d = &r->dl[v];
	char part[PATH_MAX];
	if (outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part, sizeof(part)) !=
	    0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id, "the output path is too long");
		return false;
	}
	mode_t mode = r->js->conf->outbox_mode;
	/* The commit thread made it (open_plain_file takes no directory lock then); it is
	 * emptied only if it has data (ext4 flushes a file truncated to nothing when it
	 * is closed). */
	off_t had;
	d->fd = open_plain_file(part, mode, &had);
	/* fchmod: outbox_mode, not the umask */
	if (d->fd >= 0 && ((had > 0 && ftruncate(d->fd, 0) != 0) || fchmod(d->fd, mode) != 0)) {
		int e = errno;
		close(d->fd);
		d->fd = -1;
		errno = e;
	}
	if (d->fd < 0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create %s: %s; trying again in 30 s", part, strerror(errno));
		r->dl_local = true;
		return false;
	}
	d->req = api_download(r->js->api, r->rec.video_id, (enum api_variant)v, d->fd,
	                      download_max_bytes(r, v), r->rec.name, on_downloaded, d);
	if (!d->req) {
		close(d->fd);
		d->fd = -1;
		return false;
	}
	r->fetching++;
	return true;
}

/* The capability (caps.h) of serving variant V. */
static enum caps_id variant_cap(int v)
{
	return v == API_VARIANT_THUMBNAIL ? CAPS_THUMBNAIL : CAPS_SPRITESHEET;
}

/* The service cannot serve variant V of R's video (WHY: what it answered). FOUND,
 * when not MEDIA_UNKNOWN, is the kind of file it answered with: that holds for every
 * video, and is learned (caps.h: later jobs do not ask while it holds; logged once). */
static void variant_unserved(struct jrun *r, int v, const char *why, enum media_kind found)
{
	const char *variant = api_variant_name((enum api_variant)v);
	r->unserved |= 1u << v;
	r->vfail[v] = 0;
	free(r->vwhy[v]);
	r->vwhy[v] = xasprintf("the service does not serve the %s: %s", variant, why);
	log_event(LOG_INFO, r->rec.name, r->rec.video_id,
	          "the service cannot serve the %s (%s): sorad makes it from the video", variant,
	          why);
	if (found != MEDIA_UNKNOWN)
		caps_learn(api_client_caps(r->js->api), variant_cap(v), CAPS_NO, why);
}

/* Leaves variant V out of R's set; WHY: why sorad could not make it. */
static void leave_out(struct jrun *r, int v, const char *why)
{
	const char *variant = api_variant_name((enum api_variant)v);
	char *full = xasprintf("%s; and sorad could not make it from the video: %s",
	                       r->vwhy[v] ? r->vwhy[v] : "the service did not serve it", why);
	free(r->vwhy[v]);
	r->vwhy[v] = full;
	r->absent |= 1u << v;
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "the set goes without its %s (NAME.json says why): %s", variant, full);
}

static void on_derived(bool ok, const char *why, void *ud)
{
	struct dl *d = ud;
	struct jrun *r = d->r;
	int v = (int)(d - r->dl);
	d->drv = NULL;
	r->fetching--;
	char part[PATH_MAX];
	struct stat st;
	if (ok &&
	    outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part, sizeof(part)) ==
	        0 &&
	    stat(part, &st) == 0) {
		r->have |= 1u << v;
		r->derived |= 1u << v;
		r->bytes[v] = (long long)st.st_size;
		commit_sync(r->js->commit, part);
		log_event(LOG_INFO, r->rec.name, r->rec.video_id,
		          "made the %s from the video with ffmpeg (%lld bytes)",
		          api_variant_name((enum api_variant)v), r->bytes[v]);
	} else {
		leave_out(r, v, ok ? strerror(errno) : why);
	}
	if (!r->fetching)
		download_round_over(r);
}

/* Makes the variants the service cannot serve from the downloaded MP4, side by side;
 * leaves each out (with the reason) when ffmpeg cannot. True while any is made. */
static bool derive_missing(struct jrun *r)
{
	unsigned want = r->unserved & ~r->have & ~r->absent & 6u;
	if (!want)
		return false;
	const struct conf *c = r->js->conf;
	char ffmpeg[PATH_MAX], mp4[PATH_MAX], why[PATH_MAX + 128];
	bool can = derive_find_ffmpeg(c->ffmpeg, ffmpeg, sizeof(ffmpeg), why, sizeof(why)) == 0;
	if (can && outbox_part_path(c, r->rec.name, API_VARIANT_VIDEO, mp4, sizeof(mp4)) != 0) {
		bfmt(why, sizeof(why), "the output path is too long");
		can = false;
	}
	for (int v = API_VARIANT_THUMBNAIL; v <= API_VARIANT_SPRITESHEET; v++) {
		char part[PATH_MAX];
		struct dl *d = &r->dl[v];
		if (!(want & (1u << v)))
			continue;
		if (can &&
		    outbox_part_path(c, r->rec.name, (enum api_variant)v, part, sizeof(part)) == 0)
			d->drv = derive_start(
			    r->js->loop, ffmpeg,
			    v == API_VARIANT_THUMBNAIL ? DERIVE_THUMBNAIL : DERIVE_SPRITESHEET, mp4,
			    part, r->rec.seconds, on_derived, d, why, sizeof(why));
		if (d->drv)
			r->fetching++;
		else
			leave_out(r, v, why);
	}
	return r->fetching > 0;
}

/* Downloads the variants not downloaded yet, side by side, once a download slot is
 * free (max_in_flight jobs download at once). */
static void start_download(struct jrun *r)
{
	struct jobs *js = r->js;
	if (!r->dl_round) {
		if (js->dl_active >= js->conf->max_in_flight || yield_to_creates(js)) {
			r->queued = true; /* pump starts it when a round ends or creates are out */
			return;
		}
		r->queued = false;
		r->dl_round = true;
		js->dl_active++;
	}
	r->dl_expired = r->dl_local = r->dl_gone_round = false;
	if (!r->dl_deadline) { /* a record from before the window was kept */
		long long w =
		    deadline_window_s(r->rec.video_expires_at, -1, r->rec.video_completed_at,
		                      r->rec.video_created_at, DEADLINE_DEFAULT_WINDOW_S);
		r->dl_deadline = loop_now_ms() + w * 1000;
	}
	if (mkdir_p_exact(js->conf->outbox, conf_outbox_dir_mode(js->conf)) != 0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create the outbox %s: %s; trying again in 30 s", js->conf->outbox,
		          strerror(errno));
		download_round_over(r);
		return;
	}
	/* A variant the service is known not to serve (configured, learned from other
	 * videos, or the api_profile's) is made from the video without asking. */
	const struct caps *caps = api_client_caps(js->api);
	for (int v = API_VARIANT_THUMBNAIL; v <= API_VARIANT_SPRITESHEET; v++) {
		char known[300];
		if (((r->have | r->absent | r->unserved) & (1u << v)) ||
		    caps_has(caps, variant_cap(v)))
			continue;
		caps_explain(caps, variant_cap(v), known, sizeof(known));
		r->unserved |= 1u << v;
		free(r->vwhy[v]);
		r->vwhy[v] = xasprintf("the service does not serve the %s (%s)",
		                       api_variant_name((enum api_variant)v), known);
	}
	/* The .part files are made by the commit thread (creating a file can cost the
	 * loop a millisecond), then filled here. */
	for (int v = 0; v < 3; v++) {
		char part[PATH_MAX];
		if (!((r->have | r->absent) & (1u << v)) &&
		    outbox_part_path(js->conf, r->rec.name, (enum api_variant)v, part,
		                     sizeof(part)) == 0)
			commit_create(js->commit, part, js->conf->outbox_mode);
	}
	after_commit(r, on_parts_made);
}

/* The .part files exist: the downloads go. */
static void on_parts_made(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (!r->dl_round || !r->js->api) { /* suspended meanwhile: advance starts again */
		if (r->js->api)
			schedule(r, 0);
		return;
	}
	if (err) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create the download files in %s: %s; trying again in 30 s",
		          r->js->conf->outbox, strerror(err));
		r->dl_local = true;
	} else {
		for (int v = 0; v < 3; v++)
			if (!((r->have | r->absent | r->unserved) & (1u << v)))
				fetch_variant(r, v);
	}
	if (!r->fetching)
		download_round_over(r);
}

/* After a failed round: poll_max s, doubling up to JOBS_DL_RETRY_MAX_S; after a
 * local failure JOBS_DL_LOCAL_RETRY_S. */
static long long download_retry_ms(const struct jrun *r)
{
	if (r->dl_local || !r->dl_fails)
		return JOBS_DL_LOCAL_RETRY_S * 1000LL;
	long long d = (long long)r->js->conf->poll_max * 1000;
	for (unsigned i = 1; i < r->dl_fails && d < JOBS_DL_RETRY_MAX_S * 1000LL; i++)
		d *= 2;
	return d < JOBS_DL_RETRY_MAX_S * 1000LL ? d : JOBS_DL_RETRY_MAX_S * 1000LL;
}

/*
 * A round ended without the set: whether the job gives up, with a plain reason (true:
 * it failed). Every kind of failure is bounded: the service saying it has no such
 * video (404/410) JOBS_DL_GONE_TRIES times, the link's lifetime passed (measured on
 * this machine's monotonic clock from when sorad saw the video completed), or
 * JOBS_DL_ROUNDS rounds failed in a row.
 */
static bool download_given_up(struct jrun *r)
{
	if (r->have & 1u) /* the video is here: only the others are missing (vfail bounds) */
		return false;
	if (!r->dl_local) {
		r->dl_fails++;
		r->dl_gone = r->dl_gone_round ? r->dl_gone + 1 : 0;
	}
	const char *last = r->dl_why ? r->dl_why : "no details";
	if (r->dl_gone >= JOBS_DL_GONE_TRIES) {
		fail_job(r, "gone",
		         "The service no longer has this video (%s, %u downloads in a row): it may "
		         "have expired or been deleted there. Drop the prompt again to make it "
		         "anew.",
		         last, r->dl_gone);
		return true;
	}
	if (r->dl_expired || (r->dl_deadline && loop_now_ms() >= r->dl_deadline)) {
		fail_job(r, "expired",
		         "The finished video could not be downloaded before its download link "
		         "expired (the service keeps finished videos for about an hour; sorad "
		         "counts that time from when it saw the video finish). Last failure: %s. "
		         "Drop the prompt again to make it anew.",
		         last);
		return true;
	}
	if (r->dl_fails >= JOBS_DL_ROUNDS) {
		fail_job(r, "download_failed",
		         "The finished video could not be downloaded: %u attempts in a row failed "
		         "(last: %s). Drop the prompt again to make it anew, or check the "
		         "network path to the service.",
		         r->dl_fails, last);
		return true;
	}
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "download round %u of %u failed (%s); trying again in %lld s", r->dl_fails,
	          JOBS_DL_ROUNDS, last, download_retry_ms(r) / 1000);
	return false;
}

/* Every download of the round has ended: on to the variants to make, the outputs, a
 * failure, or a retry. */
static void download_round_over(struct jrun *r)
{
	if ((r->have & 1u) && !r->dl_local && derive_missing(r))
		return; /* ffmpeg runs in this round's slot; on_derived ends the round */
	if (r->dl_round) {
		r->dl_round = false;
		r->js->dl_active--;
	}
	if (outputs_settled(r)) {
		/* The files' data are durable before any of them gets its final name. */
		after_commit(r, on_parts_durable);
	} else if (!download_given_up(r)) {
		/* A local failure (a full disk) frees what this round wrote; the next round
		 * fetches everything. After a network failure, finished parts are kept. */
		if (r->dl_local)
			close_download(r, DL_DROP_ALL);
		schedule(r, download_retry_ms(r));
	}
	pump(r->js);
}

static void on_outputs_durable(void *ud, int err);

/* Renames every part into place (a variant left out has none, nor an old file under
 * its name), then writes NAME.json last: the set is complete. */
static void finish_outputs(struct jrun *r)
{
	const struct conf *c = r->js->conf;
	struct outbox_file files[3];
	char owner[PATH_MAX];
	claim_of(&r->rec, owner, sizeof(owner));
	for (int v = 0; v < 3; v++) {
		char part[PATH_MAX], final[PATH_MAX];
		bool out = (r->absent & (1u << v)) != 0;
		files[v].origin = out                        ? OUTBOX_MISSING
		                  : (r->derived & (1u << v)) ? OUTBOX_DERIVED
		                                             : OUTBOX_FROM_SERVICE;
		files[v].bytes = r->bytes[v];
		files[v].missing = r->vwhy[v];
		if (outbox_part_path(c, r->rec.name, (enum api_variant)v, part, sizeof(part)) !=
		        0 ||
		    outbox_final_path(c, r->rec.name, (enum api_variant)v, final, sizeof(final)) !=
		        0 ||
		    (out ? (unlink(part) != 0 && errno != ENOENT) ||
		               outbox_place(c, r->rec.name, owner, NULL, final) != 0
		         : outbox_place(c, r->rec.name, owner, part, final) != 0)) {
			if (errno == EEXIST) {
				/* Never overwrite what another writer put there; keep what was
				 * paid for, and try again until the place is free. */
				log_event(
				    LOG_ERROR, r->rec.name, r->rec.video_id,
				    "%s exists and is not this job's (another sorad sharing "
				    "the outbox, or a person, put it there): not overwriting it; "
				    "move it away and this job's file takes its place (the "
				    "download is kept; trying again every 30 s)",
				    final);
				schedule(r, 30000);
				return;
			}
			log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
			          "cannot %s %s: %s; downloading again in 30 s",
			          out ? "clear the place of the missing" : "move into place",
			          outbox_suffix((enum api_variant)v), strerror(errno));
			forget_outputs(r);
			schedule(r, 30000);
			return;
		}
	}
	r->rec.finished_at = now_s();
	/* The renames are durable before NAME.json appears (commit.h orders them). */
	if (commit_sync(r->js->commit, c->outbox) != 0 ||
	    outbox_write_metadata(c, &r->rec, files, r->js->commit) != 0) {
		schedule(r, 30000);
		return;
	}
	after_commit(r, on_outputs_durable);
}

/* NAME.json is durable: the set is complete, and so is the job. */
static void on_outputs_durable(void *ud, int err)
{
	struct jrun *r = ud;
	const struct conf *c = r->js->conf;
	r->committing = false;
	if (err) { /* logged by the commit; advance sees what is in the outbox */
		schedule(r, 30000);
		return;
	}
	log_event(LOG_INFO, r->rec.name, r->rec.video_id, "done: %s/%s.mp4 (%lld bytes)", c->outbox,
	          r->rec.name, r->bytes[0]);
	set_state(r, JOB_DONE);
	after_record(r, on_final_durable);
	wake_dependants(r); /* they can go now */
	pump(r->js);
}

static void finish_outputs(struct jrun *r);

/* The downloaded files are durable (or not: download them again). */
static void on_parts_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot write the downloads to %s: %s; downloading again in 30 s",
		          r->js->conf->outbox, strerror(err));
		forget_outputs(r);
		schedule(r, 30000);
		return;
	}
	finish_outputs(r);
}

/*
 * A downloaded file whose bytes are not a whole file of its kind (WHY, FOUND): a
 * resumed one is fetched again whole at once, and the service asked for no more
 * ranges; another kind for a thumbnail or spritesheet means the service cannot serve
 * it; anything else is tried again with the next round. True when it is fetched again.
 */
static bool download_unusable(struct jrun *r, int v, const struct api_result *res,
                              enum media_verdict mv, enum media_kind found, const char *why)
{
	const char *variant = api_variant_name((enum api_variant)v);
	if (res->resumes > 0) { /* the next attempt asks for no range: no loop */
		api_client_forget_ranges(r->js->api, r->rec.name, why);
		log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
		          "the resumed download of the %s is unusable (%s): downloading it again "
		          "whole",
		          variant, why);
		return fetch_variant(r, v);
	}
	if (mv == MEDIA_WRONG_KIND && v != API_VARIANT_VIDEO) {
		variant_unserved(r, v, why, found);
		return false;
	}
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id, "the downloaded %s is unusable (%s)",
	          variant, why);
	return false;
}

static void on_downloaded(struct api_req *req, void *ud)
{
	struct dl *d = ud;
	struct jrun *r = d->r;
	int v = (int)(d - r->dl);
	struct api_result *res = api_req_result(req);
	d->req = NULL;
	r->fetching--;
	close(d->fd);
	d->fd = -1;
	char part[PATH_MAX];
	bool have_part = outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part,
	                                  sizeof(part)) == 0;
	enum media_kind found = MEDIA_UNKNOWN;
	enum media_verdict mv = MEDIA_OK;
	char why[PATH_MAX + 64] = "";
	if (res->kind == API_OK && have_part) /* never by its name: by its bytes */
		mv = media_check_file(part, variant_kind[v], &found, why, sizeof(why));
	const char *variant = api_variant_name((enum api_variant)v);
	/* The link's lifetime, on this machine's monotonic clock (observe_expiry). */
	bool gone = r->dl_deadline && loop_now_ms() >= r->dl_deadline;
	if (v == API_VARIANT_VIDEO && (res->kind != API_OK || mv != MEDIA_OK)) {
		char st[48] = "";
		if (res->http_status >= 300)
			bfmt(st, sizeof(st), "HTTP %ld%s: ", res->http_status,
			     res->http_status == 410   ? " Gone"
			     : res->http_status == 404 ? " Not Found"
			                               : "");
		free(r->dl_why);
		r->dl_why = xasprintf("%s %s%s", variant, st,
		                      res->kind != API_OK && res->error.message ? res->error.message
		                      : res->kind != API_OK ? api_kind_name(res->kind)
		                                            : why);
	}
	if (res->kind == API_OK && mv == MEDIA_OK) {
		r->bytes[v] = res->bytes;
		r->have |= 1u << v;
		r->vfail[v] = 0;
		if (v != API_VARIANT_VIDEO)
			caps_learn(api_client_caps(r->js->api), variant_cap(v), CAPS_YES, NULL);
		if (have_part)
			commit_sync(r->js->commit, part);
	} else if (res->kind == API_OK) {
		if (download_unusable(r, v, res, mv, found, why))
			return; /* fetched again into the same part */
		if (have_part)
			unlink(part);
	} else {
		if (have_part)
			unlink(part);
		if ((r->dl_local = res->kind == API_LOCAL))
			log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
			          "cannot write the %s to %s (%s); trying again in 30 s while the "
			          "download link is valid",
			          variant, r->js->conf->outbox,
			          res->error.message ? res->error.message : "");
		else if (v != API_VARIANT_VIDEO &&
		         (res->kind == API_NOT_FOUND || res->kind == API_VALIDATION || gone ||
		          ++r->vfail[v] >= JOBS_VARIANT_TRIES))
			variant_unserved(r, v,
			                 res->error.message ? res->error.message
			                                    : api_kind_name(res->kind),
			                 MEDIA_UNKNOWN);
		else if (gone)
			r->dl_expired = true;
		else if (res->kind == API_NOT_FOUND)
			r->dl_gone_round = true; /* a few such rounds: "no longer has it" */
		else
			log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
			          "downloading the %s failed (%s)", variant,
			          api_kind_name(res->kind));
	}
	if (!r->fetching)
		download_round_over(r);
}

/* ---- the scheduler ----------------------------------------------------------------- */

/* True when a prompt file named NAME.txt|json|jsonl waits in the inbox. */
static bool source_in_inbox(const struct jobs *js, const char *name)
{
	static const char *const exts[] = {"txt", "json", "jsonl", "TXT", "JSON", "JSONL"};
	for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
		char path[PATH_MAX];
		if (bfmt(path, sizeof(path), "%s/%s.%s", js->conf->inbox, name, exts[i]) == 0 &&
		    access(path, F_OK) == 0)
			return true;
	}
	return false;
}

/* The first line of S, at most 200 bytes, into buf[n]. */
static void first_line(const char *s, char *buf, size_t n)
{
	size_t len = strcspn(s ? s : "", "\n");
	bfmt(buf, n, "%.*s", (int)(len > 200 ? 200 : len), s ? s : "");
}

/* R's source job SRC failed: so does R, before anything was sent for it. */
static void fail_dependant(struct jrun *r, const struct jrun *src)
{
	char why[256];
	first_line(src->rec.error, why, sizeof(why));
	if (r->rec.extend_of)
		fail_job(r, "extend_source_failed",
		         "The video it extends failed: job \"%s\": %s\n\nNothing was sent for "
		         "this job and nothing was spent. Fix that job first, then drop this one "
		         "again.",
		         src->rec.name, why);
	else
		fail_job(r, "remix_source_failed",
		         "This remix waited for the job \"%s\", which failed, so there is no "
		         "video to remix. Fix that job first, then drop this one again.",
		         src->rec.name);
}

/*
 * Resolves the job's source (remix_of or extend_of): a job of that name, waited for
 * until it is done, or else a video id. The source's id is recorded in remix_video_id
 * or extend_job_id, and goes with the create's intent. 0 go, 1 wait, -1 failed.
 */
static int resolve_source(struct jrun *r)
{
	const char *want = source_of(&r->rec);
	char **id = r->rec.remix_of ? &r->rec.remix_video_id : &r->rec.extend_job_id;
	if (!want || *id)
		return 0;
	struct jrun *src = by_name(r->js, want);
	if (src && src != r) {
		if (src->rec.state == JOB_FAILED) {
			fail_dependant(r, src);
			return -1;
		}
		if (src->rec.state != JOB_DONE || !src->rec.video_id)
			return 1;
		/* A continuation runs on its source's model (OpenRouter refuses another):
		 * said here, before anything is spent. */
		if (r->rec.extend_of && src->rec.model && r->rec.model &&
		    strcmp(src->rec.model, r->rec.model) != 0) {
			fail_job(
			    r, "extend_model",
			    "An extension runs on the model of the video it extends: job \"%s\" "
			    "was made by %s, and this job asks for %s. Nothing was sent and "
			    "nothing was spent.\n\nSet 'model: %s' (a storyboard's line without a "
			    "model takes the model of the line it extends), then drop it again.",
			    src->rec.name, src->rec.model, r->rec.model, src->rec.model);
			return -1;
		}
		*id = xstrdup(src->rec.video_id);
		return 0;
	}
	if (source_in_inbox(r->js, want))
		return 1; /* dropped together: its source is still settling in the inbox */
	if (!video_id_is_safe(want)) {
		fail_job(r, r->rec.extend_of ? "extend_source_unknown" : "remix_source_unknown",
		         "%s \"%s\" is neither the name of a job sorad knows nor a video id.",
		         r->rec.extend_of ? "extend_of" : "remix_of", want);
		return -1;
	}
	*id = xstrdup(want);
	return 0;
}

/* Decides and starts the next step of job R from its recorded state. */
static void advance(struct jrun *r)
{
	struct jobs *js = r->js;
	if (r->req || r->fetching || r->committing || !js->api)
		return; /* a request is in flight or a commit is awaited (their callbacks
		         * continue), or suspended */
	/* A held job's error is the reason it waits (jobs.h), not a failure. */
	if (r->rec.error && r->rec.state != JOB_HELD && !waiting_in_doubt(&r->rec) &&
	    !job_state_is_final(r->rec.state)) {
		finish_failure(r);
		return;
	}
	switch (r->rec.state) {
	case JOB_CLAIMED:
	case JOB_WAITING: {
		int rr = resolve_source(r);
		if (rr < 0)
			return;
		if (rr > 0) {
			if (r->rec.state != JOB_WAITING)
				set_state(r, JOB_WAITING);
			return;
		}
		if (r->rec.state == JOB_WAITING)
			set_state(r, JOB_CLAIMED);
		long long wait = r->next_mono ? r->next_mono - loop_now_ms() : 0;
		if (wait > 0) {
			schedule(r, wait);
			return;
		}
		if (js->api_blocked || js->in_flight >= js->conf->max_in_flight) {
			r->queued = true;
			return;
		}
		r->queued = false;
		char why[512];
		if (js->gate && js->gate(&r->rec, why, sizeof(why), js->gate_ud) != 0) {
			hold_job(r, JOBS_HOLD_CAP, why);
			return;
		}
		submit(r);
		return;
	}
	case JOB_SUBMITTING:
		reconcile(r);
		return;
	case JOB_RUNNING:
		if (js->api_blocked) {
			schedule(r, (long long)js->conf->poll_max * 1000);
			return;
		}
		poll_job(r);
		return;
	case JOB_DOWNLOADING:
		if (outbox_is_complete(js->conf, r->rec.name)) {
			/* The set was complete when the last run stopped; only the record lagged.
			 */
			r->rec.finished_at = now_s();
			set_state(r, JOB_DONE);
			after_record(r, on_final_durable);
			return;
		}
		start_download(r);
		return;
	case JOB_IN_DOUBT: /* waits for the user (jobs_resolve), or the configured hours */
		auto_resubmit(r);
		return;
	case JOB_HELD:
	case JOB_DONE:
	case JOB_FAILED:
		return;
	}
}

/* Starts queued jobs while there are free slots (submissions and downloads have
 * their own), oldest claim first. */
static void pump(struct jobs *js)
{
	if (!js->api)
		return;
	size_t max = js->conf->max_in_flight;
	for (size_t i = 0; i < js->n; i++) {
		bool submit_room = js->in_flight < max && !js->api_blocked;
		bool download_room = js->dl_active < max && !yield_to_creates(js);
		if (!submit_room && !download_room)
			return;
		struct jrun *r = js->v[i];
		if (!r->queued || r->req || r->committing)
			continue;
		if ((r->rec.state == JOB_CLAIMED && submit_room) ||
		    (r->rec.state == JOB_DOWNLOADING && download_room)) {
			r->queued = false;
			advance(r);
		}
	}
}

static void free_run(struct jrun *r)
{
	commit_cancel(r->js->commit, r);
	commit_cancel(r->js->intents, r);
	refresh_untrack(r->js->refresh, r, r->rec.video_id);
	if (r->req)
		api_req_cancel(r->req);
	close_download(r, DL_KEEP);
	forget_outputs(r);
	loop_timer_free(r->timer);
	free(r->list_after);
	free(r->dl_why);
	job_release(&r->rec);
	free(r);
}

/* ---- claiming -------------------------------------------------------------------- */

/* A name for SPEC's job that no job, output or failure report uses yet. */
static char *unique_name(const struct jobs *js, const char *want, const char *owner)
{
	char buf[PROMPT_NAME_MAX + 16];
	bcopy_str(buf, sizeof(buf), want);
	/* Reserved on disk (outbox.h), so that a daemon sharing the outbox takes another. */
	for (unsigned n = 2; by_name(js, buf) || outbox_name_taken(js->conf, buf) ||
	                     outbox_reserve(js->conf, buf, owner) == 1;
	     n++)
		prompt_name_suffixed(buf, sizeof(buf), want, n);
	return xstrdup(buf);
}

/* Turns a claim's specs into job records, then marks the claim recorded. */
/* A new record for spec S of claim CL, named NAME (taken). */
static void job_from_spec(const struct jobs *js, const struct claim *cl, const struct job_spec *s,
                          char *name, struct job *j)
{
	job_init(j);
	j->name = name;
	j->state = JOB_CLAIMED;
	j->source = xasprintf("%s/%s", cl->id, cl->file);
	j->line = s->line;
	j->claim_jobs = (unsigned)cl->pf.n;
	j->prompt = xstrdup(s->prompt ? s->prompt : "");
	j->model = xstrdup(s->model);
	j->size = xstrdup(s->size);
	j->seconds = s->seconds;
	j->reference = s->reference ? xstrdup(s->reference) : NULL;
	j->remix_of = s->remix_of ? xstrdup(s->remix_of) : NULL;
	j->extend_of = s->extend_of ? xstrdup(s->extend_of) : NULL;
	j->last_frame = s->last_frame ? xstrdup(s->last_frame) : NULL;
	j->has_seed = s->has_seed;
	j->seed = s->seed;
	j->audio = s->audio;
	j->options = s->options ? xstrdup(s->options) : NULL;
	j->claimed_at = now_s();
	double cost = conf_estimate_cost(js->conf, j->model, j->size, j->seconds);
	if (cost < 0) /* a model the table lacks: the catalog's price (catalog.h) */
		cost = catalog_estimate_cost(catalog_current(), j->model, j->size, j->seconds);
	j->cost_usd = cost > 0 ? cost : 0;
}

/*
 * A job asking for what a job done or in flight (not failed) claimed within
 * duplicate_window_days asked for is a delivery again (dupes.h): its error in
 * plain words into J, unless the file says `again: true` or duplicate_policy = allow.
 */
static void check_duplicate(struct jobs *js, const struct claim *cl, const struct job_spec *s,
                            struct job *j)
{
	char ref[PATH_MAX] = "", key[DUPES_KEY_LEN + 1];
	if (s->reference)
		inbox_claim_path(js->conf, cl->id, s->reference, ref, sizeof(ref));
	dupes_key(j, ref[0] ? ref : NULL, key);
	j->dup_key = xstrdup(key);
	const struct conf *c = js->conf;
	long long at = 0;
	const char *prev = dupes_get(js->dupes, key, &at);
	const struct jrun *o = prev ? by_name(js, prev) : NULL;
	if (s->again || !c->duplicate_skip || !c->duplicate_window_days || !o ||
	    o->rec.state == JOB_FAILED ||
	    now_s() - at > (long long)c->duplicate_window_days * 86400)
		return;
	char when[64] = "?";
	time_t t = (time_t)at;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	char made[PATH_MAX + 64];
	if (o->rec.state == JOB_DONE)
		bfmt(made, sizeof(made), "Already made as %s on %s (%s/%s.mp4)", o->rec.name, when,
		     c->outbox, o->rec.name);
	else
		bfmt(made, sizeof(made), "Already being made as %s (claimed %s, now %s)",
		     o->rec.name, when, job_state_name(o->rec.state));
	j->error = xasprintf("%s: the same prompt and parameters, delivered again (a sync tool's "
	                     "copy?). Nothing was submitted and nothing was spent.\n\nTo make it "
	                     "once more, drop it again with 'again: true' in its front matter "
	                     "(\"again\": true in JSON), or set duplicate_policy = \"allow\".",
	                     made);
	j->error_code = xstrdup("duplicate");
}

/*
 * A job whose source (remix_of, extend_of) is an earlier job of the same file, a
 * storyboard's line before it, names that job as it was named when it was claimed:
 * "shot" may have become "shot-2" (unique_name), and an older "shot" is not meant.
 * The nearest earlier job of that spec name wins.
 */
static void link_in_claim(const struct claim *cl, struct jrun *const *made, size_t i, struct job *j)
{
	char **ref = j->remix_of ? &j->remix_of : j->extend_of ? &j->extend_of : NULL;
	for (size_t k = i; ref && k-- > 0;) {
		if (strcmp(cl->pf.jobs[k].name, *ref) != 0)
			continue;
		if (strcmp(made[k]->rec.name, *ref) != 0) {
			free(*ref);
			*ref = xstrdup(made[k]->rec.name);
		}
		return;
	}
}

static void record_claim(struct jobs *js, struct claim *cl, struct commit *cm)
{
	struct jrun **made = xcalloc(cl->pf.n, sizeof(*made));
	for (size_t i = 0; i < cl->pf.n; i++) {
		struct job_spec *s = &cl->pf.jobs[i];
		struct job j;
		job_from_spec(js, cl, s, unique_name(js, s->name, cl->id), &j);
		link_in_claim(cl, made, i, &j);
		if (s->error) { /* saved with the record: never submitted, even after a crash */
			char *e = xstrdup(s->error);
			if (e[0] >= 'a' && e[0] <= 'z' && strncmp(e, "sorad ", 6) != 0)
				e[0] = (char)(e[0] - 'a' + 'A');
			j.error =
			    xasprintf("%s.\n\nNothing was submitted and nothing was spent. Fix "
			              "the file and drop it into the inbox again.",
			              e);
			j.error_code = xstrdup("invalid_input");
			free(e);
		} else {
			check_duplicate(js, cl, s, &j);
		}
		made[i] = add_job(js, &j);
		if (store_stage(cm, js->conf->state_dir, &made[i]->rec) != 0) {
			log_event(
			    LOG_ERROR, made[i]->rec.name, NULL,
			    "cannot record the job; it will be claimed again at the next start");
		}
		log_event(LOG_INFO, made[i]->rec.name, NULL, "claimed %s%s%.0u from the inbox",
		          cl->file, s->line ? " line " : "", s->line);
	}
	/* One dropped file whose estimated cost exceeds approve_over_usd waits for
	 * `sorad approve`; the hold is recorded before the claim counts as complete. */
	double total = 0;
	for (size_t i = 0; i < cl->pf.n; i++)
		if (!made[i]->rec.error_code) /* not invalid, not a duplicate */
			total += made[i]->rec.cost_usd;
	bool need_approval = js->conf->approve_over_usd > 0 && total > js->conf->approve_over_usd;
	if (need_approval) {
		char stem[PROMPT_NAME_MAX + 1];
		bcopy_str(stem, sizeof(stem), cl->file);
		char *dot = strrchr(stem, '.');
		if (dot && dot != stem)
			*dot = '\0';
		char why[512];
		bfmt(why, sizeof(why),
		     "%s would cost about $%.2f, more than approve_over_usd ($%.2f): run "
		     "\"sorad approve %s\" to submit it",
		     cl->file, total, js->conf->approve_over_usd, stem);
		for (size_t i = 0; i < cl->pf.n; i++) {
			if (made[i]->rec.error_code)
				continue;
			struct jrun *r = made[i];
			free(r->rec.error);
			r->rec.error = xstrdup(why);
			r->rec.error_code = xstrdup(JOBS_HOLD_APPROVAL);
			r->rec.state = JOB_HELD;
			if (store_stage(cm, js->conf->state_dir, &r->rec) != 0)
				log_event(LOG_ERROR, r->rec.name, NULL, "cannot record the hold");
			log_event(LOG_WARNING, r->rec.name, NULL, "held: %s", why);
		}
	}
	/* The claim is complete once all its records are durable (each says how many
	 * there are); nothing of it is submitted before that (commits are in order). */
	/* Remixes that were waiting for a source still in the inbox look again. */
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *w = js->v[i];
		if (w->rec.state == JOB_WAITING && !w->req)
			schedule(w, 0);
	}
	for (size_t i = 0; i < cl->pf.n; i++) {
		struct jrun *r = made[i];
		notify_observers(js, &r->rec, r->rec.state);
		if (r->rec.error && r->rec.state != JOB_HELD)
			log_event(LOG_WARNING, r->rec.name, NULL, "failed: %s", r->rec.error);
		advance(r); /* a spec with an error goes straight to failed/ */
	}
	free(made);
}

static void claim_now(struct jobs *js, const char *name)
{
	/* A claim whose jobs can be submitted at once goes through the intent commit:
	 * its records are their intents (commit.h orders the claim's syncs before
	 * them), and need not wait behind a batch of downloads. */
	bool room = !js->api_blocked && js->in_flight + js->claimed < js->conf->max_in_flight;
	struct commit *cm = js->intents && room ? js->intents : js->commit;
	struct claim cl;
	char why[512];
	int rc = inbox_claim(js->conf, name, &cl, cm, why, sizeof(why));
	if (rc < 0) { /* a local error: tried again on a timer until it works */
		claimretry_failed(js->retry, name, why);
		return;
	}
	claimretry_done(js->retry, name, rc == 0);
	if (rc != 0)
		return; /* vanished: someone else took it */
	record_claim(js, &cl, cm);
	inbox_claim_processed(js->conf, cl.id); /* read and recorded: not a crash loop */
	claim_release(&cl);
	inbox_spares_fill(js->conf, js->commit);
}

/* Claims the next few queued names; the rest wait for the next loop iteration, so
 * that a large drop is committed and submitted in chunks while it is being claimed. */
static void on_claim_timer(void *ud)
{
	struct jobs *js = ud;
	for (size_t k = 0; k < JOBS_CLAIMS_PER_TURN && js->claimq.head < js->claimq.n; k++) {
		if (js->claimed >= JOBS_CLAIMS_PER_TURN && yield_to_creates(js))
			return; /* on_yield_timer goes on */
		char *name = js->claimq.v[js->claimq.head++];
		claim_now(js, name);
		free(name);
	}
	if (js->claimq.head < js->claimq.n)
		loop_timer_arm(js->claimq.timer, 0);
	else
		js->claimq.head = js->claimq.n = 0;
}

void jobs_claim(struct jobs *js, const char *name)
{
	if (js->claimq.n == js->claimq.cap) {
		if (js->claimq.head > 0) { /* reuse the consumed front */
			memmove(js->claimq.v, js->claimq.v + js->claimq.head,
			        (js->claimq.n - js->claimq.head) * sizeof(*js->claimq.v));
			js->claimq.n -= js->claimq.head;
			js->claimq.head = 0;
		} else {
			js->claimq.cap = js->claimq.cap ? js->claimq.cap * 2 : 64;
			js->claimq.v =
			    xrealloc(js->claimq.v, js->claimq.cap * sizeof(*js->claimq.v));
		}
	}
	js->claimq.v[js->claimq.n++] = xstrdup(name);
	if (!js->claimq.timer)
		js->claimq.timer = loop_timer_new(js->loop, on_claim_timer, js);
	if (!loop_timer_armed(js->claimq.timer))
		loop_timer_arm(js->claimq.timer, 0);
}

/* A name whose claim failed is due for another try: it joins the queue. */
static void on_claim_retry(const char *name, void *ud)
{
	jobs_claim(ud, name);
}

/* ---- lifetime ------------------------------------------------------------------- */

/* What gave way to creates may go now (yield_to_creates). */
static void on_yield_timer(void *ud)
{
	struct jobs *js = ud;
	pump(js);
	if (js->claimq.head < js->claimq.n && !loop_timer_armed(js->claimq.timer))
		loop_timer_arm(js->claimq.timer, 0);
}

/* Whether C's creates carry a callback_url (proto_openrouter.c) to a listener of
 * sorad's: then callbacks are expected from the first job on (jobs.h). */
static bool callbacks_expected(const struct conf *c)
{
	return c && c->callback_url && c->callback_listen;
}

static void expect_callbacks(struct jobs *js)
{
	js->callbacks_live = true;
	log_info("callbacks: each create carries callback_url, so running jobs are polled "
	         "every %d s at most, as the fallback, until a poll finds a video ended that no "
	         "callback announced",
	         JOBS_CALLBACK_POLL_S);
}

struct jobs *jobs_new(struct loop *l, struct api_client *api, const struct conf *c,
                      struct commit *cm)
{
	struct jobs *js = xcalloc(1, sizeof(*js));
	js->commit = cm;
	js->loop = l;
	js->api = api;
	js->conf = c;
	js->refresh = refresh_new(l, api, on_refresh_seen, on_refresh_miss, js);
	js->dupes = dupes_new();
	js->yield_timer = loop_timer_new(l, on_yield_timer, js);
	js->retry = claimretry_new(l, on_claim_retry, js);
	if (callbacks_expected(c))
		expect_callbacks(js);
	return js;
}

void jobs_set_intent_commit(struct jobs *js, struct commit *cm)
{
	js->intents = cm;
}

int jobs_observe(struct jobs *js, jobs_change_fn *fn, void *ud)
{
	if (js->n_observers == JOBS_MAX_OBSERVERS)
		return -1;
	js->observers[js->n_observers].fn = fn;
	js->observers[js->n_observers].ud = ud;
	js->n_observers++;
	return 0;
}

void jobs_free(struct jobs *js)
{
	if (!js)
		return;
	deletes_abandon(js);
	refresh_free(js->refresh);
	js->refresh = NULL;
	dupes_free(js->dupes);
	js->dupes = NULL;
	for (size_t i = js->claimq.head; i < js->claimq.n; i++)
		free(js->claimq.v[i]); /* still in the inbox: claimed at the next start */
	free(js->claimq.v);
	loop_timer_free(js->claimq.timer);
	loop_timer_free(js->yield_timer);
	claimretry_free(js->retry); /* still in the inbox: claimed at the next start */
	inbox_spares_clear();
	for (size_t i = 0; i < js->n; i++)
		free_run(js->v[i]);
	free(js->v);
	free(js->ht);
	free(js);
}

static void loaded(struct job *j, void *ud)
{
	struct jobs *js = ud;
	if (by_name(js, j->name)) {
		log_event(LOG_ERROR, j->name, j->video_id, "store: duplicate record ignored");
		job_release(j);
		return;
	}
	eta_add(&js->eta, j);
	if (j->state == JOB_DONE && j->video_created_at > 0 &&
	    j->video_completed_at >= j->video_created_at) {
		char key[POLLPLAN_KEY_MAX];
		pollplan_key(key, sizeof(key), j->model, j->size, j->seconds);
		pollplan_learn(&js->durations, key,
		               (j->video_completed_at - j->video_created_at) * 1000);
	}
	add_job(js, j);
}

static int by_claim_time(const void *a, const void *b)
{
	const struct jrun *x = *(struct jrun *const *)a, *y = *(struct jrun *const *)b;
	if (x->rec.claimed_at != y->rec.claimed_at)
		return x->rec.claimed_at < y->rec.claimed_at ? -1 : 1;
	return strcmp(x->rec.name, y->rec.name);
}

/* Names of records found unreadable, now or at an earlier start (STATE/corrupt/). */
struct lost_names {
	char **v;
	size_t n, cap;
};

static void lost_add(const char *name, void *ud)
{
	struct lost_names *l = ud;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(name);
}

static void lost_free(struct lost_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* LOST names a record of spec name WANT: WANT itself, or WANT-N (unique_name). */
static const char *lost_match(const struct lost_names *l, const char *want)
{
	size_t wl = strlen(want);
	for (size_t i = 0; i < l->n; i++) {
		const char *n = l->v[i];
		if (!strcmp(n, want))
			return n;
		if (!strncmp(n, want, wl) && n[wl] == '-' && n[wl + 1] &&
		    strspn(n + wl + 1, "0123456789") == strlen(n + wl + 1))
			return n;
	}
	return NULL;
}

/* Whether a loaded record of claim ID is line LINE's. */
static bool claim_line_recorded(const struct jobs *js, const char *id, unsigned line)
{
	for (size_t i = 0; i < js->n; i++) {
		char c[128];
		claim_of(&js->v[i]->rec, c, sizeof(c));
		if (!strcmp(c, id) && js->v[i]->rec.line == line)
			return true;
	}
	return false;
}

/*
 * The jobs of claim CL whose records were durable once but cannot be read now: each
 * may have sent a create, so none is processed again as new work. Each comes back in
 * doubt, with its input kept in the claim, for the user to decide. Returns how many.
 */
static size_t restore_lost(struct jobs *js, const struct claim *cl, const struct lost_names *lost)
{
	size_t n = 0;
	for (size_t i = 0; i < cl->pf.n; i++) {
		const struct job_spec *s = &cl->pf.jobs[i];
		if (claim_line_recorded(js, cl->id, s->line))
			continue;
		const char *was = lost_match(lost, s->name);
		char help[1024];
		char *name =
		    was && !by_name(js, was) ? xstrdup(was) : unique_name(js, s->name, cl->id);
		struct job j;
		job_from_spec(js, cl, s, name, &j);
		j.state = JOB_IN_DOUBT;
		j.creates = j.creates_allowed = 1;
		j.next_at_ms = now_ms_real();
		j.error = xasprintf(
		    "This job's record in the state directory could not be read%s%s%s (it was "
		    "moved to %s/corrupt/). It may have sent its create already, so it is not "
		    "sent again on a guess: the service may have made this video (and charged "
		    "for it).\n\n%s",
		    was ? " (" : "", was ? was : "", was ? ".json)" : "", js->conf->state_dir,
		    decide_help(name, help, sizeof(help)));
		j.error_code = xstrdup(JOBS_DOUBT);
		struct jrun *r = add_job(js, &j);
		if (store_stage(js->commit, js->conf->state_dir, &r->rec) != 0)
			log_event(LOG_ERROR, r->rec.name, NULL, "cannot record the job");
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "in doubt: the record of %s%s%.0u could not be read; its input is kept "
		          "and nothing is sent until `sorad resolve`",
		          cl->file, s->line ? " line " : "", s->line);
		notify_observers(js, &r->rec, r->rec.state);
		n++;
	}
	return n;
}

/* Drops the partial records of claim ID (none was submitted: a claim's records are
 * all durable before any of its creates), to record it again. */
static void drop_claim_records(struct jobs *js, const char *id)
{
	size_t kept = 0;
	for (size_t i = 0; i < js->n; i++) {
		char c[128];
		claim_of(&js->v[i]->rec, c, sizeof(c));
		if (!strcmp(c, id)) {
			store_remove(js->conf->state_dir, js->v[i]->rec.name);
			count_state(js, js->v[i]->rec.state, -1);
			free_run(js->v[i]);
		} else {
			js->v[kept++] = js->v[i];
		}
	}
	if (kept != js->n) {
		js->n = kept;
		rebuild_index(js);
	}
}

/*
 * Claim CL made sorad stop while it was being read, INBOX_CRASHES_MAX times: it is not
 * read again. When none of its jobs can have sent a create (its records were never all
 * durable, and no record at all is lost: SENT_MAYBE false), it fails like an invalid file,
 * its input and the reason going to failed/. Otherwise it stays where it is, untouched
 * and unread, for a person to look at: a job that may have spent money is never
 * dropped on a guess.
 */
static void crashed_claim(struct jobs *js, struct claim *cl, bool sent_maybe)
{
	if (sent_maybe) {
		log_error("inbox: sorad stopped unexpectedly %u times while reading %s (claim "
		          "%s); some of its jobs may have been submitted, so it is kept unread "
		          "in %s/inputs/%s: compare it with the service's list, then remove it",
		          INBOX_CRASHES_MAX, cl->file, cl->id, js->conf->state_dir, cl->id);
		return;
	}
	drop_claim_records(js, cl->id);
	log_error("inbox: sorad stopped unexpectedly %u times while reading %s (claim %s); "
	          "it goes to %s instead of being read again",
	          INBOX_CRASHES_MAX, cl->file, cl->id, js->conf->failed_dir);
	record_claim(js, cl, js->commit);
	inbox_claim_processed(js->conf, cl->id);
}

/*
 * Claims whose records were not all written before a crash are processed again. A
 * claim one of whose records was durable but cannot be read (LOST) is not: its lost
 * jobs come back in doubt (restore_lost), and the claim stays until they are decided.
 */
static void redo_unrecorded_claims(struct jobs *js, const struct lost_names *lost)
{
	char inputs[PATH_MAX];
	if (inbox_claim_path(js->conf, "", NULL, inputs, sizeof(inputs)) != 0)
		return;
	DIR *dp = opendir(inputs);
	if (!dp)
		return;
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *id = de->d_name;
		if (!strncmp(id, INBOX_SPARE_PREFIX, strlen(INBOX_SPARE_PREFIX)) &&
		    unlinkat(dirfd(dp), id, AT_REMOVEDIR) != 0 && errno != ENOENT)
			log_warn("inbox: cannot remove %s/%s: %s", inputs, id, strerror(errno));
		if (id[0] == '.')
			continue;
		char marker[PATH_MAX];
		if (inbox_claim_path(js->conf, id, INBOX_MARKER, marker, sizeof(marker)) != 0)
			continue;
		size_t total, final;
		claim_counts(js, id, &total, &final);
		bool recorded = access(marker, F_OK) == 0 || claim_recorded(js, id);
		if (recorded && !lost->n) {
			if (total == final) /* every job final: only the cleanup was missed */
				inbox_remove_claim(js->conf, id);
			continue;
		}
		struct claim cl;
		int rc = inbox_reprocess(js->conf, id, &cl);
		if (rc != 0 && rc != 2) {
			if (!recorded)
				inbox_remove_claim(js->conf, id);
			continue;
		}
		bool matches = false;
		for (size_t i = 0; i < cl.pf.n && !matches; i++)
			matches = lost_match(lost, cl.pf.jobs[i].name) != NULL;
		if (rc == 2) {
			/* A lost record may be any job's (a "name:" key hides whose): with
			 * one about, no crashed claim is failed on a guess. */
			crashed_claim(js, &cl, recorded || matches || lost->n > 0);
		} else if (!recorded && !matches) {
			drop_claim_records(js, id);
			log_info("inbox: claim %s was interrupted; processing it again", id);
			record_claim(js, &cl, js->commit);
			inbox_claim_processed(js->conf, id);
		} else {
			if (restore_lost(js, &cl, lost) == 0 && total == final)
				inbox_remove_claim(js->conf, id);
			else
				inbox_claim_processed(js->conf, id);
		}
		claim_release(&cl);
	}
	closedir(dp);
}

/* Decisions `sorad resolve` recorded while no daemon ran (job.h, resolution). */
static void apply_resolutions(struct jobs *js)
{
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = js->v[i];
		if (!r->rec.resolution)
			continue;
		enum jobs_resolve_how how;
		const char *id;
		char why[512];
		char *res = r->rec.resolution;
		r->rec.resolution = NULL;
		if (!strcmp(res, "retry")) { /* `sorad retry` while sorad was down */
			if (jobs_retry(js, r->rec.name, why, sizeof(why)) != 0) {
				log_event(LOG_WARNING, r->rec.name, NULL,
				          "ignoring the retry recorded while sorad was down: %s",
				          why);
				store_stage(js->commit, js->conf->state_dir, &r->rec);
			}
			free(res);
			continue;
		}
		if (!strcmp(res, "cancel") || !strcmp(res, "reject")) {
			/* `sorad cancel` / `sorad reject` while sorad was down */
			if (jobs_stop(js, r->rec.name, res[0] == 'c' ? JOBS_CANCEL : JOBS_REJECT,
			              why, sizeof(why)) != 0) {
				log_event(LOG_WARNING, r->rec.name, NULL,
				          "ignoring the %s recorded while sorad was down: %s", res,
				          why);
				store_stage(js->commit, js->conf->state_dir, &r->rec);
			}
			free(res);
			continue;
		}
		if (jobs_resolution_parse(res, &how, &id) != 0) {
			log_event(LOG_ERROR, r->rec.name, NULL,
			          "ignoring a recorded decision sorad cannot read");
			store_stage(js->commit, js->conf->state_dir, &r->rec);
		} else if (jobs_resolve(js, r->rec.name, how, id, why, sizeof(why)) != 0) {
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "ignoring the decision recorded by sorad resolve: %s", why);
			store_stage(js->commit, js->conf->state_dir, &r->rec);
		} else {
			log_event(
			    LOG_INFO, r->rec.name, NULL,
			    "applied the decision recorded by sorad resolve while sorad was down");
		}
		free(res);
	}
}

int jobs_load(struct jobs *js)
{
	if (store_open(js->conf->state_dir) != 0)
		return -1;
	int n = store_load_all(js->conf->state_dir, loaded, js);
	if (n < 0)
		return -1;
	/* Claim order survives restarts; the index is rebuilt after sorting. */
	if (js->n > 1)
		qsort(js->v, js->n, sizeof(*js->v), by_claim_time);
	rebuild_index(js);
	struct lost_names lost = {0};
	store_corrupt_names(js->conf->state_dir, lost_add, &lost);
	redo_unrecorded_claims(js, &lost);
	lost_free(&lost);
	apply_resolutions(js);
	size_t resumed = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = js->v[i];
		if (!job_state_is_final(r->rec.state)) {
			resumed++;
			schedule(r, 0);
		}
	}
	log_info("state: %zu job(s) loaded, %zu to resume", js->n, resumed);
	return (int)js->n;
}

void jobs_set_conf(struct jobs *js, const struct conf *c)
{
	bool was = callbacks_expected(js->conf), now = callbacks_expected(c);
	js->conf = c;
	if (now && !was)
		expect_callbacks(js);
	else if (was && !now)
		js->callbacks_live = false; /* until a callback comes (callback_listen alone) */
	js->api_blocked = false;
	pump(js);
}

void jobs_suspend(struct jobs *js)
{
	deletes_abandon(js);
	js->api = NULL; /* nothing may start until jobs_set_api */
	refresh_suspend(js->refresh);
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = js->v[i];
		if (r->req) {
			api_req_cancel(r->req);
			r->req = NULL;
		}
		close_download(r, DL_DROP_PARTIAL);
		if (r->timer)
			loop_timer_disarm(r->timer);
	}
}

void jobs_set_api(struct jobs *js, struct api_client *api)
{
	js->api = api;
	js->api_blocked = false;
	refresh_set_api(js->refresh, api);
	for (size_t i = 0; i < js->n; i++)
		if (!job_state_is_final(js->v[i]->rec.state))
			schedule(js->v[i], 0);
}

size_t jobs_count(const struct jobs *js, enum job_state s)
{
	size_t n = 0;
	for (size_t i = 0; i < js->n; i++)
		n += js->v[i]->rec.state == s;
	return n;
}

const struct pollplan_stats *jobs_poll_stats(const struct jobs *js)
{
	return &js->poll_stats;
}

size_t jobs_total(const struct jobs *js)
{
	return js->n;
}

const struct job *jobs_at(const struct jobs *js, size_t i)
{
	return i < js->n ? &js->v[i]->rec : NULL;
}

const struct job *jobs_find(const struct jobs *js, const char *name_or_id)
{
	struct jrun *r = by_name_or_id(js, name_or_id);
	return r ? &r->rec : NULL;
}

/* ---- holds, approvals, forgetting -------------------------------------------------- */

void jobs_set_gate(struct jobs *js, jobs_gate_fn *fn, void *ud)
{
	js->gate = fn;
	js->gate_ud = ud;
}

size_t jobs_release_held(struct jobs *js)
{
	size_t released = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = js->v[i];
		if (!held_for(r, JOBS_HOLD_CAP))
			continue;
		char why[512];
		if (js->gate && js->gate(&r->rec, why, sizeof(why), js->gate_ud) != 0)
			break; /* oldest first: later jobs wait behind it */
		log_event(LOG_INFO, r->rec.name, NULL, "released: the usage caps allow it now");
		unhold_job(r);
		released++;
	}
	return released;
}

bool jobs_approval_matches(const struct job *j, const char *name)
{
	if (j->state != JOB_HELD || !j->error_code ||
	    strcmp(j->error_code, JOBS_HOLD_APPROVAL) != 0)
		return false;
	if (!strcmp(j->name, name))
		return true;
	/* The dropped file's stem names every job of it ("batch" for batch.jsonl). */
	const char *file = job_source_file(j);
	size_t n = strlen(name);
	return !strncmp(file, name, n) && file[n] == '.' && !strchr(file + n + 1, '.');
}

int jobs_approve(struct jobs *js, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = js->v[i];
		if (!jobs_approval_matches(&r->rec, name))
			continue;
		log_event(LOG_INFO, r->rec.name, NULL, "approved");
		unhold_job(r);
		n++;
	}
	return n;
}

static void on_cancel_deleted(struct api_req *req, void *ud)
{
	struct api_result *res = api_req_result(req);
	char *name = ud;
	if (res->kind == API_OK || res->kind == API_NOT_FOUND)
		log_event(LOG_INFO, name, NULL, "cancelled: the service %s the video",
		          res->kind == API_OK ? "deleted" : "no longer has");
	else
		log_event(LOG_WARNING, name, NULL,
		          "cancelled, but the service did not delete the video (%s); it may "
		          "still be made and billed",
		          api_kind_describe(res->kind));
	free(name);
}

int jobs_stop(struct jobs *js, const char *name, enum jobs_stop_how how, char *msg, size_t n)
{
	struct jrun *r = by_name_or_id(js, name);
	if (!r) {
		bfmt(msg, n, "no job is named %s", name);
		return -1;
	}
	const char *jn = r->rec.name;
	enum job_state s = r->rec.state;
	if (r->committing && !job_state_is_final(s)) {
		bfmt(msg, n, "%s is being saved; try again in a moment", jn);
		return -2;
	}
	if (how == JOBS_REJECT) {
		if (s != JOB_HELD) {
			bfmt(msg, n, "%s is %s, not held; 'sorad cancel %s' stops a job in flight",
			     jn, job_state_name(s), jn);
			return -1;
		}
		fail_job(r, "rejected",
		         "Rejected by the user while it was held (%s). Nothing was sent to the "
		         "service and nothing was spent.",
		         r->rec.error ? r->rec.error : "held");
		bfmt(msg, n, "%s rejected: nothing was spent; its input is in %s", jn,
		     js->conf->failed_dir);
		return 0;
	}
	switch (s) {
	case JOB_CLAIMED:
	case JOB_HELD:
	case JOB_WAITING:
		r->queued = false;
		fail_job(r, "cancelled",
		         "Cancelled by the user before anything was sent to the service: nothing "
		         "was spent.");
		bfmt(msg, n, "%s cancelled: nothing was spent; its input is in %s", jn,
		     js->conf->failed_dir);
		return 0;
	case JOB_SUBMITTING:
		bfmt(msg, n, "%s is being submitted right now; try again in a moment", jn);
		return -2;
	case JOB_IN_DOUBT:
		bfmt(msg, n,
		     "%s is in doubt: 'sorad resolve %s --drop' fails it (its create may have "
		     "been charged)",
		     jn, jn);
		return -1;
	case JOB_DONE:
	case JOB_FAILED:
		bfmt(msg, n, "%s is %s already; nothing runs", jn, job_state_name(s));
		return -1;
	case JOB_RUNNING:
	case JOB_DOWNLOADING:
		break;
	}
	/* In flight at the service: stop tracking; ask the service to delete it. */
	if (r->req) {
		api_req_cancel(r->req);
		r->req = NULL;
	}
	refresh_untrack(js->refresh, r, r->rec.video_id);
	bool del = r->rec.video_id && js->api && caps_has(api_client_caps(js->api), CAPS_DELETE) &&
	           s == JOB_RUNNING;
	if (del && !api_delete(js->api, r->rec.video_id, jn, on_cancel_deleted, xstrdup(jn)))
		del = false;
	fail_job(
	    r, "cancelled", "Cancelled by the user while the service was %s it (video %s). %s",
	    s == JOB_RUNNING ? "making" : "serving", r->rec.video_id ? r->rec.video_id : "?",
	    del ? "sorad asked the service to delete it; the generation may still be billed."
	    : s == JOB_DOWNLOADING
	        ? "The video was made: it is billed, and stays on the service until it expires."
	        : "The service cannot delete videos: it may still finish, and be billed.");
	bfmt(msg, n, "%s cancelled: %s", jn,
	     del ? "sorad asked the service to delete the video; it may still be billed"
	     : s == JOB_DOWNLOADING ? "the video was made and is billed"
	                            : "sorad stopped tracking it; the video may still be billed");
	return 0;
}

int jobs_retry(struct jobs *js, const char *name, char *msg, size_t n)
{
	struct jrun *r = by_name_or_id(js, name);
	if (!r) {
		bfmt(msg, n, "no job is named %s", name);
		return -1;
	}
	struct job *j = &r->rec;
	if (j->state != JOB_FAILED || r->committing) {
		bfmt(msg, n, "%s is %s, not failed: only a failed job can be retried", j->name,
		     job_state_name(j->state));
		return -1;
	}
	if (j->creates + 1 >= JOB_CREATES_MAX) {
		bfmt(msg, n, "%s has sent %u creates already; drop it again as a new job", j->name,
		     j->creates);
		return -1;
	}
	const struct conf *c = js->conf;
	char id[128];
	claim_of(j, id, sizeof(id));
	if (j->reference) { /* the image must be in the claim again */
		char in_claim[PATH_MAX], in_failed[PATH_MAX];
		const char *dot = strrchr(j->reference, '.');
		struct stat st;
		if (!id[0] ||
		    inbox_claim_path(c, id, j->reference, in_claim, sizeof(in_claim)) != 0 ||
		    bfmt(in_failed, sizeof(in_failed), "%s/%s%s", c->failed_dir, j->name,
		         dot ? dot : "") != 0) {
			bfmt(msg, n, "%s's reference image cannot be found; drop it again",
			     j->name);
			return -1;
		}
		if (stat(in_claim, &st) != 0) {
			char dir[PATH_MAX];
			bcopy_str(dir, sizeof(dir), in_claim);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			if (mkdir_p(dir, 0700) != 0 || copy_file(in_failed, in_claim, 0600) != 0) {
				bfmt(msg, n,
				     "%s's reference image %s is no longer there (%s); drop the "
				     "prompt "
				     "and its image again",
				     j->name, j->reference, strerror(errno));
				return -1;
			}
		}
	}
	/* The failure, archived in the record; its report leaves failed/. */
	char when[32] = "?", line[256];
	time_t t = (time_t)(j->finished_at >= 0 ? j->finished_at : now_s());
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	first_line(j->error, line, sizeof(line));
	char *h = xasprintf("%s%s%s %s: %s", j->history ? j->history : "", j->history ? "\n" : "",
	                    when, j->error_code ? j->error_code : "failed", line);
	free(j->history);
	j->history = h;
	outbox_remove_failure(c, j->name);
	/* A new start, keeping what was spent: every create sent stays counted. */
	char **fields[] = {&j->video_id,      &j->status,     &j->error, &j->error_code,
	                   &j->create_answer, &j->resolution, &j->usage};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		free(*fields[i]); /* cppcheck-suppress shadowVariable ; false positive (2.10) */
		*fields[i] = NULL;
	}
	j->progress = 0;
	j->video_created_at = j->video_completed_at = j->video_expires_at = -1;
	j->submit_at = j->finished_at = -1;
	j->dl_window_s = j->dl_seen_at = -1;
	j->next_at_ms = 0;
	j->attempts = 0;
	j->reported_cost_usd = -1;
	j->creates_allowed = j->creates + 1;
	if (outbox_reserve(c, j->name, id) < 0)
		log_event(LOG_DEBUG, j->name, NULL, "retry: the name is not reserved on disk: %s",
		          strerror(errno));
	if (j->dup_key)
		dupes_put(js->dupes, j->dup_key, j->name, j->claimed_at);
	log_event(LOG_INFO, j->name, NULL, "retried by the user (earlier: %s)", line);
	requeue(r);
	bfmt(msg, n,
	     "%s is queued again under the same name; its earlier failure is in its history "
	     "('sorad show %s')",
	     j->name, j->name);
	return 0;
}

/* Takes D out of its list, tells its caller (OK, CODE, MSG) and frees it. */
static void delete_finish(struct jdelete *d, bool ok, const char *code, const char *msg)
{
	for (struct jdelete **p = &d->js->deletes; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	d->done(ok, code, msg, d->ud);
	free(d->video_id);
	free(d->job);
	free(d);
}

/* The sentence of the CLI's cannot_delete (cli.c, offline), without its prefix. */
static void cannot_delete_msg(char *msg, size_t n, const char *video_id, const char *reason)
{
	bfmt(msg, n,
	     "the service cannot delete videos (%s): video %s stays there until the service "
	     "expires it; if it can after all, set capabilities { delete = yes } in the "
	     "configuration",
	     reason, video_id);
}

static void on_user_deleted(struct api_req *req, void *ud)
{
	struct jdelete *d = ud;
	struct api_result *res = api_req_result(req);
	char msg[1024];
	d->req = NULL; /* freed when this returns */
	if (res->kind == API_OK || res->kind == API_NOT_FOUND) {
		log_event(LOG_INFO, d->job, d->video_id, "sorad delete: the service %s the video",
		          res->kind == API_OK ? "deleted" : "no longer has");
		if (res->kind == API_OK)
			bfmt(msg, sizeof(msg), "deleted video %s from the service", d->video_id);
		else
			bfmt(msg, sizeof(msg),
			     "the service no longer has video %s (deleted or expired already)",
			     d->video_id);
		delete_finish(d, true, NULL, msg);
		return;
	}
	const char *em = res->error.message ? res->error.message : "";
	if (caps_refusal(res)) {
		char answer[200];
		bfmt(answer, sizeof(answer), "HTTP %ld: %.*s", res->http_status,
		     (int)strcspn(em, "\r\n"), em);
		cannot_delete_msg(msg, sizeof(msg), d->video_id, answer);
		log_event(LOG_WARNING, d->job, d->video_id, "sorad delete: %s", msg);
		delete_finish(d, false, "cannot_delete", msg);
		return;
	}
	bfmt(msg, sizeof(msg), "the service did not delete video %s: %s (%s)", d->video_id,
	     api_kind_describe(res->kind), *em ? em : "no details");
	log_event(LOG_WARNING, d->job, d->video_id, "sorad delete: %s", msg);
	delete_finish(d, false, res->kind == API_CONFIG ? "config" : "unavailable", msg);
}

int jobs_delete(struct jobs *js, const char *video_id, const char *job, jobs_deleted_fn *done,
                void *ud, const char **code, char *msg, size_t n)
{
	if (!js->api) {
		*code = "busy";
		bfmt(msg, n,
		     "the daemon is setting up its API client again; try again in a moment");
		return -1;
	}
	const struct caps *caps = api_client_caps(js->api);
	if (caps && !caps_has(caps, CAPS_DELETE)) {
		char why[300];
		*code = "cannot_delete";
		cannot_delete_msg(msg, n, video_id,
		                  caps_explain(caps, CAPS_DELETE, why, sizeof(why)));
		return -1;
	}
	struct jdelete *d = xcalloc(1, sizeof(*d));
	d->js = js;
	d->video_id = xstrdup(video_id);
	d->job = job ? xstrdup(job) : NULL;
	d->done = done;
	d->ud = ud;
	d->next = js->deletes;
	js->deletes = d;
	log_event(LOG_INFO, job, video_id, "sorad delete: asking the service to delete the video");
	d->req = api_delete(js->api, video_id, job, on_user_deleted, d);
	return 0;
}

/* The deletes still waiting lose their client (a reload, shutdown): answered now. */
static void deletes_abandon(struct jobs *js)
{
	while (js->deletes) {
		struct jdelete *d = js->deletes;
		if (d->req)
			api_req_cancel(d->req);
		d->req = NULL;
		delete_finish(d, false, "unavailable",
		              "the daemon stopped or changed its API settings before the service "
		              "answered the delete; try again");
	}
}

int jobs_forget(struct jobs *js, const char *name)
{
	struct jrun *r = by_name(js, name);
	if (!r || !job_state_is_final(r->rec.state))
		return -1;
	/* A change of this job still staged would bring the record back after the
	 * removal: commit it first. */
	commit_drain(js->intents);
	commit_drain(js->commit);
	if (store_remove(js->conf->state_dir, r->rec.name) != 0)
		return -1;
	log_event(LOG_INFO, r->rec.name, r->rec.video_id, "forgotten: record and outputs purged");
	size_t kept = 0;
	for (size_t i = 0; i < js->n; i++)
		if (js->v[i] != r)
			js->v[kept++] = js->v[i];
	js->n = kept;
	free_run(r);
	rebuild_index(js);
	return 0;
}

/* ---- a refresh asked from outside (signed callbacks) ------------------------------ */

/* The wait before R's next poll: WAIT_MS, or JOBS_CALLBACK_POLL_S while callbacks
 * arrive, so that polling is only the fallback. */
static long long callback_pace(const struct jrun *r, long long wait_ms)
{
	long long fallback = JOBS_CALLBACK_POLL_S * 1000LL;
	return r->js->callbacks_live && wait_ms < fallback ? fallback : wait_ms;
}

/* A poll of R answered V: an end that no callback announced means callbacks are not
 * (or no longer) arriving, so polling goes back to its own pace until one does. */
static void callback_missed(struct jrun *r, const struct video *v)
{
	bool nudged = r->by_callback;
	r->by_callback = false;
	if (nudged || !r->js->callbacks_live || r->rec.state != JOB_RUNNING ||
	    v->status == VIDEO_QUEUED || v->status == VIDEO_IN_PROGRESS ||
	    v->status == VIDEO_UNKNOWN)
		return;
	r->js->callbacks_live = false;
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "a poll found the video ended before any callback said so: callbacks may "
	          "not be arriving (check the reverse proxy and callback_url); polling at the "
	          "usual pace again until one does");
}

static struct jrun *by_video_id(const struct jobs *js, const char *video_id)
{
	for (size_t i = 0; video_id && i < js->n; i++)
		if (js->v[i]->rec.video_id && !strcmp(js->v[i]->rec.video_id, video_id))
			return js->v[i];
	return NULL;
}

/* A callback event's "data" DATA[LEN] parsed into V by the protocol's own parser: 0,
 * or -1 (V released) when it is unreadable. */
static int event_video(const struct jobs *js, const char *data, size_t len, struct video *v)
{
	video_init(v);
	const struct proto *pr = proto_find(js->conf->api_protocol);
	char *poll_url = NULL, err[256];
	bool syntax = false;
	int rc =
	    pr && data ? pr->parse_video(v, &poll_url, data, len, &syntax, err, sizeof(err)) : -1;
	free(poll_url);
	if (rc != 0)
		video_release(v);
	return rc != 0 ? -1 : 0;
}

enum jobs_refresh_result jobs_callback_event(struct jobs *js, const char *video_id,
                                             const char *data, size_t len)
{
	struct jrun *r = by_video_id(js, video_id);
	if (!r || r->rec.state != JOB_RUNNING || r->req || r->committing || !js->api ||
	    js->api_blocked)
		return jobs_refresh_now(js, video_id);
	struct video v;
	if (event_video(js, data, len, &v) != 0)
		return jobs_refresh_now(js, video_id);
	bool ended = v.status == VIDEO_COMPLETED || v.status == VIDEO_FAILED ||
	             v.status == VIDEO_CANCELLED || v.status == VIDEO_EXPIRED;
	if (!ended || !v.id || strcmp(v.id, video_id) != 0) {
		video_release(&v);
		return jobs_refresh_now(js, video_id);
	}
	if (!js->callbacks_live)
		log_info("callbacks arrive: running jobs are polled every %d s at most, as the "
		         "fallback",
		         JOBS_CALLBACK_POLL_S);
	js->callbacks_live = true;
	if (r->timer) /* polled() schedules what comes next */
		loop_timer_disarm(r->timer);
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "callback: the signed event says %s; taken as the service's answer, no "
	          "retrieve",
	          video_status_name(v.status));
	r->by_callback = true;
	polled(r, &v, -1);
	video_release(&v);
	return JOBS_REFRESH_APPLIED;
}

enum jobs_refresh_result jobs_refresh_now(struct jobs *js, const char *video_id)
{
	struct jrun *r = by_video_id(js, video_id);
	if (!r)
		return JOBS_REFRESH_UNKNOWN;
	if (!js->callbacks_live)
		log_info("callbacks arrive: running jobs are polled every %d s at most, as the "
		         "fallback",
		         JOBS_CALLBACK_POLL_S);
	js->callbacks_live = true;
	if (r->rec.state != JOB_RUNNING)
		return JOBS_REFRESH_NOT_RUNNING;
	if (r->req || r->committing || !js->api || js->api_blocked)
		return JOBS_REFRESH_PENDING;
	if (r->timer) /* this retrieve is the poll; polled() schedules the next */
		loop_timer_disarm(r->timer);
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "callback: retrieving the video now instead of at its next poll");
	r->by_callback = true;
	r->req = api_retrieve(js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
	return JOBS_REFRESH_STARTED;
}
