/* refresh.c — batch polling through list calls (see refresh.h). */
#include "refresh.h"
#include "caps.h"
#include "hmap.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* One tracked job, found by its video id. */
struct entry {
	void *job;
	char *video_id;
	long long created_at;
	bool due;     /* its poll is due: answer it */
	bool in_walk; /* due when the current walk started: the walk looks for it */
	bool missed;  /* a straggler: it polls itself from now on */
};

struct refresh {
	struct loop *loop;
	struct api_client *api;
	refresh_seen_fn *seen;
	refresh_miss_fn *miss;
	void *ud;
	struct hmap entries; /* video id → struct entry; slots allocated on first use */
	size_t n;
	struct loop_timer *timer; /* the next walk */
	struct api_req *req;      /* the list call of the walk in progress */
	char *after;              /* its cursor */
	unsigned pages;
	size_t n_in_walk;         /* entries the walk still looks for */
	long long oldest;         /* the oldest created_at among them, at the start */
	long long last_start_ms;  /* when the last walk started (loop clock) */
	long server_gap_ms;       /* the server's openai-poll-after-ms alone (0: none) */
	bool hot;                 /* the last walk found videos finishing */
	long due_gap_ms;          /* the shortest gap the jobs due since the last walk's
	                           * start asked for (refresh_due), 0 none */
	unsigned long long lists; /* list calls made */
};

static void remove_entry(struct refresh *rf, struct entry *e)
{
	hmap_del_val(&rf->entries, e->video_id, e);
	if (e->in_walk)
		rf->n_in_walk--;
	free(e->video_id);
	free(e);
	rf->n--;
}

static void walk_page(struct refresh *rf);
static void schedule_walk(struct refresh *rf);

static void on_timer(void *ud)
{
	struct refresh *rf = ud;
	if (rf->req || !rf->api)
		return;
	/* Everything due now is what this walk looks for. */
	rf->n_in_walk = 0;
	rf->oldest = -1;
	void *v;
	for (size_t pos = 0; hmap_next(&rf->entries, &pos, NULL, &v);) {
		struct entry *e = v;
		e->in_walk = e->due;
		if (!e->due)
			continue;
		rf->n_in_walk++;
		long long c = e->created_at >= 0 ? e->created_at : 0;
		if (rf->oldest < 0 || c < rf->oldest)
			rf->oldest = c;
	}
	if (rf->n_in_walk == 0)
		return;
	rf->due_gap_ms = 0;
	rf->last_start_ms = loop_now_ms();
	rf->pages = 0;
	free(rf->after);
	rf->after = NULL;
	walk_page(rf);
}

/* The walk is over: what it did not find retrieves itself. FAILED: the list itself
 * failed, so nobody is marked a straggler for it. */
static void end_walk(struct refresh *rf, bool failed)
{
	free(rf->after);
	rf->after = NULL;
	size_t n = 0;
	void **left = rf->n_in_walk ? xcalloc(rf->n_in_walk, sizeof(*left)) : NULL;
	void *v;
	for (size_t pos = 0; rf->n_in_walk && hmap_next(&rf->entries, &pos, NULL, &v);) {
		struct entry *e = v;
		if (!e->in_walk)
			continue;
		e->in_walk = e->due = false;
		e->missed = !failed;
		rf->n_in_walk--;
		left[n++] = e->job;
	}
	/* Callbacks last: they may untrack entries. */
	for (size_t i = 0; i < n; i++)
		rf->miss(left[i], rf->ud);
	free(left);
	schedule_walk(rf);
}

static void on_list(struct api_req *req, void *ud)
{
	struct refresh *rf = ud;
	struct api_result *res = api_req_result(req);
	rf->req = NULL;
	if (res->kind != API_OK || !res->has_list) {
		/* A list the service does not have was logged once, when learned (caps.h);
		 * until it is asked again, jobs poll themselves (refresh_due). */
		if (!caps_refusal(res))
			log_warn("refresh: listing videos failed (%s); each job polls itself this "
			         "time",
			         api_kind_name(res->kind));
		end_walk(rf, true);
		return;
	}
	long pa = res->poll_after_ms;
	if (pa >= 0) {
		rf->server_gap_ms = pa;
	}
	if (rf->pages == 0)
		rf->hot = false;
	const struct video_list *l = &res->list;
	long long page_oldest = -1;
	size_t finals = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct video *v = &l->data[i];
		if (v->created_at > 0 && (page_oldest < 0 || v->created_at < page_oldest))
			page_oldest = v->created_at;
		struct entry *e = v->id ? hmap_get(&rf->entries, v->id) : NULL;
		if (!e)
			continue;
		bool final = video_status_is_final(v->status);
		/* A job that came due after this walk started waits for the next one: this
		 * page may predate its due time, and "still running" from before it was due
		 * would push its next poll back a whole interval. */
		if (!e->in_walk && !final)
			continue; /* not asked when the walk started, and nothing new to act on */
		void *job = e->job;
		if (final) {
			finals++;
			rf->hot = true;
			remove_entry(rf, e);
		} else {
			if (e->in_walk)
				rf->n_in_walk--;
			e->due = e->in_walk = false;
		}
		rf->seen(job, v, pa, rf->ud);
	}
	rf->pages++;
	log_debug(
	    "refresh: page %u of the walk: %zu videos, %zu finished; %zu due jobs not seen yet",
	    rf->pages, l->n, finals, rf->n_in_walk);
	if (rf->n_in_walk > 0 && l->has_more && l->last_id && rf->pages < REFRESH_MAX_PAGES &&
	    (page_oldest < 0 || page_oldest >= rf->oldest)) {
		free(rf->after);
		rf->after = xstrdup(l->last_id);
		walk_page(rf);
		return;
	}
	end_walk(rf, false);
}

static void walk_page(struct refresh *rf)
{
	struct api_list_params p = {
	    .limit = REFRESH_PAGE_LIMIT, .after = rf->after, .order = "desc"};
	rf->lists++;
	rf->req = api_list(rf->api, &p, on_list, rf);
}

long refresh_gap_ms(bool hot, long due_gap_ms, long server_gap_ms)
{
	long gap = hot ? REFRESH_HOT_GAP_MS : REFRESH_MIN_GAP_MS;
	if (due_gap_ms > 0 && due_gap_ms < gap)
		gap = due_gap_ms;
	if (gap < REFRESH_SHORT_GAP_MS)
		gap = REFRESH_SHORT_GAP_MS;
	return gap < server_gap_ms ? server_gap_ms : gap;
}

/* Arms the next walk if a job is due and none is in progress: right away, or once
 * the gap since the last walk's start has passed. */
static void schedule_walk(struct refresh *rf)
{
	if (rf->req || !rf->api || loop_timer_armed(rf->timer))
		return;
	bool any = false;
	void *v;
	for (size_t pos = 0; !any && hmap_next(&rf->entries, &pos, NULL, &v);)
		any = ((const struct entry *)v)->due;
	if (!any)
		return;
	long gap = refresh_gap_ms(rf->hot, rf->due_gap_ms, rf->server_gap_ms);
	long long wait = rf->last_start_ms + gap - loop_now_ms();
	/* Jobs due at the same instant (pollplan.h puts them on shared instants) may
	 * come due one timer after another: the walk waits for them all. */
	loop_timer_arm(rf->timer, wait > REFRESH_GATHER_MS ? wait : REFRESH_GATHER_MS);
}

struct refresh *refresh_new(struct loop *l, struct api_client *api, refresh_seen_fn *seen,
                            refresh_miss_fn *miss, void *ud)
{
	struct refresh *rf = xcalloc(1, sizeof(*rf));
	rf->loop = l;
	rf->api = api;
	rf->seen = seen;
	rf->miss = miss;
	rf->ud = ud;
	rf->last_start_ms = loop_now_ms() - REFRESH_MIN_GAP_MS;
	rf->timer = loop_timer_new(l, on_timer, rf);
	return rf;
}

static void forget_all(struct refresh *rf)
{
	void *v;
	for (size_t pos = 0; hmap_next(&rf->entries, &pos, NULL, &v);) {
		struct entry *e = v;
		free(e->video_id);
		free(e);
	}
	hmap_release(&rf->entries);
	rf->n = 0;
	rf->n_in_walk = 0;
}

void refresh_free(struct refresh *rf)
{
	if (!rf)
		return;
	refresh_suspend(rf);
	loop_timer_free(rf->timer);
	free(rf);
}

bool refresh_due(struct refresh *rf, void *job, const char *video_id, long long created_at,
                 long gap_ms)
{
	if (!rf->api || !video_id || !caps_has(api_client_caps(rf->api), CAPS_LIST))
		return false;
	struct entry *e = hmap_get(&rf->entries, video_id);
	if (e && e->job != job) /* two jobs claim one video: let each poll itself */
		return false;
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->job = job;
		e->video_id = xstrdup(video_id);
		hmap_put(&rf->entries, e->video_id, e);
		rf->n++;
	}
	e->created_at = created_at;
	if (e->missed)
		return false;
	e->due = true;
	if (gap_ms > 0 && (!rf->due_gap_ms || gap_ms < rf->due_gap_ms))
		rf->due_gap_ms = gap_ms;
	schedule_walk(rf);
	return true;
}

void refresh_untrack(struct refresh *rf, const void *job, const char *video_id)
{
	if (!rf || !video_id)
		return;
	struct entry *e = hmap_get(&rf->entries, video_id);
	if (e && e->job == job)
		remove_entry(rf, e);
}

void refresh_suspend(struct refresh *rf)
{
	if (rf->req) {
		api_req_cancel(rf->req);
		rf->req = NULL;
	}
	loop_timer_disarm(rf->timer);
	free(rf->after);
	rf->after = NULL;
	forget_all(rf);
	rf->api = NULL;
}

void refresh_set_api(struct refresh *rf, struct api_client *api)
{
	rf->api = api;
}

size_t refresh_tracked(const struct refresh *rf)
{
	return rf->n;
}

unsigned long long refresh_lists(const struct refresh *rf)
{
	return rf->lists;
}
