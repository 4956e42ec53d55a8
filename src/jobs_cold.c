/*
 * jobs_cold.c — finished jobs known by their STATE/history.tsv line only: "cold" jobs.
 *
 * A start after a clean stop (or a crash on the same boot) takes the finished jobs from
 * their history lines (jobs_claim.c, load_fast). Most are never asked about again, so
 * each stays a slot of the job table holding where its line is and whether it failed
 * (8 bytes), found by name or video id through two compact indexes (coldidx.h, about
 * 5 bytes each), its line read back to confirm a match. What the process keeps per
 * finished job no longer grows with what the job recorded: a million of them cost
 * about 20 MiB instead of 1.7 GiB, and a start reads one file instead of making a
 * million objects.
 *
 * A cold job asked for (by name, by video id, by its place in the list) is thawed: its
 * line becomes a struct jrun summary in its own slot, exactly as a start made every
 * finished job before (jr_full reads its record when it is to be shown whole or
 * changed). The per-state counters and the totals for /metrics count cold jobs in
 * struct jcold and move them to the struct jrun when it is thawed.
 *
 * Claim order is the table's order; a cold job's place is decided once, at the load,
 * from its line (jr_claim_key); the jobs in memory are placed among them by the same
 * key, ties by the load's comparator.
 */
#include "jobs_int.h"

#include "dupes.h"
#include "history.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One job while the load places them: cold (W a cold slot) or in memory (a pointer). */
struct cold_ent {
	uint64_t key; /* claim order (jr_claim_key) */
	uintptr_t w;
	uint32_t nh, vh; /* cold: hashes of its name and video id (vh 0: none) */
};

#define PREFETCH_AHEAD 16 /* entries: a random slot's cache miss hidden behind them */

/* A cold one once placed: what the indexes need. */
struct cold_slim {
	uintptr_t w;
	uint32_t nh, vh;
};

struct cold_load {
	struct cold_ent *v;
	size_t n, cap;
	long long dup_from; /* claimed since then: in the duplicate index (dupes.h) */
};

/* ---- counting -------------------------------------------------------------------- */

/* Counts cold job J (as its line says) in (D = 1) or out of (D = -1) the counters and the
 * totals: struct jcold's, and the table-wide ones of /metrics. */
void jr_cold_count(struct jobs *js, const struct job *j, int d)
{
	js->cold.by_state[j->state == JOB_FAILED] += (size_t)d;
	if (jr_is_rejected(j)) {
		js->cold.rejected += (size_t)d;
		js->rejected += (size_t)d;
	}
	if (j->state == JOB_DONE && j->model && j->seconds) {
		unsigned long long s =
		    (unsigned long long)j->seconds * (unsigned long long)(long long)d;
		size_t slot = jr_gen_slot(js, j->model); /* may move js->gen */
		js->gen[slot].seconds += s;
		js->cold.gen += s;
	}
}

static void count_line(struct jobs *js, const struct history_line *l, int d)
{
	/* jr_cold_count's view of the line, without a struct job to zero for each line */
	struct job j;
	j.state = l->state;
	j.model = *l->model ? (char *)(uintptr_t)l->model : NULL;
	j.seconds = l->seconds;
	j.error_code = *l->error_code ? (char *)(uintptr_t)l->error_code : NULL;
	jr_cold_count(js, &j, d);
}

void jr_cold_ref(struct jobs *js, const char *image)
{
	if (*image)
		hmap_set_add(&js->cold.refs, image);
}

/* ---- reading a cold job's line ----------------------------------------------------- */

struct got_line {
	struct history_line l;
	char name[600], vid[600];  /* a text field is at most 512 bytes (history.c) */
	struct job job;            /* when wanted: the job the line says (owned)... */
	unsigned long long digest; /* ...and its line's digest */
	bool want_job, ok;
};

static bool took_line(const struct history_line *l, void *ud)
{
	struct got_line *g = ud;
	g->l = *l;
	g->ok = bcopy_str(g->name, sizeof(g->name), l->name) == 0 &&
	        bcopy_str(g->vid, sizeof(g->vid), l->video_id) == 0;
	if (g->want_job && g->ok) {
		job_init(&g->job);
		history_line_job(l, &g->job);
		g->digest = history_line_digest(l);
	}
	/* the strings of L die with this call: only the copies are used */
	g->l.name = g->name;
	g->l.video_id = g->vid;
	g->l.model = g->l.size = g->l.error_code = g->l.dup_key = g->l.note = "";
	g->l.source = g->l.reference = "";
	return true;
}

/* Reads the line of cold slot W through FD into G; 0, or -1 (not logged). */
static int read_cold(int fd, uintptr_t w, struct got_line *g, bool want_job)
{
	g->ok = false;
	g->want_job = want_job;
	if (!jr_slot_cold(w) || fd < 0)
		return -1;
	if (history_read_at(fd, jr_slot_off(w), took_line, g) != 0 || !g->ok || g->l.superseded ||
	    g->l.state != jr_slot_state(w)) {
		if (want_job && g->ok)
			job_release(&g->job);
		return -1;
	}
	return 0;
}

/* ---- the load ---------------------------------------------------------------------- */

void jr_cold_begin(struct jobs *js)
{
	if (js->cold.load)
		return;
	js->cold.load = xcalloc(1, sizeof(*js->cold.load));
	long long days = (long long)js->conf->duplicate_window_days;
	js->cold.load->dup_from = (long long)time(NULL) - days * 86400;
	if (js->cold.fd < 0)
		js->cold.fd = history_reader(js->hist);
}

static void ent_add(struct cold_load *cl, const struct cold_ent *e)
{
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 1024;
		cl->v = xrealloc(cl->v, cl->cap * sizeof(*cl->v));
	}
	cl->v[cl->n++] = *e;
}

static uint32_t vid_hash(const char *vid)
{
	if (!*vid)
		return 0;
	uint32_t h = coldidx_hash(vid);
	return h ? h : 1;
}

int jr_cold_collect(struct jobs *js, const struct history_line *l)
{
	struct cold_load *cl = js->cold.load;
	if (!cl || js->cold.fd < 0 || l->off <= 0)
		return -1;
	struct cold_ent e = {jr_claim_key(l->claimed_at, l->source, l->line),
	                     jr_slot_of_line(l->off, l->state == JOB_FAILED), coldidx_hash(l->name),
	                     vid_hash(l->video_id)};
	ent_add(cl, &e);
	js->cold.n++;
	count_line(js, l, 1);
	jr_cold_ref(js, l->reference);
	/* the index names jobs that may make their video, as jr_add_job's; only those
	 * claimed within the window: an older one is never a duplicate's reason */
	const char *code = l->error_code;
	if (*l->dup_key && l->state != JOB_FAILED && strcmp(code, "duplicate") != 0 &&
	    strcmp(code, "invalid_input") != 0 && l->claimed_at >= cl->dup_from)
		dupes_put(js->dupes, l->dup_key, l->name, l->claimed_at);
	return 0;
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* Claim order; equal keys: two jobs in memory as the load's comparator says, cold ones
 * as their lines were written, a cold one before one in memory. */
static int (*ent_tie)(const void *, const void *) = by_address;

static int ent_cmp(const struct cold_ent *a, const struct cold_ent *b)
{
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	bool ca = (a->w & 1) != 0, cb = (b->w & 1) != 0;
	if (ca != cb)
		return ca ? -1 : 1;
	if (ca)
		return a->w < b->w ? -1 : a->w > b->w;
	return ent_tie(&a->w, &b->w);
}

static void ent_swap(struct cold_ent *a, struct cold_ent *b)
{
	struct cold_ent t = *a;
	*a = *b;
	*b = t;
}

/* In place (qsort may take a copy as large as the array: the peak memory counts):
 * quicksort, median of three, the smaller side first, insertion sort for short runs. */
static void ent_sort(struct cold_ent *v, size_t n)
{
	while (n > 16) {
		size_t mid = n / 2;
		if (ent_cmp(&v[mid], &v[0]) < 0)
			ent_swap(&v[mid], &v[0]);
		if (ent_cmp(&v[n - 1], &v[0]) < 0)
			ent_swap(&v[n - 1], &v[0]);
		if (ent_cmp(&v[n - 1], &v[mid]) < 0)
			ent_swap(&v[n - 1], &v[mid]);
		struct cold_ent pivot = v[mid];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (ent_cmp(&v[i], &pivot) < 0)
				i++;
			while (ent_cmp(&pivot, &v[j]) < 0)
				j--;
			if (i >= j)
				break;
			ent_swap(&v[i], &v[j]);
			i++;
			j--;
		}
		size_t left = j + 1; /* v[0..j] <= pivot <= v[j+1..] */
		if (left < n - left) {
			ent_sort(v, left);
			v += left;
			n -= left;
		} else {
			ent_sort(v + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && ent_cmp(&v[k], &v[k - 1]) < 0; k--)
			ent_swap(&v[k], &v[k - 1]);
}

/* Slot POS (cold) leaves: a later line of the same job stands for it. */
static void drop_line(struct jobs *js, size_t pos, const struct history_line *l)
{
	count_line(js, l, -1);
	js->cold.n--;
	js->cold.gone++;
	js->slot[pos] = JSLOT_GONE;
	if (history_supersede(js->hist, l->off) != 0)
		log_warn("history: a superseded line could not be marked");
}

/* Cold slot POS into the indexes. A cold job of the same name placed before it is one
 * job with two lines (a crash between appending the second and marking the first): the
 * later line stands, the earlier one goes. */
static void index_slot(struct jobs *js, size_t pos, const struct cold_slim *e)
{
	struct jcold *c = &js->cold;
	size_t it = 0, o;
	struct got_line mine = {0}, other;
	bool read = false;
	while ((o = coldidx_next(&c->by_name, e->nh, &it)) != COLDIDX_NONE) {
		if (!jr_slot_cold(js->slot[o]))
			continue;
		if (!read && read_cold(c->fd, js->slot[pos], &mine, false) != 0)
			break; /* cannot tell: both stay */
		read = true;
		if (read_cold(c->fd, js->slot[o], &other, false) != 0 ||
		    strcmp(other.name, mine.name) != 0)
			continue;
		log_info("[job=%s] history: two lines of one job; the later one stands", mine.name);
		if (jr_slot_off(js->slot[o]) < jr_slot_off(js->slot[pos])) {
			drop_line(js, o, &other.l);
		} else {
			drop_line(js, pos, &mine.l);
			return;
		}
	}
	if (o == COLDIDX_NONE)
		coldidx_add_at(&c->by_name, e->nh, pos, it); /* where the walk ended */
	else
		coldidx_add(&c->by_name, e->nh, pos);
	if (e->vh)
		coldidx_add(&c->by_vid, e->vh, pos);
}

void jr_cold_finish(struct jobs *js, int (*tie)(const void *, const void *))
{
	struct cold_load *cl = js->cold.load;
	if (!cl)
		return;
	js->cold.load = NULL;
	if (!cl->n) {
		free(cl->v);
		free(cl);
		return;
	}
	/* the jobs in memory join the cold ones, every one placed by its claim */
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (!r)
			continue;
		struct cold_ent e = {jr_claim_key(r->rec.claimed_at, r->rec.source, r->rec.line),
		                     (uintptr_t)r, 0, 0};
		ent_add(cl, &e);
	}
	ent_tie = tie ? tie : by_address;
	ent_sort(cl->v, cl->n);
	size_t n = cl->n;
	/* Done with the keys, the entries shrink in place to what the indexes need (slot I
	 * written once entry I was read, never over one still to read), and the array with
	 * them, before the indexes take their memory: the peak is the larger, not the sum. */
	char *base = (char *)cl->v;
	cl->v = NULL;
	for (size_t i = 0; i < n; i++) {
		struct cold_ent e;
		memcpy(&e, base + i * sizeof(e), sizeof(e));
		struct cold_slim t = {e.w, e.nh, e.vh};
		memcpy(base + i * sizeof(t), &t, sizeof(t));
	}
	base = xrealloc(base, n * sizeof(struct cold_slim));
	coldidx_free(&js->cold.by_name);
	coldidx_free(&js->cold.by_vid);
	coldidx_init(&js->cold.by_name, js->cold.n, n);
	coldidx_init(&js->cold.by_vid, js->cold.n, n);
	/* ...and then to the slots, the same way */
	free(js->slot);
	js->cold.gone = 0; /* the GONE slots are not carried over */
	js->slot = (uintptr_t *)(void *)base;
	js->n = n;
	for (size_t i = 0; i < n; i++) {
		struct cold_slim t;
		if (i + PREFETCH_AHEAD < n) { /* the slots a later entry goes to, on their way */
			memcpy(&t, base + (i + PREFETCH_AHEAD) * sizeof(t), sizeof(t));
			coldidx_prefetch(&js->cold.by_name, t.nh);
			coldidx_prefetch(&js->cold.by_vid, t.vh);
		}
		memcpy(&t, base + i * sizeof(t), sizeof(t));
		memcpy(base + i * sizeof(t.w), &t.w, sizeof(t.w));
		if (jr_slot_cold(t.w))
			index_slot(js, i, &t);
	}
	js->slot = xrealloc(js->slot, n * sizeof(*js->slot));
	js->cap = n;
	free(cl);
	jr_rebuild_index(js); /* the jobs in memory moved */
}

/* ---- lookups ------------------------------------------------------------------------ */

size_t jr_cold_find(const struct jobs *js, const char *key, bool by_vid)
{
	const struct jcold *c = &js->cold;
	if (!key || !*key || !c->n)
		return (size_t)-1;
	uint32_t h = by_vid ? vid_hash(key) : coldidx_hash(key);
	size_t it = 0, o, best = (size_t)-1;
	while ((o = coldidx_next(by_vid ? &c->by_vid : &c->by_name, h, &it)) != COLDIDX_NONE) {
		if (o >= js->n || !jr_slot_cold(js->slot[o]) || o >= best)
			continue;
		struct got_line g;
		if (read_cold(c->fd, js->slot[o], &g, false) != 0)
			continue;
		if (!strcmp(by_vid ? g.vid : g.name, key)) {
			if (!by_vid)
				return o;
			best = o; /* the first in claim order, as jr_by_vid */
		}
	}
	return best;
}

/* Every thawed job stays in memory: its slot is no longer in a cold index. */
static void unthaw_all(struct jobs *js)
{
	for (size_t i = 0; js->cold.thawed && i < js->n; i++) {
		struct jrun *r = jr_at(js, i);
		if (r)
			jr_unthaw(r);
	}
}

static void on_sweep(void *ud)
{
	jr_refreeze_thawed(ud);
}

/* Slot I's cold job, read through FD, made a struct jrun in that slot. */
static struct jrun *thaw_from(struct jobs *js, size_t i, int fd)
{
	uintptr_t w = js->slot[i];
	struct got_line g;
	if (read_cold(fd, w, &g, true) != 0) {
		log_error("history: the line of a finished job cannot be read back (slot %zu, "
		          "offset %lld): it is left out until the next start reads every record",
		          i, jr_slot_off(w));
		return NULL;
	}
	struct history_line view = g.l;
	view.model = g.job.model ? g.job.model : "";
	view.error_code = g.job.error_code ? g.job.error_code : "";
	count_line(js, &view, -1);
	js->cold.n--;
	struct jrun *r = jr_place_job(js, &g.job, i, false);
	r->summary = true;
	r->thawed = true;
	if (++js->cold.thawed >= js->cold.thawed_max) { /* sent back from the loop, not here */
		if (!js->cold.sweep)
			js->cold.sweep = loop_timer_new(js->loop, on_sweep, js);
		if (!loop_timer_armed(js->cold.sweep))
			loop_timer_arm(js->cold.sweep, 0);
	}
	r->hist_off = jr_slot_off(w);
	r->hist_digest = g.digest;
	return r;
}

/* Cold slot I whose line cannot be read leaves the table rather than stay wrong in it:
 * counted out by its state (its share of the totals is unknown now, and stays). */
static void lose_slot(struct jobs *js, size_t i)
{
	struct history_line l = {0};
	l.state = jr_slot_state(js->slot[i]);
	l.name = l.model = l.error_code = "";
	count_line(js, &l, -1);
	js->cold.n--;
	js->cold.gone++;
	js->slot[i] = JSLOT_GONE;
}

struct jrun *jr_thaw(struct jobs *js, size_t i)
{
	if (i >= js->n)
		return NULL;
	if (!jr_slot_cold(js->slot[i]))
		return jr_at(js, i);
	struct jrun *r = thaw_from(js, i, js->cold.fd);
	if (!r)
		lose_slot(js, i);
	jr_check_counts(js, r ? &r->rec : NULL, "thawing a finished job");
	return r;
}

/* The slots without GONE ones, in order (positions move: the indexes are made again). */
static void squeeze(struct jobs *js)
{
	size_t k = 0;
	for (size_t i = 0; i < js->n; i++)
		if (js->slot[i] != JSLOT_GONE)
			js->slot[k++] = js->slot[i];
	js->n = k;
	js->cold.gone = 0;
}

void jr_cold_reindex(struct jobs *js)
{
	struct jcold *c = &js->cold;
	squeeze(js);
	jr_rebuild_index(js);
	unthaw_all(js); /* the indexes made now do not hold their slots */
	coldidx_free(&c->by_name);
	coldidx_free(&c->by_vid);
	if (!c->n)
		return;
	coldidx_init(&c->by_name, c->n, js->n);
	coldidx_init(&c->by_vid, c->n, js->n);
	for (size_t i = 0; i < js->n; i++) {
		struct got_line g;
		if (!jr_slot_cold(js->slot[i]))
			continue;
		if (read_cold(c->fd, js->slot[i], &g, false) != 0) {
			jr_thaw(js, i); /* logs, and takes it out */
			continue;
		}
		coldidx_add(&c->by_name, coldidx_hash(g.name), i);
		uint32_t vh = vid_hash(g.vid);
		if (vh)
			coldidx_add(&c->by_vid, vh, i);
	}
}

void jr_cold_thaw_all(struct jobs *js)
{
	jr_cold_finish(js, NULL); /* a load cut short: what it collected */
	for (size_t i = 0; i < js->n && js->cold.n; i++)
		if (jr_slot_cold(js->slot[i]))
			jr_thaw(js, i);
	squeeze(js);
	jr_rebuild_index(js);
	coldidx_free(&js->cold.by_name);
	coldidx_free(&js->cold.by_vid);
	unthaw_all(js); /* no index holds their slots now */
}

int jr_cold_rewrite(struct jobs *js)
{
	struct jcold *c = &js->cold;
	if (!c->n)
		return 0;
	int nfd = history_reader(js->hist);
	char *buf = xmalloc(HISTORY_LINE_MAX);
	size_t i = 0;
	for (; i < js->n && nfd >= 0; i++) {
		uintptr_t w = js->slot[i];
		if (!jr_slot_cold(w))
			continue;
		long long len = history_line_at(c->fd, jr_slot_off(w), buf, HISTORY_LINE_MAX);
		long long off = len > 0 ? history_append_line(js->hist, buf, (size_t)len) : -1;
		if (off <= 0)
			break;
		js->slot[i] = jr_slot_of_line(off, jr_slot_state(w) == JOB_FAILED);
	}
	free(buf);
	if (nfd >= 0 && i == js->n) {
		close(c->fd);
		c->fd = nfd;
		return 0;
	}
	/* Cut short: the slots before I are in the new file, the rest in the old one; every
	 * one is thawed from where it is (the jobs then stay in memory until a restart). */
	log_warn("history: the finished jobs' lines could not be copied whole: they stay in "
	         "memory until the next start");
	for (size_t k = 0; k < js->n; k++)
		if (jr_slot_cold(js->slot[k]) && !thaw_from(js, k, k < i ? nfd : c->fd))
			lose_slot(js, k);
	if (nfd >= 0)
		close(nfd);
	jr_cold_reindex(js);
	return -1;
}

long long jr_cold_time(const struct jobs *js, size_t i)
{
	struct got_line g;
	if (i >= js->n || read_cold(js->cold.fd, js->slot[i], &g, false) != 0)
		return -1;
	return g.l.finished_at >= 0 ? g.l.finished_at : g.l.claimed_at;
}

bool jr_cold_names_ref(const struct jobs *js, const char *image)
{
	return hmap_get(&js->cold.refs, image) != NULL;
}

void jr_cold_free(struct jobs *js)
{
	struct jcold *c = &js->cold;
	if (c->load) {
		free(c->load->v);
		free(c->load);
		c->load = NULL;
	}
	coldidx_free(&c->by_name);
	coldidx_free(&c->by_vid);
	hmap_set_release(&c->refs);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
