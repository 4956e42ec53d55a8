/* pollplan.c — polls aimed at each video's predicted finish (see pollplan.h). */
#include "pollplan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const double pollplan_bucket_le[POLLPLAN_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120};

/* Progress below this (in %) predicts poorly (integer progress: 1 % may be 0.5–2 %),
 * so the observed durations, when there are some, weigh more. */
#define TRUST_TWO_PCT 10.0 /* two samples: the fit is trusted from here */
#define TRUST_ONE_PCT 40.0 /* one sample (a line from the creation): from here */
#define K_MIN 0.5
#define K_MAX 4.0

static long long clampll(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void pollplan_start(struct pollplan_job *pj, long long now_ms)
{
	memset(pj, 0, sizeof(*pj));
	pj->start_ms = pj->open_ms = now_ms;
	pj->p1 = pj->p2 = -1;
}

void pollplan_resume(struct pollplan_job *pj, long long now_ms, long long elapsed_ms)
{
	bool known = elapsed_ms >= 0 && elapsed_ms <= POLLPLAN_MAX_MS;
	pollplan_start(pj, known ? now_ms - elapsed_ms : now_ms);
	pj->open_ms = now_ms;
	pj->guessed = !known;
}

void pollplan_running(struct pollplan_job *pj, long long now_ms, int progress)
{
	if (now_ms > pj->open_ms)
		pj->open_ms = now_ms;
	if (progress < 0 || progress > 100 || now_ms < pj->start_ms)
		return;
	if (progress == pj->p2)
		return; /* the first reading of a value is the nearest to when it was reached */
	if (progress < pj->p2) { /* went back: what came before says nothing now */
		pj->p1 = -1;
		pj->t1 = 0;
	} else {
		pj->p1 = pj->p2;
		pj->t1 = pj->t2;
	}
	pj->p2 = progress;
	pj->t2 = now_ms;
}

/* The finish from the progress samples alone, and how far to trust it (0..1). */
static long long fit(const struct pollplan_job *pj, double *trust)
{
	*trust = 0;
	if (pj->p2 <= 0)
		return 0;
	if (pj->p2 >= 100) { /* done but for the status: due now */
		*trust = 1;
		return pj->t2;
	}
	double e2 = (double)(pj->t2 - pj->start_ms);
	if (e2 <= 0)
		return 0;
	double k = 1; /* one sample: progress taken as linear from the creation */
	bool two = pj->p1 > 0 && pj->p1 < pj->p2 && pj->t1 > pj->start_ms && pj->t2 > pj->t1;
	if (two) {
		double e1 = (double)(pj->t1 - pj->start_ms);
		k = log((double)pj->p2 / pj->p1) / log(e2 / e1);
		if (!(k >= K_MIN)) /* also NaN */
			k = K_MIN;
		if (k > K_MAX)
			k = K_MAX;
	}
	double total = e2 * pow(100.0 / pj->p2, 1.0 / k);
	/* Whole percents are most often cut down (the true value lies in [p, p + 1)),
	 * so the fit predicts late by up to a percent's worth. For a short job, whose
	 * polls aim 2 ms after the prediction, the middle of that interval is the better
	 * guess (a poll a little early asks again on the next fine-grid instant); a long
	 * job keeps the late side, which its margin covers, rather than pay early polls. */
	if (total < (double)POLLPLAN_SHORT_MS)
		total = e2 * pow(100.0 / (pj->p2 + 0.5), 1.0 / k);
	if (!(total < (double)POLLPLAN_MAX_MS))
		total = (double)POLLPLAN_MAX_MS;
	double t = pj->p2 / (two ? TRUST_TWO_PCT : TRUST_ONE_PCT);
	*trust = t > 1 ? 1 : t;
	return pj->start_ms + (long long)total;
}

long long pollplan_predict(const struct pollplan_job *pj, long long typical_ms)
{
	double trust;
	long long by_progress = fit(pj, &trust);
	long long by_history =
	    typical_ms > 0 && typical_ms <= POLLPLAN_MAX_MS ? pj->start_ms + typical_ms : 0;
	if (!by_progress)
		return by_history;
	if (!by_history || trust >= 1)
		return by_progress;
	return by_history + (long long)((double)(by_progress - by_history) * trust);
}

long long pollplan_grid_ms(long long duration_ms)
{
	if (duration_ms > 0 && duration_ms < POLLPLAN_SHORT_MS)
		return POLLPLAN_GRID_FINE_MS;
	/* Steps double from the smallest, so that jobs with different steps still meet on
	 * the coarser one's instants. */
	long long want = duration_ms / POLLPLAN_GRID_DIV, g = POLLPLAN_GRID_MIN_MS;
	while (g * 2 <= want && g * 2 <= POLLPLAN_GRID_MAX_MS)
		g *= 2;
	return g;
}

/* The wait W from NOW moved onto the grid of a job that takes about DURATION_MS: a
 * wait shorter than the cap (aimed) to the next grid instant, unless that passes the
 * cap; the cap itself to the grid instant before it, unless that is now. */
static long long on_grid(long long now_ms, long long w, long long cap_ms, long long duration_ms,
                         long long min_wait_ms)
{
	long long due = now_ms + w;
	if (due < 0) /* a monotonic clock is positive; tests may start anywhere */
		return w;
	if (w < cap_ms) {
		long long g = pollplan_grid_ms(duration_ms);
		long long up = (due + g - 1) / g * g;
		if (up - now_ms <= cap_ms)
			return up - now_ms;
	}
	long long g = pollplan_grid_ms(cap_ms > duration_ms / 8 ? cap_ms * 8 : duration_ms);
	long long down = due / g * g;
	return down - now_ms >= min_wait_ms ? down - now_ms : w;
}

long long pollplan_wait(struct pollplan_job *pj, long long now_ms, long long cap_ms,
                        long long server_after_ms, long long typical_ms)
{
	if (cap_ms < 0)
		cap_ms = 0;
	if (cap_ms > POLLPLAN_MAX_MS) /* keeps the grid arithmetic below far from overflow */
		cap_ms = POLLPLAN_MAX_MS;
	long long w = cap_ms, min_wait = POLLPLAN_MIN_WAIT_MS;
	long long pred = pollplan_predict(pj, typical_ms);
	pj->predicted_ms = pred;
	if (pred && !pj->first_prediction_ms)
		pj->first_prediction_ms = pred;
	if (pred) {
		long long d = pred - pj->start_ms;
		bool is_short = d > 0 && d < POLLPLAN_SHORT_MS;
		long long aim = pred + (is_short ? POLLPLAN_MARGIN_SHORT_MS : POLLPLAN_MARGIN_MS) +
		                d * POLLPLAN_MARGIN_PERMILLE / 1000;
		/* Late: asked again every FAST_DIV-th of the duration, a short job on
		 * each instant of the fine grid (as many polls as cover the same time). */
		long long fast =
		    clampll(d / POLLPLAN_FAST_DIV, POLLPLAN_MIN_WAIT_MS, POLLPLAN_FAST_MS);
		unsigned polls = POLLPLAN_FAST_POLLS;
		if (is_short) {
			polls = (unsigned)(POLLPLAN_FAST_POLLS * fast / POLLPLAN_GRID_FINE_MS);
			fast = POLLPLAN_GRID_FINE_MS;
			min_wait = POLLPLAN_GRID_FINE_MS;
		}
		if (aim > now_ms) {
			w = aim - now_ms;
			pj->fast = 0;
		} else if (pj->fast < polls) {
			w = fast;
			pj->fast++;
		}
	}
	if (w > cap_ms)
		w = cap_ms;
	w = on_grid(now_ms, w, cap_ms, pred ? pred - pj->start_ms : now_ms + cap_ms - pj->start_ms,
	            min_wait);
	if (w < min_wait && cap_ms >= min_wait)
		w = min_wait;
	if (server_after_ms > w)
		w = server_after_ms;
	return w;
}

bool pollplan_completed(const struct pollplan_job *pj, long long now_ms, long long service_s,
                        struct pollplan_outcome *out)
{
	memset(out, 0, sizeof(*out));
	long long lo = pj->open_ms - pj->start_ms, hi = now_ms - pj->start_ms;
	if (pj->guessed || lo < 0 || hi < lo || hi > POLLPLAN_MAX_MS)
		return false;
	long long d = lo + (hi - lo) / 2;
	if (service_s >= 0 && service_s <= POLLPLAN_MAX_MS / 1000) {
		/* Whole seconds at both ends: the duration is within a second of it. */
		long long a = service_s * 1000 - 1000, b = service_s * 1000 + 1000;
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		d = a <= b ? a + (b - a) / 2 : clampll(service_s * 1000, lo, hi);
	}
	out->duration_ms = d;
	out->detect_ms = hi - d;
	out->predicted = pj->predicted_ms > 0;
	out->error_ms = out->predicted ? pj->predicted_ms - (pj->start_ms + d) : 0;
	return true;
}

void pollplan_key(char *buf, size_t n, const char *model, const char *size, unsigned seconds)
{
	snprintf(buf, n, "%s|%s|%u", model ? model : "", size ? size : "", seconds);
}

long long pollplan_typical_ms(const struct pollplan_durations *d, const char *key)
{
	for (size_t i = 0; key && i < d->n; i++)
		if (!strcmp(d->e[i].key, key))
			return (long long)(d->e[i].mean_ms + 0.5);
	return -1;
}

void pollplan_learn(struct pollplan_durations *d, const char *key, long long ms)
{
	if (!key || ms <= 0 || ms > POLLPLAN_MAX_MS || strlen(key) >= POLLPLAN_KEY_MAX)
		return;
	size_t i = 0;
	while (i < d->n && strcmp(d->e[i].key, key) != 0)
		i++;
	if (i == d->n) {
		if (d->n == POLLPLAN_KEYS)
			i = d->n - 1; /* full: the last slot takes turns */
		else
			d->n++;
		bcopy_str(d->e[i].key, sizeof(d->e[i].key), key);
		d->e[i].mean_ms = 0;
		d->e[i].n = 0;
	}
	if (d->e[i].n < POLLPLAN_EWMA_N)
		d->e[i].n++;
	d->e[i].mean_ms += ((double)ms - d->e[i].mean_ms) / d->e[i].n;
}

void pollplan_hist_add(struct pollplan_hist *h, double v)
{
	size_t i = 0;
	while (i < POLLPLAN_BUCKETS && v > pollplan_bucket_le[i])
		i++;
	h->count[i]++;
	h->sum += v;
	h->n++;
}

void pollplan_count(struct pollplan_stats *s, const struct pollplan_outcome *o)
{
	pollplan_hist_add(&s->detect, (double)o->detect_ms / 1000.0);
	if (!o->predicted) {
		s->unpredicted++;
		return;
	}
	long long e = o->error_ms;
	if (e < 0)
		s->early++;
	else
		s->late++;
	pollplan_hist_add(&s->error, (double)(e < 0 ? -e : e) / 1000.0);
}
