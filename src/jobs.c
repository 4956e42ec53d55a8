/*
 * jobs.c — the job state machine's core (see jobs.h and job.h; jobs_int.h for how it
 * is split): the table of jobs and its name index, move_state (the one place a job's
 * state changes, which keeps the per-state counters) and set_state (which records and
 * announces it), timers and commits, failures and holds, advance/pump (the next step
 * of each job, and the slots), the lifetime of struct jobs and its getters.
 */
#include "jobs_int.h"

#include "claimretry.h"
#include "commit.h"
#include "deadline.h"
#include "dupes.h"
#include "eta.h"
#include "history.h"
#include "inbox.h"
#include "livemark.h"
#include "log.h"
#include "outbox.h"
#include "prompt.h"
#include "refresh.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The jobs of one claim directory in the table: all of them, and those final. */
struct jclaim {
	size_t total, final;
	char id[]; /* the key in jobs.by_claim */
};

static bool in_flight_state(enum job_state s);
static void track_waiting(struct jrun *r, unsigned before, unsigned after);
static void track_live(struct jrun *r, unsigned before, unsigned after);
static void count_claim(struct jrun *r, enum job_state s, int d);
static void release_claim_if_done(struct jobs *js, const struct job *j);
static int resolve_source(struct jrun *r);

void jr_notify_observers(const struct jobs *js, const struct job *j, enum job_state before)
{
	for (size_t i = 0; i < js->n_observers; i++)
		js->observers[i].fn(j, before, js->observers[i].ud);
}

long long jr_now_s(void)
{
	return (long long)time(NULL);
}

long long jr_now_ms_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts a job in state S in (D = 1) or out of (D = -1) js's per-state counters. Only
 * add_job, move_state and remove_jobs call it: a job enters the table, changes state,
 * leaves it. */
static void count_state(struct jobs *js, enum job_state s, int d)
{
	if (in_flight_state(s))
		js->in_flight += (size_t)d;
	if (s == JOB_SUBMITTING)
		js->submitting += (size_t)d;
	else if (s == JOB_CLAIMED)
		js->claimed += (size_t)d;
	js->by_state[s] += (size_t)d;
}

size_t jr_gen_slot(struct jobs *js, const char *model)
{
	for (size_t i = 0; i < js->n_gen; i++)
		if (!strcmp(js->gen[i].model, model))
			return i;
	js->gen =
	    xgrow(js->gen, &js->cap_gen, (js->n_gen + 1) * sizeof(*js->gen), 4 * sizeof(*js->gen));
	js->gen[js->n_gen] = (struct jgen){xstrdup(model), 0};
	return js->n_gen++;
}

bool jr_is_rejected(const struct job *j)
{
	return j->state == JOB_FAILED && j->error_code && !strcmp(j->error_code, "invalid_input");
}

/* R's share of the totals made to match what it is now (GONE: nothing, it leaves). */
static void tally(struct jrun *r, bool gone)
{
	struct jobs *js = r->js;
	if (r->gen_seconds)
		js->gen[r->gen_model].seconds -= r->gen_seconds;
	js->rejected -= r->rejected;
	r->gen_seconds = 0;
	r->rejected = !gone && jr_is_rejected(&r->rec);
	js->rejected += r->rejected;
	if (!gone && r->rec.state == JOB_DONE && r->rec.model && r->rec.seconds) {
		r->gen_model = jr_gen_slot(js, r->rec.model);
		r->gen_seconds = r->rec.seconds;
		js->gen[r->gen_model].seconds += r->gen_seconds;
	}
}

#ifdef SORAD_CHECK_COUNTS
/*
 * The debug check of the counters (CMake option SORAD_CHECK_COUNTS, on unless the build
 * type is Release): every job recounted by state after each change, and a difference
 * is a bug in this file, so sorad stops at once, saying where, rather than throttling
 * claims or submissions on a wrong count for the rest of its life.
 */
void jr_check_counts(const struct jobs *js, const struct job *j, const char *where)
{
	size_t in_flight = 0, submitting = 0, claimed = 0, by_state[JOB_STATE_COUNT] = {0};
	size_t queued = 0, vids = 0, claim_total = 0, claim_final = 0, rejected = 0;
	unsigned long long gen_total = 0, gen_counted = 0;
	const char *bad = NULL; /* which list or index is out of step */
	/* J is always a job's record, the first member of its struct jrun. */
	const struct jclaim *jc = j ? ((const struct jrun *)(const void *)j)->claim : NULL;
	size_t hot = 0, cold[2] = {0, 0}, gone = 0;
	for (size_t i = 0; i < js->n; i++) {
		const struct jrun *r = jr_at(js, i);
		if (!r) {
			if (jr_slot_cold(js->slot[i]))
				cold[jr_slot_state(js->slot[i]) == JOB_FAILED]++;
			else
				gone++;
			continue;
		}
		hot++;
		enum job_state s = r->rec.state;
		in_flight += in_flight_state(s);
		submitting += s == JOB_SUBMITTING;
		claimed += s == JOB_CLAIMED;
		by_state[s]++;
		queued += r->queued;
		vids += r->rec.video_id != NULL;
		rejected += jr_is_rejected(&r->rec);
		if (s == JOB_DONE && r->rec.model)
			gen_total += r->rec.seconds;
		if (jc && r->claim == jc) {
			claim_total++;
			claim_final += job_state_is_final(s);
		}
		if (r->seq != i)
			bad = "a job's seq (not its slot)";
	}
	rejected += js->cold.rejected;
	gen_total += js->cold.gen;
	if (cold[0] != js->cold.by_state[0] || cold[1] != js->cold.by_state[1] ||
	    cold[0] + cold[1] != js->cold.n || gone != js->cold.gone)
		bad = "the counts of cold jobs";
	if (jc && (claim_total != jc->total || claim_final != jc->final))
		bad = "its claim's counts";
	if (hot - by_state[JOB_DONE] - by_state[JOB_FAILED] != js->live.n)
		bad = "the list of jobs not final";
	if (by_state[JOB_WAITING] != js->waiting.n)
		bad = "the list of waiting jobs";
	if (vids != js->by_vid.n)
		bad = "the video id index";
	for (size_t i = 0; i < js->n_gen; i++)
		gen_counted += js->gen[i].seconds;
	if (rejected != js->rejected || gen_total != gen_counted)
		bad = "the totals for /metrics (seconds generated, inputs rejected)";
	if (j && j->video_id) {
		bool found = false;
		size_t pos;
		for (void *o = hmap_get_first(&js->by_vid, j->video_id, &pos); o && !found;
		     o = hmap_get_next(&js->by_vid, j->video_id, &pos))
			found = &((struct jrun *)o)->rec == j;
		if (!found)
			bad = "the video id index (its job)";
	}
	for (size_t i = 1; i < js->queue.n; i++)
		if (js->queue.v[i - 1]->seq >= js->queue.v[i]->seq)
			bad = "the queue (out of claim order)";
	if (in_flight == js->in_flight && submitting == js->submitting && claimed == js->claimed &&
	    !memcmp(by_state, js->by_state, sizeof(by_state)) && queued == js->queue.n && !bad)
		return;
	char msg[512];
	bfmt(msg, sizeof(msg),
	     "jobs: per-state counters wrong after %s%s%s: in_flight %zu (recounted %zu), "
	     "submitting %zu (%zu), claimed %zu (%zu), queued %zu (%zu)%s%s; a state changed "
	     "outside move_state, or an index was not kept in step (SORAD_CHECK_COUNTS)",
	     where, j ? " of " : "", j ? j->name : "", js->in_flight, in_flight, js->submitting,
	     submitting, js->claimed, claimed, js->queue.n, queued, bad ? ", out of step: " : "",
	     bad ? bad : "");
	log_error("%s", msg);
	fprintf(stderr, "sorad: %s\n", msg);
	abort();
}
#else
void jr_check_counts(const struct jobs *js, const struct job *j, const char *where)
{
	(void)js;
	(void)j;
	(void)where;
}
#endif

/*
 * Whether work that can wait should give way now: new download rounds, and claims
 * beyond a reserve of jobs ready to submit. Submissions go first: a create starts a
 * generation (the service's clock), while a download only fetches what is done and a
 * claim only takes a file that cannot be submitted yet. So while creates are pending,
 * that work waits, for at most JOBS_YIELD_MS, and does not take the loop's, the
 * disk's and the service's time from them. A burst of completions then turns into the
 * next burst of creates at once, and its downloads follow.
 */
bool jr_yield_to_creates(struct jobs *js)
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

struct jrun *jr_by_name(const struct jobs *js, const char *name)
{
	if (!name)
		return NULL;
	struct jrun *r = js->by_name.n ? hmap_get(&js->by_name, name) : NULL;
	if (r || !js->cold.n)
		return r;
	size_t i = jr_cold_find(js, name, false);
	/* thawing fills a cache of what the table holds; the jobs do not change */
	return i == (size_t)-1 ? NULL : jr_thaw((struct jobs *)(uintptr_t)js, i);
}

bool jr_name_known(const struct jobs *js, const char *name)
{
	return hmap_get(&js->by_name, name) || jr_cold_find(js, name, false) != (size_t)-1;
}

/* ---- the video id index ------------------------------------------------------- */

struct jrun *jr_by_vid(const struct jobs *js, const char *id)
{
	struct jrun *best = NULL;
	size_t pos;
	if (!id)
		return NULL;
	for (struct jrun *r = hmap_get_first(&js->by_vid, id, &pos); r;
	     r = hmap_get_next(&js->by_vid, id, &pos))
		if (!best || r->seq < best->seq)
			best = r;
	size_t c = js->cold.n ? jr_cold_find(js, id, true) : (size_t)-1;
	if (c != (size_t)-1 && (!best || c < best->seq))
		return jr_thaw((struct jobs *)(uintptr_t)js, c);
	return best;
}

bool jr_vid_owned_by_other(const struct jobs *js, const struct jrun *r, const char *id)
{
	size_t pos;
	for (struct jrun *o = hmap_get_first(&js->by_vid, id, &pos); o;
	     o = hmap_get_next(&js->by_vid, id, &pos))
		if (o != r)
			return true;
	return jr_cold_find(js, id, true) != (size_t)-1; /* a cold job is never R */
}

void jr_set_vid(struct jrun *r, const char *id)
{
	struct hmap *m = &r->js->by_vid;
	if (r->rec.video_id)
		hmap_del_val(m, r->rec.video_id, r);
	free(r->rec.video_id);
	r->rec.video_id = id ? xstrdup(id) : NULL;
	if (r->rec.video_id)
		hmap_add(m, r->rec.video_id, r);
}

/* The job named NAME, else the one whose video id is NAME. */
struct jrun *jr_by_name_or_id(const struct jobs *js, const char *name)
{
	struct jrun *r = jr_by_name(js, name);
	return r ? r : jr_by_vid(js, name);
}

int jr_full(struct jrun *r)
{
	if (!r->summary)
		return 0;
	struct jobs *js = r->js;
	char dir[PATH_MAX], file[PROMPT_NAME_MAX + 8], why[256] = "";
	struct job full;
	job_init(&full);
	int dfd = -1, rc = -1;
	if (bfmt(dir, sizeof(dir), "%s/jobs", js->conf->state_dir) != 0 ||
	    bfmt(file, sizeof(file), "%s.json", r->rec.name) != 0)
		bcopy_str(why, sizeof(why), "its path is too long");
	else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		bfmt(why, sizeof(why), "%s: %s", dir, strerror(errno));
	else if (store_record_read(dfd, file, &full, why, sizeof(why)) != 0)
		;
	else if (strcmp(full.name, r->rec.name) != 0 || full.state != r->rec.state)
		bfmt(why, sizeof(why), "it says %s %s, its history line %s %s", full.name,
		     job_state_name(full.state), r->rec.name, job_state_name(r->rec.state));
	else
		rc = 0;
	if (dfd >= 0)
		close(dfd);
	if (rc != 0) {
		log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
		          "state: the record of this finished job cannot be read (%s): its "
		          "history line stands in for it",
		          why);
		job_release(&full);
		return -1;
	}
	/* The indexes borrow the record's strings: out with the summary's, in with the
	 * record's. Counts do not change (same state; tally recounts what it adds). */
	hmap_del_val(&js->by_name, r->rec.name, r);
	if (r->rec.video_id)
		hmap_del_val(&js->by_vid, r->rec.video_id, r);
	if (r->rec.reference)
		hmap_del_val(&js->by_ref, r->rec.reference, r);
	struct job old = r->rec;
	r->rec = full;
	r->summary = false;
	hmap_add(&js->by_name, r->rec.name, r);
	if (r->rec.video_id)
		hmap_add(&js->by_vid, r->rec.video_id, r);
	if (r->rec.reference)
		hmap_add(&js->by_ref, r->rec.reference, r);
	job_release(&old);
	tally(r, false);
	return 0;
}

/* ---- the queued jobs, in claim order ------------------------------------------- */

/* The place in js->queue of the first job whose seq is SEQ or more. */
static size_t queue_pos(const struct jobs *js, size_t seq)
{
	size_t lo = 0, hi = js->queue.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (js->queue.v[mid]->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void jr_set_queued(struct jrun *r, bool queued)
{
	if (r->queued == queued)
		return;
	struct jobs *js = r->js;
	size_t pos = queue_pos(js, r->seq);
	r->queued = queued;
	if (queued) {
		if (js->queue.n == js->queue.cap) {
			js->queue.cap = js->queue.cap ? js->queue.cap * 2 : 64;
			js->queue.v = xrealloc(js->queue.v, js->queue.cap * sizeof(*js->queue.v));
		}
		memmove(js->queue.v + pos + 1, js->queue.v + pos,
		        (js->queue.n - pos) * sizeof(*js->queue.v));
		js->queue.v[pos] = r;
		js->queue.n++;
	} else if (pos < js->queue.n && js->queue.v[pos] == r) {
		js->queue.n--;
		memmove(js->queue.v + pos, js->queue.v + pos + 1,
		        (js->queue.n - pos) * sizeof(*js->queue.v));
	}
}

static int by_seq(const void *a, const void *b)
{
	size_t x = (*(struct jrun *const *)a)->seq, y = (*(struct jrun *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* Rebuilds the name index from scratch (after the job array was reordered), and
 * numbers the jobs in their new order (the queue follows it). */
void jr_rebuild_index(struct jobs *js)
{
	hmap_clear(&js->by_name);
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r) {
			r->seq = i;
			hmap_add(&js->by_name, r->rec.name, r);
		}
	}
	js->next_seq = js->n;
	if (js->queue.n > 1)
		qsort(js->queue.v, js->queue.n, sizeof(*js->queue.v), by_seq);
}

/* A claimed job's own backoff after ATTEMPTS tries: 5 s doubling to 320 s. */
long long jr_claimed_backoff_ms(unsigned attempts)
{
	return 5000LL << (attempts < 6 ? attempts : 6);
}

/* The longest wait sorad itself schedules before the next try of a claimed job that
 * made ATTEMPTS tries: its backoff, or a server's retry-after (retry_after_max_s). */
static long long longest_wait_ms(const struct jobs *js, unsigned attempts)
{
	long long ra = (long long)js->conf->retry_after_max_s * 1000;
	long long own = jr_claimed_backoff_ms(attempts);
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
	long long now = loop_now_ms();
	struct wall_ms wall = {jr_now_ms_real()};
	if (j->state == JOB_CLAIMED && j->next_at_ms > 0)
		r->next_mono = now + deadline_wait_ms((struct wall_ms){j->next_at_ms}, wall,
		                                      longest_wait_ms(r->js, j->attempts));
	if (j->submit_at >= 0) {
		long long most = (long long)r->js->conf->job_timeout * 1000 - 1000;
		r->submit_mono = now - deadline_elapsed_ms(
		                           wall_ms_of((struct wall_s){j->submit_at}), wall, most);
	}
	if (j->state == JOB_IN_DOUBT && j->next_at_ms > 0)
		r->doubt_mono =
		    now - deadline_elapsed_ms((struct wall_ms){j->next_at_ms}, wall, LLONG_MAX / 4);
	if (j->dl_window_s >= 0 && j->dl_seen_at > 0) {
		long long w = j->dl_window_s * 1000;
		r->dl_deadline =
		    now + w -
		    deadline_elapsed_ms(wall_ms_of((struct wall_s){j->dl_seen_at}), wall, w);
	}
}

struct jrun *jr_add_job(struct jobs *js, struct job *rec)
{
	return jr_place_job(js, rec, js->n, true);
}

struct jrun *jr_place_job(struct jobs *js, struct job *rec, size_t pos, bool dupes)
{
	struct jrun *r = xcalloc(1, sizeof(*r));
	r->rec = *rec; /* takes the strings */
	job_init(rec);
	r->js = js;
	r->hist_off = -1;
	for (int v = 0; v < 3; v++) {
		r->dl[v].r = r;
		r->dl[v].fd = -1;
	}
	if (pos >= js->n) {
		if (js->n == js->cap) {
			js->cap = js->cap ? js->cap * 2 : 64;
			js->slot = xrealloc(js->slot, js->cap * sizeof(*js->slot));
		}
		pos = js->n++;
		js->next_seq = js->n;
	}
	r->seq = pos;
	r->stamp = ++js->stamps;
	js->slot[pos] = (uintptr_t)r;
	hmap_add(&js->by_name, r->rec.name, r);
	if (r->rec.video_id)
		hmap_add(&js->by_vid, r->rec.video_id, r);
	if (r->rec.reference)
		hmap_add(&js->by_ref, r->rec.reference, r);
	track_waiting(r, JOB_STATE_COUNT, r->rec.state);
	track_live(r, JOB_STATE_COUNT, r->rec.state);
	count_claim(r, r->rec.state, 1);
	tally(r, false);
	count_state(js, r->rec.state, 1);
	clocks_from_record(r);
	/* The index names jobs that may make their video: not a failure, nor a job that
	 * will fail for its input or as a duplicate. */
	const char *code = r->rec.error_code;
	if (dupes && r->rec.dup_key && r->rec.state != JOB_FAILED &&
	    !(code && (!strcmp(code, "duplicate") || !strcmp(code, "invalid_input"))))
		dupes_put(js->dupes, r->rec.dup_key, r->rec.name, r->rec.claimed_at);
	return r;
}

/* ---- bookkeeping ----------------------------------------------------------------- */

/*
 * The one place a job's state changes (curl's multistate()): the per-state counters
 * follow it, with what depends on leaving or entering a state (creates that held other
 * work back, batch polls, generation times, the reserved output name). set_state_in
 * records, logs and announces the change; a claim's hold for approval, a job not
 * announced yet, only moves (record_claim).
 */
/* Counts R in its claim's counts (D = 1, in state S) or out of them (D = -1). */
static void count_claim(struct jrun *r, enum job_state s, int d)
{
	struct jobs *js = r->js;
	if (d > 0 && !r->claim) {
		char id[128];
		jr_claim_of(&r->rec, id, sizeof(id));
		if (!id[0])
			return;
		r->claim = hmap_get(&js->by_claim, id);
		if (!r->claim) {
			size_t len = strlen(id);
			r->claim = xcalloc(1, sizeof(*r->claim) + len + 1);
			memcpy(r->claim->id, id, len + 1);
			hmap_put(&js->by_claim, r->claim->id, r->claim);
		}
	}
	struct jclaim *c = r->claim;
	if (!c)
		return;
	c->total += (size_t)d;
	c->final += job_state_is_final(s) ? (size_t)d : 0;
	if (d < 0) {
		r->claim = NULL;
		if (!c->total) {
			hmap_del(&js->by_claim, c->id);
			free(c);
		}
	}
}

/* Keeps js->waiting in step: R leaves state BEFORE for state AFTER (JOB_STATE_COUNT:
 * none, when R enters or leaves the table). */
static void track_waiting(struct jrun *r, unsigned before, unsigned after)
{
	struct jobs *js = r->js;
	if (before == after || (before != JOB_WAITING && after != JOB_WAITING))
		return;
	if (after == JOB_WAITING) {
		if (js->waiting.n == js->waiting.cap) {
			js->waiting.cap = js->waiting.cap ? js->waiting.cap * 2 : 16;
			js->waiting.v =
			    xrealloc(js->waiting.v, js->waiting.cap * sizeof(*js->waiting.v));
		}
		r->wpos = js->waiting.n;
		js->waiting.v[js->waiting.n++] = r;
	} else {
		struct jrun *last = js->waiting.v[--js->waiting.n];
		js->waiting.v[r->wpos] = last;
		last->wpos = r->wpos;
	}
}

/* Keeps js->live in step: R leaves state BEFORE for state AFTER (JOB_STATE_COUNT: none). */
static void track_live(struct jrun *r, unsigned before, unsigned after)
{
	struct jobs *js = r->js;
	bool was = before < JOB_STATE_COUNT && !job_state_is_final((enum job_state)before);
	bool is = after < JOB_STATE_COUNT && !job_state_is_final((enum job_state)after);
	if (was == is)
		return;
	if (is) {
		if (js->live.n == js->live.cap) {
			js->live.cap = js->live.cap ? js->live.cap * 2 : 64;
			js->live.v = xrealloc(js->live.v, js->live.cap * sizeof(*js->live.v));
		}
		r->lpos = js->live.n;
		js->live.v[js->live.n++] = r;
	} else {
		struct jrun *last = js->live.v[--js->live.n];
		js->live.v[r->lpos] = last;
		last->lpos = r->lpos;
	}
}

void jobs_each_live(const struct jobs *js, void (*fn)(const struct job *j, void *ud), void *ud)
{
	if (!js->live.n)
		return;
	size_t n;
	struct jrun **v = jr_in_claim_order(js->live.v, js->live.n, NULL, NULL, &n);
	for (size_t i = 0; i < n; i++)
		fn(&v[i]->rec, ud);
	free(v);
}

struct jrun **jr_in_claim_order(struct jrun *const *from, size_t n,
                                bool (*pick)(const struct jrun *r, const void *ud), const void *ud,
                                size_t *out)
{
	struct jrun **v = xcalloc(n + 1, sizeof(*v));
	*out = 0;
	for (size_t i = 0; i < n; i++)
		if (!pick || pick(from[i], ud))
			v[(*out)++] = from[i];
	if (*out > 1)
		qsort(v, *out, sizeof(*v), by_seq);
	return v;
}

/* The waiting jobs PICK says yes to, in claim order, into a new array (*N of them). */
static struct jrun **waiting_in_order(const struct jobs *js,
                                      bool (*pick)(const struct jrun *w, const void *ud),
                                      const void *ud, size_t *n)
{
	return jr_in_claim_order(js->waiting.v, js->waiting.n, pick, ud, n);
}

void jr_move_state(struct jrun *r, enum job_state s)
{
	struct jobs *js = r->js;
	enum job_state before = r->rec.state;
	count_state(js, before, -1);
	count_state(js, s, 1);
	track_waiting(r, before, s);
	track_live(r, before, s);
	if (r->claim && job_state_is_final(s) != job_state_is_final(before)) {
		r->claim->final -= job_state_is_final(before);
		r->claim->final += job_state_is_final(s);
	}
	if (before == JOB_SUBMITTING && js->submitting == 0 && js->yield_ms)
		loop_timer_arm(js->yield_timer, 0); /* what gave way goes now */
	if (before == JOB_RUNNING && s != JOB_RUNNING)
		refresh_untrack(js->refresh, r, r->rec.video_id);
	r->rec.state = s;
	tally(r, false);
	if (s == JOB_DONE && before != JOB_DONE)
		eta_add(&js->eta, &r->rec);
	/* How long this model usually takes is an estimate for a job under way; a finished
	 * one shows none, as after a restart (it is not stored). */
	if (job_state_is_final(s))
		r->rec.typical_s = -1;
	if (job_state_is_final(s) && !job_state_is_final(before))
		outbox_release(js->conf, r->rec.name); /* its set or report holds the name */
	jr_check_counts(js, &r->rec, "a state change");
}

/* Records a new state: saved before anything else happens, observers told. */
int jr_set_state(struct jrun *r, enum job_state s)
{
	return jr_set_state_in(r, s, r->js->commit);
}

/* The same, through the group commit CM. */
int jr_set_state_in(struct jrun *r, enum job_state s, struct commit *cm)
{
	struct jobs *js = r->js;
	enum job_state before = r->rec.state;
	cm = jr_record_commit(js, r->rec.name, cm);
	jr_move_state(r, s);
	int rc = jr_stage(cm, r);
	if (before != s)
		log_event(LOG_INFO, r->rec.name, r->rec.video_id, "%s → %s", job_state_name(before),
		          job_state_name(s));
	jr_notify_observers(js, &r->rec, before);
	return rc;
}

static void on_timer(void *ud)
{
	jr_advance(ud);
}

/* Runs advance(r) after DELAY_MS (0: on the next loop iteration). */
void jr_schedule(struct jrun *r, long long delay_ms)
{
	if (!r->timer)
		r->timer = loop_timer_new(r->js->loop, on_timer, r);
	loop_timer_arm(r->timer, delay_ms);
}

/* Runs FN(R, err) once R's changes staged so far are durable; until then R waits
 * (advance does nothing for it). */
void jr_after_commit_in(struct jrun *r, struct commit *cm, commit_fn *fn)
{
	r->committing = true;
	commit_then(cm, fn, r);
}

void jr_after_commit(struct jrun *r, commit_fn *fn)
{
	jr_after_commit_in(r, r->js->commit, fn);
}

/*
 * The commit for a change of JS's record NAME that would go through WANT: the other
 * commit if the record is staged there (its previous change is not durable yet), so
 * that a record's changes become durable in the order they were made.
 */
struct commit *jr_record_commit(const struct jobs *js, const char *name, struct commit *want)
{
	struct commit *other = want == js->intents ? js->commit : js->intents;
	if (other && store_staged(other, js->conf->state_dir, name))
		return other;
	return want;
}

/* after_commit for what waits for R's record itself. */
void jr_after_record(struct jrun *r, commit_fn *fn)
{
	jr_after_commit_in(r, jr_record_commit(r->js, r->rec.name, r->js->commit), fn);
}

/* The claim directory of a job (the part of its source before '/'), into buf. */
void jr_claim_of_source(const char *source, char *buf, size_t size)
{
	buf[0] = '\0';
	const char *slash = source ? strchr(source, '/') : NULL;
	if (slash && (size_t)(slash - source) < size) {
		memcpy(buf, source, (size_t)(slash - source));
		buf[slash - source] = '\0';
	}
}

void jr_claim_of(const struct job *j, char *buf, size_t size)
{
	jr_claim_of_source(j->source, buf, size);
}

/* How many jobs came from claim ID, and how many of them are final. */
void jr_claim_counts(const struct jobs *js, const char *id, size_t *total, size_t *final)
{
	const struct jclaim *c = hmap_get(&js->by_claim, id);
	*total = c ? c->total : 0;
	*final = c ? c->final : 0;
}

/* R's final state is durable: its claim directory may go (when it was the last). */
void jr_on_final_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (!err) /* else the directory stays; the next start removes it */
		release_claim_if_done(r->js, &r->rec);
}

/* Removes the claim directory once every job of it is final. */
static void release_claim_if_done(struct jobs *js, const struct job *j)
{
	char id[128];
	jr_claim_of(j, id, sizeof(id));
	if (!id[0])
		return;
	size_t total, final;
	jr_claim_counts(js, id, &total, &final);
	if (total == final)
		inbox_remove_claim(js->conf, id);
}

/* The job or video R starts from: its remix_of or its extend_of (never both,
 * prompt.c), or NULL. Both wait for a source job the same way (resolve_source). */
static const char *source_of(const struct job *j)
{
	return j->remix_of ? j->remix_of : j->extend_of;
}

/* Jobs waiting for R (their source) look again: R is done, or failed. */
static bool waits_for(const struct jrun *w, const void *ud)
{
	const char *src = source_of(&w->rec);
	return src && !strcmp(src, ((const struct jrun *)ud)->rec.name);
}

void jr_wake_dependants(struct jrun *r)
{
	size_t n;
	struct jrun **v = waiting_in_order(r->js, waits_for, r, &n);
	for (size_t i = 0; i < n; i++)
		jr_schedule(v[i], 0);
	free(v);
}

static bool not_asking(const struct jrun *w, const void *ud)
{
	(void)ud;
	return !w->req;
}

void jr_wake_waiting(struct jobs *js)
{
	size_t n;
	struct jrun **v = waiting_in_order(js, not_asking, NULL, &n);
	for (size_t i = 0; i < n; i++)
		jr_schedule(v[i], 0);
	free(v);
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
	/* Its .part files go (made while the video was generated, or by a round a crash
	 * cut short): a start finishing a failure recorded before the crash comes here
	 * without jr_fail_job. */
	jr_close_download(r, DL_DROP_ALL);
	char id[128], input[PATH_MAX] = "", image[PATH_MAX] = "";
	jr_claim_of(&r->rec, id, sizeof(id));
	const char *file = r->rec.source ? strchr(r->rec.source, '/') : NULL;
	size_t total = 0, final = 0;
	if (id[0] && file)
		inbox_claim_path(js->conf, id, file + 1, input, sizeof(input));
	if (id[0] && r->rec.reference)
		inbox_claim_path(js->conf, id, r->rec.reference, image, sizeof(image));
	if (id[0])
		jr_claim_counts(js, id, &total, &final);
	if (outbox_write_failure(js->conf, &r->rec, input[0] ? input : NULL, total <= 1,
	                         image[0] ? image : NULL) != 0) {
		/* The inputs stay in the state directory until failed/ can take them. */
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot write the failure report to %s; trying again in 30 s",
		          js->conf->failed_dir);
		jr_schedule(r, 30000);
		return;
	}
	r->rec.finished_at = jr_now_s();
	jr_set_state(r, JOB_FAILED);
	jr_after_record(r, jr_on_final_durable);
	jr_wake_dependants(r); /* they cannot run now: they fail too */
	jr_pump(js);
}

/* The error is durable: the failure report can be written. */
static void on_error_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) { /* advance finishes the failure later: the record has the error */
		jr_schedule(r, 30000);
		return;
	}
	finish_failure(r);
}

/* Sets the job's error (a sentence in plain words) and finishes it as failed. */
void jr_fail_job(struct jrun *r, const char *code, const char *fmt, ...)
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
	jr_close_download(r, DL_DROP_ALL);
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id, "failed: %s", buf);
	/* Durable first: from here on the job can only end as failed. */
	jr_stage(jr_record_commit(r->js, r->rec.name, r->js->commit), r);
	jr_after_record(r, on_error_durable);
}

/* The plain-words failure for an API error, with the API's own message when useful. */
void jr_fail_from_api(struct jrun *r, const struct api_result *res, const char *doing)
{
	const char *msg = res->error.message;
	const char *code = res->error.code ? res->error.code : api_kind_name(res->kind);
	if (res->kind == API_CONTENT_POLICY)
		jr_fail_job(r, code,
		            "%s\n\nWhat the service said: %s\n\nContent guidelines: no real people "
		            "or public figures, no copyrighted characters or music, no faces in "
		            "reference images, and nothing unsuitable for under-18 audiences. Edit "
		            "the prompt and drop it into the inbox again.",
		            api_kind_describe(res->kind), msg ? msg : "(no details)");
	else
		jr_fail_job(r, code, "While %s: %s\n\nWhat the service said: %s", doing,
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
	jr_set_queued(r, false);
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, NULL, "held: %s", reason);
	jr_set_state(r, JOB_HELD);
}

/* The reason a job waits (held, in doubt) is gone. */
void jr_clear_error(struct jrun *r)
{
	free(r->rec.error);
	r->rec.error = NULL;
	free(r->rec.error_code);
	r->rec.error_code = NULL;
}

/* Back from held to claimed, reason cleared, and on its way. */
void jr_unhold_job(struct jrun *r)
{
	jr_clear_error(r);
	jr_set_state(r, JOB_CLAIMED);
	jr_advance(r);
}

/* What an answer says about the job's video. A create answer or an adoption names the
 * video; once the job follows it (running, downloading), answers never re-key it:
 * gateways answer with "" or the upstream's raw id (providers.md). */
void jr_take_video(struct jrun *r, const struct video *v)
{
	bool following = r->rec.state == JOB_RUNNING || r->rec.state == JOB_DOWNLOADING;
	if (v->id && !following && (!r->rec.video_id || strcmp(r->rec.video_id, v->id) != 0)) {
		jr_set_vid(r, v->id);
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

/* Back to claimed, to be submitted as soon as a slot is free (oldest claim first). */
void jr_requeue(struct jrun *r)
{
	jr_set_state(r, JOB_CLAIMED);
	jr_set_queued(r, true);
	jr_pump(r->js);
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
void jr_first_line(const char *s, char *buf, size_t n)
{
	size_t len = strcspn(s ? s : "", "\n");
	bfmt(buf, n, "%.*s", (int)(len > 200 ? 200 : len), s ? s : "");
}

/* R's source job SRC failed: so does R, before anything was sent for it. */
static void fail_dependant(struct jrun *r, const struct jrun *src)
{
	char why[256];
	jr_first_line(src->rec.error, why, sizeof(why));
	if (r->rec.extend_of)
		jr_fail_job(
		    r, "extend_source_failed",
		    "The video it extends failed: job \"%s\": %s\n\nNothing was sent for "
		    "this job and nothing was spent. Fix that job first, then drop this one "
		    "again.",
		    src->rec.name, why);
	else
		jr_fail_job(r, "remix_source_failed",
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
	struct jrun *src = jr_by_name(r->js, want);
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
			jr_fail_job(
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
		jr_fail_job(r, r->rec.extend_of ? "extend_source_unknown" : "remix_source_unknown",
		            "%s \"%s\" is neither the name of a job sorad knows nor a video id.",
		            r->rec.extend_of ? "extend_of" : "remix_of", want);
		return -1;
	}
	*id = xstrdup(want);
	return 0;
}

/* Decides and starts the next step of job R from its recorded state. */
void jr_advance(struct jrun *r)
{
	struct jobs *js = r->js;
	if (r->req || r->fetching || r->committing || !js->api)
		return; /* a request is in flight or a commit is awaited (their callbacks
		         * continue), or suspended */
	/* A held job's error is the reason it waits (jobs.h), not a failure. */
	if (r->rec.error && r->rec.state != JOB_HELD && !jr_waiting_in_doubt(&r->rec) &&
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
				jr_set_state(r, JOB_WAITING);
			return;
		}
		if (r->rec.state == JOB_WAITING)
			jr_set_state(r, JOB_CLAIMED);
		long long wait = r->next_mono ? r->next_mono - loop_now_ms() : 0;
		if (wait > 0) {
			jr_schedule(r, wait);
			return;
		}
		if (js->api_blocked || js->in_flight >= js->conf->max_in_flight) {
			jr_set_queued(r, true);
			return;
		}
		jr_set_queued(r, false);
		char why[512];
		if (js->gate && js->gate(&r->rec, why, sizeof(why), js->gate_ud) != 0) {
			hold_job(r, JOBS_HOLD_CAP, why);
			return;
		}
		jr_submit(r);
		return;
	}
	case JOB_SUBMITTING:
		jr_reconcile(r);
		return;
	case JOB_RUNNING:
		if (js->api_blocked) {
			jr_schedule(r, (long long)js->conf->poll_max * 1000);
			return;
		}
		jr_poll_job(r);
		return;
	case JOB_DOWNLOADING:
		if (outbox_is_complete(js->conf, r->rec.name)) {
			/* The set was complete when the last run stopped; only the record lagged.
			 */
			r->rec.finished_at = jr_now_s();
			jr_set_state(r, JOB_DONE);
			jr_after_record(r, jr_on_final_durable);
			return;
		}
		jr_start_download(r);
		return;
	case JOB_IN_DOUBT: /* waits for the user (jobs_resolve), or the configured hours */
		jr_auto_resubmit(r);
		return;
	case JOB_HELD:
	case JOB_DONE:
	case JOB_FAILED:
		return;
	}
}

/* Starts queued jobs while there are free slots (submissions and downloads have
 * their own), oldest claim first. */
void jr_pump(struct jobs *js)
{
	if (!js->api || !js->n)
		return;
	size_t max = js->conf->max_in_flight;
	size_t next = 0; /* the seq from which the queue is looked at */
	for (;;) {
		bool submit_room = js->in_flight < max && !js->api_blocked;
		bool download_room = jr_download_room(js);
		if (!submit_room && !download_room)
			return;
		size_t pos = queue_pos(js, next);
		if (pos == js->queue.n)
			return;
		struct jrun *r = js->queue.v[pos];
		next = r->seq + 1;
		if (r->req || r->committing)
			continue;
		if ((r->rec.state == JOB_CLAIMED && submit_room) ||
		    (r->rec.state == JOB_DOWNLOADING && download_room)) {
			jr_set_queued(r, false);
			jr_advance(r);
		}
	}
}

/* R's history line says what its record says: a finished job has one line (a new one
 * when what it says changed), any other none. A failed write is logged by history.c,
 * which then keeps no history until the next start. */
static void history_sync(struct jrun *r)
{
	struct history *h = r->js->hist;
	if (!h)
		return; /* the load: jr_history_load repairs the lines at its end */
	if (job_state_is_final(r->rec.state)) {
		long long old = r->hist_off;
		if (old >= 0 && history_digest(&r->rec) == r->hist_digest)
			return; /* re-recorded: a new line only when it says more */
		/* the new line first: a crash between the two leaves two lines of the job (a
		 * start keeps the later one), never none */
		r->hist_off = history_append(h, &r->rec, &r->hist_digest);
		if (old >= 0)
			history_supersede(h, old);
	} else if (r->hist_off >= 0) {
		history_supersede(h, r->hist_off); /* retried */
		r->hist_off = -1;
	}
}

/* The batch with R's mark came back: the mark is durable, or (ERR) perhaps not: then it
 * is staged again at once, ahead of any later change of R's record (continuations run
 * before the next batch is handed over, commit.h). */
static void mark_committed(void *ud, int err)
{
	struct jrun *r = ud;
	if (!r->marked || r->mark_durable)
		return;
	if (!err) {
		r->mark_durable = true;
		return;
	}
	r->marked = false;
	if (livemark_needed(&r->rec))
		jr_mark(r->mark_cm, r);
}

/* A change of R's record that needs no mark is durable: the mark goes. */
static void unmark_committed(void *ud, int err)
{
	struct jrun *r = ud;
	if (err || !r->marked || !r->mark_durable || livemark_needed(&r->rec))
		return;
	livemark_remove(r->js->conf->state_dir, r->rec.name);
	r->marked = false;
}

void jr_mark(struct commit *cm, struct jrun *r)
{
	struct jobs *js = r->js;
	if (!js->marks_kept)
		return;
	if (!livemark_needed(&r->rec)) {
		if (r->marked)
			commit_then(cm, unmark_committed, r);
		return;
	}
	/* A mark staged in the other commit (intents) and not durable yet is staged here
	 * too: this batch may be durable first. */
	if (r->marked && (r->mark_durable || r->mark_cm == cm))
		return;
	/* A finished job going back (a retry): its history line is marked superseded at
	 * once (history_sync), so its mark is made durable now, not with the record: a start
	 * after a crash in between then reads the record instead of missing the job. */
	bool now = r->hist_off >= 0;
	if (livemark_stage(now ? NULL : cm, js->conf->state_dir, r->rec.name) != 0) {
		char why[256];
		bfmt(why, sizeof(why), "cannot mark %s's record to be read at start: %s",
		     r->rec.name, strerror(errno));
		jr_marks_drop(js, why);
		return;
	}
	r->marked = true;
	r->mark_durable = now;
	r->mark_cm = cm;
	if (!now)
		commit_then(cm, mark_committed, r);
}

void jr_marks_drop(struct jobs *js, const char *why)
{
	livemark_drop(js->conf->state_dir, why);
	js->marks_kept = false;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r)
			r->marked = r->mark_durable = false;
	}
}

int jr_stage(struct commit *cm, struct jrun *r)
{
	if (r->summary) {
		/* a history line is not a record: writing it would lose the rest */
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "state: a change of a finished job known by its history line only "
		          "was not recorded");
#ifdef SORAD_CHECK_COUNTS
		abort();
#endif
		errno = EINVAL;
		return -1;
	}
	jr_unthaw(r);   /* changed: its line is no longer all of it */
	jr_mark(cm, r); /* before the record: durable no later than it (livemark.h) */
	int rc = store_stage(cm, r->js->conf->state_dir, &r->rec);
	tally(r, false); /* an error code changed with the record */
	history_sync(r);
	return rc;
}

struct hist_repair {
	struct jobs *js;
	size_t marked, superseded; /* marked now; superseded before or now */
};

/* A line that says what its finished job's record says is that job's; any other is
 * marked superseded (its job retried, forgotten, or changed since). */
static bool repair_line(const struct history_line *l, void *ud)
{
	struct hist_repair *hr = ud;
	if (l->superseded) {
		hr->superseded++;
		return true;
	}
	struct jrun *r = jr_by_name(hr->js, l->name);
	if (r && r->hist_off == l->off)
		return true; /* a job known by this line (a fast start completed by a full one) */
	if (r && job_state_is_final(r->rec.state) && r->hist_off < 0 &&
	    history_digest(&r->rec) == history_line_digest(l)) {
		r->hist_off = l->off;
		r->hist_digest = history_line_digest(l);
		return true;
	}
	hr->marked++;
	hr->superseded++;
	return history_supersede(hr->js->hist, l->off) == 0;
}

/* The lines of every finished job, in H (a new file or one whose lines were all
 * forgotten); how many. */
static size_t history_fill(struct jobs *js)
{
	size_t n = 0;
	for (size_t i = 0; i < js->n && history_ok(js->hist); i++) {
		struct jrun *r = jr_at(js, i); /* a cold job has its line */
		if (r && job_state_is_final(r->rec.state) && r->hist_off < 0) {
			r->hist_off = history_append(js->hist, &r->rec, &r->hist_digest);
			n++;
		}
	}
	return n;
}

/* More superseded lines than live ones (retries, purges, retention): the file is made
 * again from the jobs in memory. A command reading it meanwhile finds fewer lines and
 * reads those jobs' records instead: slower, never wrong. */
static void history_compact(struct jobs *js, size_t superseded)
{
	char path[PATH_MAX];
	history_close(js->hist);
	js->hist = NULL;
	if (bfmt(path, sizeof(path), "%s/%s", js->conf->state_dir, HISTORY_FILE) != 0 ||
	    (unlink(path) != 0 && errno != ENOENT)) {
		log_warn("history: cannot remove %s to compact it: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r)
			r->hist_off = -1;
	}
	js->hist = history_open(js->conf->state_dir);
	if (!js->hist)
		return; /* the cold jobs' lines stay readable (js->cold.fd): the old file */
	size_t cold = js->cold.n;
	if (jr_cold_rewrite(js) != 0)
		cold = 0; /* thawed: history_fill writes their lines */
	log_info("history: %zu superseded line(s) dropped, %zu kept", superseded,
	         cold + history_fill(js));
}

void jr_history_load(struct jobs *js, bool walked)
{
	const char *dir = js->conf->state_dir;
	if (!js->hist)
		js->hist = history_open(dir);
	if (!js->hist) {
		/* kept by no one, it would go stale: without it the commands read the records */
		char path[PATH_MAX];
		if (bfmt(path, sizeof(path), "%s/%s", dir, HISTORY_FILE) == 0 &&
		    unlink(path) != 0 && errno != ENOENT)
			log_warn(
			    "history: cannot remove %s either (%s): sorad list may show finished "
			    "jobs as they were",
			    path, strerror(errno));
		return;
	}
	struct hist_repair hr = {js, 0, 0};
	long long lines;
	if (walked) { /* a fast start walked it already (jobs_claim.c, fast_line) */
		lines = (long long)js->hist_walked;
		hr.superseded = js->hist_superseded;
	} else {
		lines = history_walk(js->hist, repair_line, &hr);
	}
	size_t added = history_fill(js);
	if (added || hr.marked)
		log_info("history: %lld line(s) read, %zu added, %zu marked superseded", lines,
		         added, hr.marked);
	size_t live = lines > 0 ? (size_t)lines - hr.superseded + added : added;
	if (history_ok(js->hist) && hr.superseded > live) {
		history_trust_drop(dir); /* not whole while it is made again */
		history_compact(js, hr.superseded);
	}
	/* whole from here on: a start after a crash of this daemon may take it as it is */
	if (history_ok(js->hist) && !js->distrust)
		history_trust_set(js->hist, dir, false);
}

/* R counted out of every counter, list and total it is in: it leaves the table. */
static void count_out(struct jrun *r)
{
	count_state(r->js, r->rec.state, -1);
	track_waiting(r, r->rec.state, JOB_STATE_COUNT);
	track_live(r, r->rec.state, JOB_STATE_COUNT);
	count_claim(r, r->rec.state, -1);
	tally(r, true);
}

void jr_unthaw(struct jrun *r)
{
	if (r->thawed) {
		r->thawed = false;
		r->js->cold.thawed--;
	}
}

static void free_run(struct jrun *r)
{
	jr_unthaw(r);
	if (r->hist_off >= 0 && r->js->hist)
		history_supersede(r->js->hist, r->hist_off); /* forgotten or deleted */
	jr_set_queued(r, false);
	hmap_del_val(&r->js->by_name, r->rec.name, r);
	if (r->rec.video_id)
		hmap_del_val(&r->js->by_vid, r->rec.video_id, r);
	if (r->rec.reference)
		hmap_del_val(&r->js->by_ref, r->rec.reference, r);
	commit_cancel(r->js->commit, r);
	commit_cancel(r->js->intents, r);
	refresh_untrack(r->js->refresh, r, r->rec.video_id);
	if (r->req)
		api_req_cancel(r->req);
	jr_close_download(r, DL_KEEP);
	jr_forget_outputs(r);
	loop_timer_free(r->timer);
	free(r->list_after);
	free(r->scan);
	free(r->dl_why);
	job_release(&r->rec);
	free(r);
}

/* Takes the jobs DROP says yes to out of the table (their records stay on disk: the
 * caller removed them or keeps them), uncounted, and frees them. */
void jr_remove_jobs(struct jobs *js, bool (*drop)(const struct jrun *r, const void *ud),
                    const void *ud)
{
	/* With cold jobs, indexed by slot, a slot that empties stays (GONE) until enough
	 * have: then the slots close up and the indexes are made again. */
	bool keep_places = js->cold.n || js->cold.gone;
	size_t kept = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r && drop(r, ud)) {
			count_out(r);
			free_run(r);
			if (keep_places) {
				js->slot[i] = JSLOT_GONE;
				js->cold.gone++;
				kept++;
			}
		} else {
			js->slot[kept++] = js->slot[i];
		}
	}
	if (keep_places && js->cold.gone > 1024 && js->cold.gone > js->n / 4)
		jr_cold_reindex(js);
	else if (kept != js->n) {
		js->n = kept;
		jr_rebuild_index(js);
	}
	jr_check_counts(js, NULL, "removing jobs");
}

/* R may leave memory for a cold slot: finished, its line saying what its record says,
 * nothing under way for it, and its claim closed. */
static bool freezable(const struct jrun *r)
{
	const struct jobs *js = r->js;
	return job_state_is_final(r->rec.state) && r->hist_off > 0 &&
	       history_digest(&r->rec) == r->hist_digest && !r->req && !r->fetching &&
	       !r->committing && !r->queued && !(r->timer && loop_timer_armed(r->timer)) &&
	       (!r->claim || r->claim->total == r->claim->final) &&
	       !store_staged(js->commit, js->conf->state_dir, r->rec.name);
}

/* Every job in memory that FREEZABLE and ONLY_THAWED allow becomes a cold slot (its
 * line the one at its hist_off); how many. The cold indexes are the caller's. */
static size_t freeze_jobs(struct jobs *js, bool only_thawed)
{
	size_t frozen = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (!r || (only_thawed && !r->thawed))
			continue;
		if (!freezable(r)) {
			if (r->thawed && history_digest(&r->rec) != r->hist_digest)
				jr_unthaw(r); /* its line no longer says all of it: it stays */
			continue;
		}
		uintptr_t w = jr_slot_of_line(r->hist_off, r->rec.state == JOB_FAILED);
		jr_cold_count(js, &r->rec, 1); /* its share of the totals is the cold one's */
		count_out(r);
		if (r->rec.reference)
			jr_cold_ref(js, r->rec.reference);
		r->hist_off = -1; /* its line stays: the cold job's */
		free_run(r);
		js->slot[i] = w;
		js->cold.n++;
		frozen++;
	}
	return frozen;
}

void jr_refreeze_thawed(struct jobs *js)
{
	if (js->cold.thawed < js->cold.thawed_max || js->cold.fd < 0)
		return;
	size_t n = freeze_jobs(js, true); /* their slots are still in the indexes */
	log_debug("state: %zu finished job(s) read from their history line went back to it", n);
	jr_check_counts(js, NULL, "sending thawed jobs back");
}

void jr_freeze_finished(struct jobs *js)
{
	if (!history_ok(js->hist))
		return;
	if (js->cold.fd < 0 && (js->cold.fd = history_reader(js->hist)) < 0)
		return;
	size_t frozen = freeze_jobs(js, false);
	if (!frozen)
		return;
	jr_cold_reindex(js); /* reads their lines back: the indexes, the name index */
	log_info("state: %zu finished job(s) kept as their %s line only from now on", frozen,
	         HISTORY_FILE);
	jr_check_counts(js, NULL, "freezing finished jobs");
}

/* ---- lifetime ------------------------------------------------------------------- */

/* What gave way to creates may go now (yield_to_creates). */
static void on_yield_timer(void *ud)
{
	struct jobs *js = ud;
	jr_pump(js);
	if (js->claimq.head < js->claimq.n && !loop_timer_armed(js->claimq.timer))
		loop_timer_arm(js->claimq.timer, 0);
}

struct jobs *jobs_new(struct loop *l, struct api_client *api, const struct conf *c,
                      struct commit *cm)
{
	struct jobs *js = xcalloc(1, sizeof(*js));
	js->commit = cm;
	js->loop = l;
	js->api = api;
	js->conf = c;
	js->refresh = refresh_new(l, api, jr_on_refresh_seen, jr_on_refresh_miss, js);
	js->dupes = dupes_new();
	js->cold.fd = -1;
	js->cold.thawed_max = COLD_THAWED_MAX;
	js->yield_timer = loop_timer_new(l, on_yield_timer, js);
	js->retry = claimretry_new(l, jr_on_claim_retry, js);
	if (jr_callbacks_expected(c))
		jr_expect_callbacks(js);
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
	jr_deletes_abandon(js);
	refresh_free(js->refresh);
	js->refresh = NULL;
	dupes_free(js->dupes);
	js->dupes = NULL;
	struct history *hist = js->hist;
	js->hist = NULL; /* the jobs freed below keep their lines: they are not forgotten */
	for (size_t i = js->claimq.head; i < js->claimq.n; i++)
		free(js->claimq.v[i]); /* still in the inbox: claimed at the next start */
	free(js->claimq.v);
	loop_timer_free(js->claimq.timer);
	loop_timer_free(js->yield_timer);
	if (js->cold.sweep)
		loop_timer_free(js->cold.sweep);
	if (js->archive_timer)
		loop_timer_free(js->archive_timer);
	claimretry_free(js->retry); /* still in the inbox: claimed at the next start */
	inbox_spares_clear();
	outbox_spares_clear();
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r)
			free_run(r);
	}
	free(js->slot);
	jr_cold_free(js);
	free(js->queue.v);
	free(js->waiting.v);
	free(js->live.v);
	size_t pos = 0;
	void *c;
	while (hmap_next(&js->by_claim, &pos, NULL, &c))
		free(c);
	hmap_release(&js->by_claim);
	hmap_release(&js->by_vid);
	hmap_release(&js->by_ref);
	hmap_release(&js->by_name);
	if (history_ok(hist) && !js->distrust) /* synced: the next start may trust it */
		history_trust_set(hist, js->conf->state_dir, true);
	history_close(hist);
	for (size_t i = 0; i < js->n_gen; i++)
		free(js->gen[i].model);
	free(js->gen);
	free(js);
}

void jobs_set_conf(struct jobs *js, const struct conf *c)
{
	bool was = jr_callbacks_expected(js->conf), now = jr_callbacks_expected(c);
	js->conf = c;
	if (now && !was)
		jr_expect_callbacks(js);
	else if (was && !now)
		js->callbacks_live = false; /* until a callback comes (callback_listen alone) */
	js->api_blocked = false;
	jr_archive_start(js);
	jr_pump(js);
}

void jobs_suspend(struct jobs *js)
{
	jr_deletes_abandon(js);
	js->api = NULL; /* nothing may start until jobs_set_api */
	refresh_suspend(js->refresh);
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (!r)
			continue;
		if (r->req) {
			api_req_cancel(r->req);
			r->req = NULL;
		}
		jr_close_download(r, DL_DROP_PARTIAL);
		if (r->timer)
			loop_timer_disarm(r->timer);
	}
}

void jobs_set_api(struct jobs *js, struct api_client *api)
{
	js->api = api;
	js->api_blocked = false;
	refresh_set_api(js->refresh, api);
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r && !job_state_is_final(r->rec.state))
			jr_schedule(r, 0);
	}
}

size_t jobs_count(const struct jobs *js, enum job_state s)
{
	if ((unsigned)s >= JOB_STATE_COUNT)
		return 0;
	size_t cold = s == JOB_DONE     ? js->cold.by_state[0]
	              : s == JOB_FAILED ? js->cold.by_state[1]
	                                : 0;
	return js->by_state[s] + cold;
}

const struct pollplan_stats *jobs_poll_stats(const struct jobs *js)
{
	return &js->poll_stats;
}

size_t jobs_generated_models(const struct jobs *js)
{
	return js->n_gen;
}

unsigned long long jobs_generated(const struct jobs *js, size_t i, const char **model)
{
	*model = i < js->n_gen ? js->gen[i].model : "";
	return i < js->n_gen ? js->gen[i].seconds : 0;
}

size_t jobs_downloading(const struct jobs *js)
{
	return js->dl_active;
}

size_t jobs_rejected(const struct jobs *js)
{
	return js->rejected;
}

size_t jobs_total(const struct jobs *js)
{
	return js->n;
}

size_t jobs_known(const struct jobs *js)
{
	return js->n - js->cold.gone;
}

const struct job *jobs_at(const struct jobs *js, size_t i)
{
	if (i >= js->n)
		return NULL;
	/* thawing fills a cache of what the table holds; the jobs do not change */
	struct jrun *r = jr_thaw((struct jobs *)(uintptr_t)js, i);
	return r ? &r->rec : NULL;
}

enum job_state jobs_state_at(const struct jobs *js, size_t i)
{
	if (i >= js->n || js->slot[i] == JSLOT_GONE)
		return JOB_STATE_COUNT;
	const struct jrun *r = jr_at(js, i);
	return r ? r->rec.state : jr_slot_state(js->slot[i]);
}

void jobs_each_whole(const struct jobs *js, void (*fn)(const struct job *j, void *ud), void *ud)
{
	for (size_t i = 0; i < js->n; i++) {
		const struct jrun *r = jr_at(js, i);
		if (r && !r->summary)
			fn(&r->rec, ud);
	}
}

bool jobs_name_a_reference(const struct jobs *js, const char *image)
{
	return hmap_get(&js->by_ref, image) != NULL || jr_cold_names_ref(js, image);
}

size_t jobs_index(const struct jobs *js, const struct job *j)
{
	if (!j)
		return (size_t)-1;
	/* A record is the first member of its struct jrun; jobs.v is in seq order. */
	const struct jrun *r = (const struct jrun *)(const void *)j;
	return r->seq < js->n && js->slot[r->seq] == (uintptr_t)r ? r->seq : (size_t)-1;
}

const struct job *jobs_whole(const struct jobs *js, const struct job *j)
{
	(void)js;
	if (j) {
		/* J is the first member of its struct jrun; reading the record fills a cache of
		 * what the job says, which does not change it */
		struct jrun *r = (struct jrun *)(uintptr_t)j;
		jr_full(r);
	}
	return j;
}

void jobs_repair_at_start(struct jobs *js)
{
	if (!js->distrust)
		history_trust_drop(js->conf->state_dir);
	js->distrust = true;
}

bool jobs_is_summary(const struct job *j)
{
	return ((const struct jrun *)(const void *)j)->summary;
}

unsigned long long jobs_stamp(const struct job *j)
{
	return j ? ((const struct jrun *)(const void *)j)->stamp : 0;
}

const struct job *jobs_find(const struct jobs *js, const char *name_or_id)
{
	struct jrun *r = jr_by_name_or_id(js, name_or_id);
	return r ? &r->rec : NULL;
}

void jobs_set_gate(struct jobs *js, jobs_gate_fn *fn, void *ud)
{
	js->gate = fn;
	js->gate_ud = ud;
}
