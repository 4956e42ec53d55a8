/* claimretry.c — failed claims tried again with backoff (see claimretry.h). */
#include "claimretry.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum entry_state {
	WAITING, /* for at_ms */
	DUE,     /* at_ms passed: to be handed over in this round of the timer */
	TRYING,  /* handed over: its claim is under way, to be reported back */
};

struct entry {
	char *name;
	char *why; /* the reason last logged */
	enum entry_state state;
	long long at_ms;    /* the next try (loop_now_ms), while WAITING */
	long long delay_ms; /* the wait before that try */
	unsigned failures;
};

struct claimretry {
	struct loop_timer *timer;
	claimretry_fn *cb;
	void *ud;
	struct entry *v;
	size_t n, cap;
};

static struct entry *find(const struct claimretry *cr, const char *name)
{
	for (size_t i = 0; i < cr->n; i++)
		if (!strcmp(cr->v[i].name, name))
			return &cr->v[i];
	return NULL;
}

/* The timer for the earliest try still to come; disarmed when there is none. */
static void rearm(struct claimretry *cr)
{
	long long at = -1;
	for (size_t i = 0; i < cr->n; i++)
		if (cr->v[i].state == WAITING && (at < 0 || cr->v[i].at_ms < at))
			at = cr->v[i].at_ms;
	if (at < 0)
		loop_timer_disarm(cr->timer);
	else
		loop_timer_arm_at(cr->timer, at);
}

static void on_timer(void *ud)
{
	struct claimretry *cr = ud;
	long long now = loop_now_ms();
	for (size_t i = 0; i < cr->n; i++)
		if (cr->v[i].state == WAITING && cr->v[i].at_ms <= now)
			cr->v[i].state = DUE;
	/* The callback may report back at once (which moves entries around): each turn
	 * looks for a due entry again, and each hands one over. */
	for (;;) {
		struct entry *e = NULL;
		for (size_t i = 0; i < cr->n && !e; i++)
			if (cr->v[i].state == DUE)
				e = &cr->v[i];
		if (!e)
			break;
		e->state = TRYING;
		char *name = xstrdup(e->name);
		cr->cb(name, cr->ud);
		free(name);
	}
	rearm(cr);
}

struct claimretry *claimretry_new(struct loop *l, claimretry_fn *cb, void *ud)
{
	struct claimretry *cr = xcalloc(1, sizeof(*cr));
	cr->timer = loop_timer_new(l, on_timer, cr);
	cr->cb = cb;
	cr->ud = ud;
	return cr;
}

void claimretry_free(struct claimretry *cr)
{
	if (!cr)
		return;
	for (size_t i = 0; i < cr->n; i++) {
		free(cr->v[i].name);
		free(cr->v[i].why);
	}
	free(cr->v);
	loop_timer_free(cr->timer);
	free(cr);
}

void claimretry_failed(struct claimretry *cr, const char *name, const char *why)
{
	struct entry *e = find(cr, name);
	if (!e) {
		if (cr->n == cr->cap) {
			cr->cap = cr->cap ? cr->cap * 2 : 8;
			cr->v = xrealloc(cr->v, cr->cap * sizeof(*cr->v));
		}
		e = &cr->v[cr->n++];
		memset(e, 0, sizeof(*e));
		e->name = xstrdup(name);
	}
	if (e->delay_ms == 0)
		e->delay_ms = CLAIMRETRY_FIRST_MS;
	else if (e->delay_ms >= CLAIMRETRY_MAX_MS / 2)
		e->delay_ms = CLAIMRETRY_MAX_MS;
	else
		e->delay_ms *= 2;
	long long wait = e->delay_ms;
	e->state = WAITING;
	e->at_ms = loop_now_ms() + wait;
	e->failures++;
	if (!e->why || strcmp(e->why, why) != 0) {
		log_warn("inbox: cannot claim %s: %s; it stays in the inbox and is tried again "
		         "in %lld s, then less often (up to %lld min apart) until it works",
		         name, why, wait / 1000, CLAIMRETRY_MAX_MS / 60000);
		free(e->why);
		e->why = xstrdup(why);
	} else {
		log_debug("inbox: claim of %s failed again (%u times): %s; next try in %lld s",
		          name, e->failures, why, wait / 1000);
	}
	rearm(cr);
}

void claimretry_done(struct claimretry *cr, const char *name, bool claimed)
{
	struct entry *e = find(cr, name);
	if (!e)
		return;
	if (claimed)
		log_info("inbox: claimed %s after %u failed tries", name, e->failures);
	free(e->name);
	free(e->why);
	*e = cr->v[--cr->n];
	rearm(cr);
}

size_t claimretry_pending(const struct claimretry *cr)
{
	return cr->n;
}
