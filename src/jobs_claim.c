/*
 * jobs_claim.c — claims: an inbox file claimed (inbox.h) becomes job records (names,
 * duplicates, holds for approval), a few per loop turn; and the start: the records
 * loaded (after a clean stop or a crash on this boot, only those marked in STATE/live,
 * the finished jobs taken from STATE/history.tsv as summaries: load_fast), claims a
 * crash interrupted recorded again, records that cannot be read brought back in doubt,
 * a file that crashed sorad twice not read again.
 */
#include "jobs_int.h"

#include "catalog.h"
#include "claimretry.h"
#include "dupes.h"
#include "eta.h"
#include "history.h"
#include "inbox.h"
#include "livemark.h"
#include "log.h"
#include "outbox.h"
#include "pollplan.h"
#include "prompt.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- claiming -------------------------------------------------------------------- */

/*
 * True when claim ID was recorded completely: each of its records says how many jobs
 * the claim made and that many exist. A claim with a job that was ever submitted or
 * finished counts as recorded too: records are committed in order, so a submission
 * proves its claim's records were all durable (jobs forgotten since do not undo that).
 */
static bool claim_recorded(const struct jobs *js, const char *id)
{
	size_t all, final;
	jr_claim_counts(js, id, &all, &final);
	if (final > 0)
		return true; /* a finished job of it proves it, as a submitted one does */
	/* Every job of it is in flight, then: only those are looked at (not the history). */
	size_t total = 0;
	bool counts_ok = true, progressed = false;
	unsigned want = 0;
	for (size_t i = 0; i < js->live.n && total < all; i++) {
		const struct job *j = &js->live.v[i]->rec;
		char c[128];
		jr_claim_of(j, c, sizeof(c));
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

/* A name for SPEC's job that no job, output or failure report uses yet. */
static char *unique_name(const struct jobs *js, const char *want, const char *owner)
{
	char buf[PROMPT_NAME_MAX + 16];
	bcopy_str(buf, sizeof(buf), want);
	/* Reserved on disk (outbox.h), so that a daemon sharing the outbox takes another. */
	for (unsigned n = 2; jr_by_name(js, buf) || outbox_name_taken(js->conf, buf) ||
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
	j->claimed_at = jr_now_s();
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
	const struct jrun *o = prev ? jr_by_name(js, prev) : NULL;
	if (s->again || !c->duplicate_skip || !c->duplicate_window_days || !o ||
	    o->rec.state == JOB_FAILED ||
	    jr_now_s() - at > (long long)c->duplicate_window_days * 86400)
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
		made[i] = jr_add_job(js, &j);
		if (jr_stage(cm, made[i]) != 0) {
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
			/* Announced below, with its claim's other jobs, as new. */
			jr_move_state(r, JOB_HELD);
			if (jr_stage(cm, r) != 0)
				log_event(LOG_ERROR, r->rec.name, NULL, "cannot record the hold");
			log_event(LOG_WARNING, r->rec.name, NULL, "held: %s", why);
		}
	}
	/* The claim is complete once all its records are durable (each says how many
	 * there are); nothing of it is submitted before that (commits are in order). */
	/* Remixes that were waiting for a source still in the inbox look again. */
	jr_wake_waiting(js);
	for (size_t i = 0; i < cl->pf.n; i++) {
		struct jrun *r = made[i];
		jr_notify_observers(js, &r->rec, r->rec.state);
		if (r->rec.error && r->rec.state != JOB_HELD)
			log_event(LOG_WARNING, r->rec.name, NULL, "failed: %s", r->rec.error);
		jr_advance(r); /* a spec with an error goes straight to failed/ */
	}
	free(made);
	jr_check_counts(js, NULL, "a claim");
}

/* The claim directories and output-name reservations made ahead (spares.h), when their
 * pools run low. */
static void fill_spares(struct jobs *js)
{
	inbox_spares_fill(js->conf, js->commit);
	outbox_spares_fill(js->conf, js->commit);
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
	fill_spares(js);
}

/* Claims the next few queued names; the rest wait for the next loop iteration, so
 * that a large drop is committed and submitted in chunks while it is being claimed. */
static void on_claim_timer(void *ud)
{
	struct jobs *js = ud;
	for (size_t k = 0; k < JOBS_CLAIMS_PER_TURN && js->claimq.head < js->claimq.n; k++) {
		if (js->claimed >= JOBS_CLAIMS_PER_TURN && jr_yield_to_creates(js))
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
void jr_on_claim_retry(const char *name, void *ud)
{
	jobs_claim(ud, name);
}

struct load {
	struct jobs *js;
	bool (*stop)(void *ud);
	void *ud;
	size_t seen;
};

/* Now and then (a syscall each time): may the load go on, or is the daemon asked to
 * stop? */
static bool load_goes_on(struct load *ld)
{
	return !ld->stop || ++ld->seen % 512 != 0 || !ld->stop(ld->ud);
}

/* What a finished job teaches: how long generations take (eta.h, pollplan.h). */
static void learn_from(struct jobs *js, const struct job *j)
{
	/* what a service takes now is what recent jobs took: a long history's old jobs
	 * teach nothing the window of recent ones (eta.h, pollplan.h) does not */
	if (j->finished_at >= 0 && j->finished_at < jr_now_s() - JOBS_LEARN_DAYS * 86400LL)
		return;
	eta_add(&js->eta, j);
	if (j->state == JOB_DONE && j->video_created_at > 0 &&
	    j->video_completed_at >= j->video_created_at) {
		char key[POLLPLAN_KEY_MAX];
		pollplan_key(key, sizeof(key), j->model, j->size, j->seconds);
		pollplan_learn(&js->durations, key,
		               (j->video_completed_at - j->video_created_at) * 1000);
	}
}

static bool loaded(struct job *j, void *ud)
{
	struct load *ld = ud;
	struct jobs *js = ld->js;
	bool go = load_goes_on(ld);
	if (jr_by_name(js, j->name)) {
		log_event(LOG_ERROR, j->name, j->video_id, "store: duplicate record ignored");
		job_release(j);
		return go;
	}
	learn_from(js, j);
	jr_add_job(js, j);
	return go;
}

/* The records not read yet (a fast start completed by a full one): a job known by its
 * history line keeps it. */
static bool loaded_rest(struct job *j, void *ud)
{
	struct load *ld = ud;
	if (jr_by_name(ld->js, j->name)) {
		job_release(j);
		return load_goes_on(ld);
	}
	return loaded(j, ud);
}

/* ---- the fast start (issue 20): the marked records and the history's lines ------- */

/* A list of names (marks, records found unreadable), owned. */
struct names {
	char **v;
	size_t n, cap;
};

static void name_add(const char *name, void *ud)
{
	struct names *ns = ud;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 64;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n++] = xstrdup(name);
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int by_claim_time(const void *a, const void *b);

struct fast_walk {
	struct load *ld;
	size_t summaries, superseded;
	bool stopped, failed;
	struct hmap open;     /* the claims still in STATE/inputs: id → itself (owned) */
	long long learn_from; /* learn_from's cut-off (unix s) */
};

static void open_claim(const char *id, bool marked, void *ud)
{
	(void)marked;
	struct fast_walk *fw = ud;
	hmap_set_add(&fw->open, id);
}

static bool is_run(const struct jrun *r, const void *ud)
{
	return r == ud;
}

/* One line of STATE/history.tsv at a fast start: a finished job known by it (a
 * summary), unless its record was read (a marked job: the line is its own only when it
 * says what the record says, else it is marked superseded). */
static bool fast_line(const struct history_line *l, void *ud)
{
	struct fast_walk *fw = ud;
	struct jobs *js = fw->ld->js;
	if (!load_goes_on(fw->ld)) {
		fw->stopped = true;
		return false;
	}
	if (l->superseded) {
		fw->superseded++;
		return true;
	}
	struct jrun *r = jr_by_name(js, l->name);
	if (r && !r->summary) {
		if (job_state_is_final(r->rec.state) && r->hist_off < 0 &&
		    history_digest(&r->rec) == history_line_digest(l)) {
			r->hist_off = l->off;
			r->hist_digest = history_line_digest(l);
			return true;
		}
		fw->superseded++;
		if (history_supersede(js->hist, l->off) != 0)
			fw->failed = true;
		return !fw->failed;
	}
	if (r) {
		/* a later line of the same job (a crash between appending it and marking the
		 * one before): the later one says it; the job leaves, its line superseded */
		jr_remove_jobs(js, is_run, r);
		fw->summaries--;
		fw->superseded++;
	}
	fw->summaries++;
	/* A job of a claim still open stays in memory: the claim's counts and its
	 * recovery (redo_claim) need every job of it. Any other is cold (jobs_cold.c). */
	char id[128];
	jr_claim_of_source(l->source, id, sizeof(id));
	if (!(id[0] && fw->open.n && hmap_get(&fw->open, id)) && jr_cold_collect(js, l) == 0) {
		if (l->finished_at >= 0 && l->finished_at < fw->learn_from)
			return true; /* learn_from would not learn from it */
		struct job v;
		job_init(&v); /* what learn_from reads, borrowed from the line */
		v.state = l->state;
		v.model = *l->model ? (char *)(uintptr_t)l->model : NULL;
		v.size = *l->size ? (char *)(uintptr_t)l->size : NULL;
		v.seconds = l->seconds;
		v.claimed_at = l->claimed_at;
		v.submit_at = l->submit_at;
		v.finished_at = l->finished_at;
		v.video_created_at = l->video_created_at;
		v.video_completed_at = l->video_completed_at;
		learn_from(js, &v);
		return true;
	}
	struct job j;
	job_init(&j);
	history_line_job(l, &j);
	learn_from(js, &j);
	r = jr_add_job(js, &j);
	r->summary = true;
	r->hist_off = l->off;
	r->hist_digest = history_line_digest(l);
	return true;
}

/*
 * A start that trusts STATE/history.tsv (history_trusted) and STATE/live (livemark.h):
 * the marked records are read, the finished jobs taken from their lines. Returns the
 * number of jobs, -2 when the daemon was asked to stop, -3 when this start cannot be
 * fast (nothing done: the caller reads every record), or -4 when it failed midway (the
 * caller reads the records not read yet).
 */
static int load_fast(struct jobs *js, struct load *ld, long stale_pid)
{
	const char *dir = js->conf->state_dir;
	struct names ns = {0};
	if (!history_current(dir) || livemark_each(dir, name_add, &ns) < 0) {
		names_free(&ns);
		return -3;
	}
	js->hist = history_open(dir);
	if (!js->hist) {
		names_free(&ns);
		return -3;
	}
	int n = store_load_names(dir, (const char *const *)ns.v, ns.n, stale_pid, loaded, ld);
	size_t marked = ns.n;
	names_free(&ns);
	if (n == -2)
		return -2;
	if (n < 0)
		return -4;
	struct fast_walk fw = {
	    ld, 0, 0, false, false, HMAP_INIT, jr_now_s() - JOBS_LEARN_DAYS * 86400LL};
	inbox_claims_each(js->conf, open_claim, &fw);
	jr_cold_begin(js);
	long long lines = history_walk(js->hist, fast_line, &fw);
	jr_cold_finish(js, by_claim_time);
	hmap_set_release(&fw.open);
	if (fw.stopped)
		return -2;
	js->hist_superseded = fw.superseded;
	js->hist_walked = lines < 0 ? 0 : (size_t)lines;
	if (lines < 0 || fw.failed || !history_ok(js->hist)) {
		log_warn("state: %s/%s cannot be read whole: reading every record", dir,
		         HISTORY_FILE);
		return -4;
	}
	log_info("state: %d record(s) read (%zu marked), %zu finished job(s) from %s", n, marked,
	         fw.summaries, HISTORY_FILE);
	return (int)js->n;
}

/* Whether every claim directory's jobs are known well enough for a fast start to
 * decide about it: some job of it is here and the claim was recorded whole. */
struct accounted {
	const struct jobs *js;
	bool all;
};

static void claim_accounted(const char *id, bool marked, void *ud)
{
	struct accounted *a = ud;
	size_t total, final;
	jr_claim_counts(a->js, id, &total, &final);
	if (!total || !(marked || claim_recorded(a->js, id)))
		a->all = false;
}

/* Where J's claim stands in claim order within its second: the claim id
 * (inbox_claim: "MS-PID-SEQ/file") gives the millisecond and the daemon's own
 * sequence; 0s when J has none (an older record). */
/* The decimal number at S (at most 19 digits), *END past it. */
static unsigned long long leading_number(const char *s, const char **end)
{
	unsigned long long v = 0;
	for (int k = 0; k < 19 && *s >= '0' && *s <= '9'; k++, s++)
		v = v * 10 + (unsigned)(*s - '0');
	*end = s;
	return v;
}

static void claim_key(const char *s, unsigned long long *ms, unsigned long long *seq)
{
	*ms = *seq = 0;
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!slash)
		return;
	const char *end;
	*ms = leading_number(s, &end);
	const char *dash = memrchr(s, '-', (size_t)(slash - s));
	if (dash && dash > end)
		*seq = leading_number(dash + 1, &end);
}

/* Claim order, as it was while the jobs were claimed: time, then the claim's own order
 * (its millisecond, sequence and line), then the name. */
uint64_t jr_claim_key(long long claimed_at, const char *source, unsigned line)
{
	unsigned long long ms, seq;
	claim_key(source, &ms, &seq);
	/* 34 bits of seconds (to the year 2514), 10 of the millisecond, the sequence's low 6
	 * bits (claims in one millisecond), 14 bits of line (a batch holds at most
	 * PROMPT_BATCH_MAX): equal keys are left to the tie-breaks. The millisecond is the
	 * claim id's against claimed_at's second, as by_claim_time compares them: claimed_at
	 * is time(), a coarse clock a few ms behind the id's, so an id of the next second
	 * (ms % 1000 near 0) is after the others of claimed_at's second, not before them
	 * (a fast start listed such jobs out of their order). Within a few ms of the
	 * second the offset fits; beyond, it is clamped and the tie-breaks decide. */
	uint64_t at = 0, sub = 0;
	if (claimed_at > 0 && claimed_at <= 0x3FFFFFFFFLL) {
		at = (uint64_t)claimed_at;
		uint64_t base = at * 1000;
		if (ms + 8 > base)
			sub = ms + 8 - base > 1023 ? 1023 : ms + 8 - base;
	}
	return at << 30 | sub << 20 | (uint64_t)(seq & 0x3F) << 14 |
	       (uint64_t)(line < 16383 ? line : 16383);
}

/* Two slots holding jobs in memory (struct jrun *). */
static int by_claim_time(const void *a, const void *b)
{
	const struct jrun *x = (const struct jrun *)*(const uintptr_t *)a;
	const struct jrun *y = (const struct jrun *)*(const uintptr_t *)b;
	if (x->rec.claimed_at != y->rec.claimed_at)
		return x->rec.claimed_at < y->rec.claimed_at ? -1 : 1;
	unsigned long long xm, xs, ym, ys;
	claim_key(x->rec.source, &xm, &xs);
	claim_key(y->rec.source, &ym, &ys);
	if (xm != ym)
		return xm < ym ? -1 : 1;
	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (x->rec.line != y->rec.line)
		return x->rec.line < y->rec.line ? -1 : 1;
	return strcmp(x->rec.name, y->rec.name);
}

/* LOST names a record of spec name WANT: WANT itself, or WANT-N (unique_name). */
static const char *lost_match(const struct names *l, const char *want)
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
		const struct jrun *r = jr_at(js, i); /* a claim still open has no cold job */
		char c[128];
		if (!r)
			continue;
		jr_claim_of(&r->rec, c, sizeof(c));
		if (!strcmp(c, id) && r->rec.line == line)
			return true;
	}
	return false;
}

/*
 * The jobs of claim CL whose records were durable once but cannot be read now: each
 * may have sent a create, so none is processed again as new work. Each comes back in
 * doubt, with its input kept in the claim, for the user to decide. Returns how many.
 */
static size_t restore_lost(struct jobs *js, const struct claim *cl, const struct names *lost)
{
	size_t n = 0;
	for (size_t i = 0; i < cl->pf.n; i++) {
		const struct job_spec *s = &cl->pf.jobs[i];
		if (claim_line_recorded(js, cl->id, s->line))
			continue;
		const char *was = lost_match(lost, s->name);
		char help[1024];
		char *name =
		    was && !jr_by_name(js, was) ? xstrdup(was) : unique_name(js, s->name, cl->id);
		struct job j;
		job_from_spec(js, cl, s, name, &j);
		j.state = JOB_IN_DOUBT;
		j.creates = j.creates_allowed = 1;
		j.next_at_ms = jr_now_ms_real();
		j.error = xasprintf(
		    "This job's record in the state directory could not be read%s%s%s (it was "
		    "moved to %s/corrupt/). It may have sent its create already, so it is not "
		    "sent again on a guess: the service may have made this video (and charged "
		    "for it).\n\n%s",
		    was ? " (" : "", was ? was : "", was ? ".json)" : "", js->conf->state_dir,
		    jr_decide_help(name, help, sizeof(help)));
		j.error_code = xstrdup(JOBS_DOUBT);
		struct jrun *r = jr_add_job(js, &j);
		if (jr_stage(js->commit, r) != 0)
			log_event(LOG_ERROR, r->rec.name, NULL, "cannot record the job");
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "in doubt: the record of %s%s%.0u could not be read; its input is kept "
		          "and nothing is sent until `sorad resolve`",
		          cl->file, s->line ? " line " : "", s->line);
		jr_notify_observers(js, &r->rec, r->rec.state);
		n++;
	}
	return n;
}

/* Whether R came from claim ID. */
static bool of_claim(const struct jrun *r, const void *id)
{
	char c[128];
	jr_claim_of(&r->rec, c, sizeof(c));
	return !strcmp(c, id);
}

/* Drops the partial records of claim ID (none was submitted: a claim's records are
 * all durable before any of its creates), to record it again. */
static void drop_claim_records(struct jobs *js, const char *id)
{
	for (size_t i = 0; i < js->n; i++) {
		const struct jrun *r = jr_at(js, i);
		if (r && of_claim(r, id))
			store_remove(js->conf->state_dir, r->rec.name);
	}
	jr_remove_jobs(js, of_claim, id);
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

/* What redo_claim works with. */
struct redo {
	struct jobs *js;
	const struct names *lost;
};

/*
 * Claim ID is processed again if its records were not all written before a crash. A
 * claim one of whose records was durable but cannot be read (LOST) is not: its lost
 * jobs come back in doubt (restore_lost), and the claim stays until they are decided.
 */
static void redo_claim(const char *id, bool marked, void *ud)
{
	const struct redo *rd = ud;
	struct jobs *js = rd->js;
	const struct names *lost = rd->lost;
	size_t total, final;
	jr_claim_counts(js, id, &total, &final);
	bool recorded = marked || claim_recorded(js, id);
	if (recorded && !lost->n) {
		if (total == final) /* every job final: only the cleanup was missed */
			inbox_remove_claim(js->conf, id);
		return;
	}
	struct claim cl;
	int rc = inbox_reprocess(js->conf, id, &cl);
	if (rc != 0 && rc != 2) {
		if (!recorded)
			inbox_remove_claim(js->conf, id);
		return;
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

struct mark_names {
	struct hmap set; /* name → itself (owned) */
};

static void mark_found(const char *name, void *ud)
{
	struct mark_names *mn = ud;
	hmap_set_add(&mn->set, name);
}

static void marks_free(struct mark_names *mn)
{
	hmap_set_release(&mn->set);
}

/* STATE/live made from the jobs just read (a state directory from before it, or one whose
 * marks could not be kept). */
static void marks_make(struct jobs *js)
{
	const char **names = xcalloc(js->n ? js->n : 1, sizeof(*names));
	size_t n = 0;
	for (size_t i = 0; i < js->n; i++) {
		const struct jrun *r = jr_at(js, i); /* a cold job is finished: no mark */
		if (r && livemark_needed(&r->rec))
			names[n++] = r->rec.name;
	}
	if (livemark_make(js->conf->state_dir, names, n) == 0) {
		js->marks_kept = true;
		for (size_t i = 0; i < js->n; i++) {
			struct jrun *r = jr_at(js, i);
			if (r)
				r->marked = r->mark_durable = livemark_needed(&r->rec);
		}
		log_info("state: %s/%s made: %zu record(s) to read at start", js->conf->state_dir,
		         LIVEMARK_DIR, n);
	}
	free(names);
}

void jr_marks_load(struct jobs *js)
{
	const char *dir = js->conf->state_dir;
	struct mark_names mn;
	hmap_init(&mn.set);
	if (livemark_each(dir, mark_found, &mn) < 0) {
		if (errno != ENOENT)
			livemark_drop(dir, "its marks cannot be read");
		marks_free(&mn);
		marks_make(js);
		return;
	}
	js->marks_kept = true;
	size_t missing = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i); /* a cold job's mark, if any, is removed below */
		if (!r)
			continue;
		char *k = hmap_del(&mn.set, r->rec.name);
		bool has = k != NULL;
		free(k);
		r->marked = r->mark_durable = has;
		if (livemark_needed(&r->rec) && !has) {
			/* a writer broke the rule, or a record was put here by hand */
			missing++;
			log_warn("[job=%s] state: its record (%s) had no mark in %s/%s; made now",
			         r->rec.name, job_state_name(r->rec.state), dir, LIVEMARK_DIR);
			jr_mark(js->commit, r);
		} else if (!livemark_needed(&r->rec) && has) {
			livemark_remove(dir, r->rec.name); /* its final change was durable */
			r->marked = r->mark_durable = false;
		}
	}
	size_t pos = 0;
	const char *k;
	void *v;
	while (hmap_next(&mn.set, &pos, &k, &v))
		livemark_remove(dir, k); /* its record is gone */
	marks_free(&mn);
#ifdef SORAD_CHECK_COUNTS
	if (missing) {
		log_error("state: %zu record(s) needing a mark had none", missing);
		abort();
	}
#endif
}

int jobs_load(struct jobs *js)
{
	return jobs_load_until(js, NULL, NULL);
}

int jobs_load_until(struct jobs *js, bool (*stop)(void *ud), void *ud)
{
	if (store_open(js->conf->state_dir) != 0)
		return -1;
	struct load ld = {js, stop, ud, 0};
	const char *dir = js->conf->state_dir;
	long stale_pid = 0;
	int n = -3;
	if (livemark_kept(dir) && history_trusted(dir, &stale_pid))
		n = load_fast(js, &ld, stale_pid);
	bool fast = n >= 0;
	if (fast) {
		struct accounted a = {js, true};
		inbox_claims_each(js->conf, claim_accounted, &a);
		if (!a.all) {
			log_info("state: a claim was interrupted: reading every record");
			n = -4;
			fast = false;
		}
	}
	if (n == -4) { /* the fast start could not decide alone: the rest of the records */
		jr_cold_thaw_all(js);
		n = store_load_all(dir, loaded_rest, &ld);
	} else if (n == -3)
		n = store_load_all(dir, loaded, &ld);
	if (n == -2) {
		log_info("state: the load was stopped after %zu record(s)", js->n);
		return -2;
	}
	if (n < 0)
		return -1;
	/* Claim order survives restarts; the index is rebuilt after sorting. A fast start
	 * with cold jobs placed every job already (jr_cold_finish). */
	if (js->n > 1 && !js->cold.n && !js->cold.gone)
		qsort(js->slot, js->n, sizeof(*js->slot), by_claim_time);
	jr_rebuild_index(js);
	jr_marks_load(js); /* before anything is staged: the records as they were read */
	struct names lost = {0};
	store_corrupt_names(js->conf->state_dir, name_add, &lost); /* unreadable records */
	struct redo rd = {js, &lost};
	inbox_claims_each(js->conf, redo_claim, &rd);
	names_free(&lost);
	jr_apply_resolutions(js);
	jr_history_load(js, fast);
	if (!fast)
		jr_freeze_finished(js); /* memory as after a fast start */
	jr_check_counts(js, NULL, "the load");
	size_t resumed = 0;
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r && !job_state_is_final(r->rec.state)) {
			resumed++;
			jr_schedule(r, 0);
		}
	}
	if (js->cold.n)
		log_info(
		    "state: %zu finished job(s) kept as their %s line only, read when asked for",
		    js->cold.n, HISTORY_FILE);
	log_info("state: %zu job(s) loaded, %zu to resume", jobs_known(js), resumed);
	fill_spares(js); /* ready for the first drop */
	jr_archive_start(js);
	return (int)jobs_known(js);
}
