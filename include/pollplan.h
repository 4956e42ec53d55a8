/*
 * pollplan.h — when to ask about a running video next: aimed at its predicted finish
 * (issue 21). Owns three things, all pure and all on the monotonic clock (the caller
 * passes every reading, so each rule is unit-tested exactly):
 *
 *   1. the prediction of one job's finish (struct pollplan_job): from the progress
 *      the service reported at its polls (a power law p = 100 (t/T)^k fitted through
 *      the two latest distinct samples, t counted from when sorad saw the video
 *      created, so both a linear and an ease-in progress are followed; for a short
 *      job a whole percent p is read as p + 0.5, the middle of what a cut-down value
 *      covers), and from the durations observed for similar jobs (below) when
 *      progress says little or nothing (none reported, 0 %, capability "progress"
 *      known absent);
 *   2. the wait before the next poll (pollplan_wait): just after the predicted
 *      finish, then a few polls at a short interval (POLLPLAN_FAST_MS) while it is
 *      late, then nothing aimed until a new prediction; each on a grid of instants
 *      shared by all jobs, so that a list call answers many at once. The caller's schedule (the
 *      seed's poll_initial doubling to poll_max) is the CAP: no wait is ever longer
 *      than it. The server's openai-poll-after-ms is a floor, as before;
 *   3. the durations observed (struct pollplan_durations): an exponentially weighted
 *      mean of create → completed per model + size + seconds, kept in memory (the
 *      daemon feeds it the done records at load, so the state directory is its
 *      persistence), and what the predictions cost (struct pollplan_stats: detection
 *      delay and prediction error, as histograms for /metrics).
 *
 * A job's duration and the detection delay are judged by what sorad observed: the
 * finish lies between the last poll that saw the video running (lo) and the answer
 * that saw it completed (hi); hi - lo bounds the detection delay from above. The
 * service's created_at/completed_at (whole seconds, its own clock, but a difference of
 * two readings of it) narrow the finish within that bracket.
 *
 * Ownership: plain data, no pointers; zeroed structs are empty (pollplan_start inits
 * a job).
 */
#ifndef SORAD_POLLPLAN_H
#define SORAD_POLLPLAN_H

#include <stdbool.h>
#include <stddef.h>

#define POLLPLAN_FAST_MS 300       /* the short interval once the predicted finish has passed */
#define POLLPLAN_FAST_DIV 20       /* ...or this part of the duration when that is shorter */
#define POLLPLAN_FAST_POLLS 6      /* ...at most this many polls in a row, then the cap again */
#define POLLPLAN_MARGIN_MS 40      /* poll this long after the predicted finish, plus: */
#define POLLPLAN_MARGIN_PERMILLE 2 /* ...this much of the predicted duration */
#define POLLPLAN_MIN_WAIT_MS 50    /* never sooner than this after an answer */
/* A job predicted to take less than this is short: a few tens of milliseconds are a
 * few percent of it. Its polls aim closer (the margin POLLPLAN_MARGIN_SHORT_MS), fall
 * on the fine grid and, once its finish has passed, come at each instant of the fine
 * grid (for as long as POLLPLAN_FAST_POLLS polls every POLLPLAN_FAST_DIV-th of its
 * duration would take); batch polling walks as often (refresh_due's gap). Its finish
 * is predicted about as well as a long job's (progress is in whole percent: 20 ms of
 * a 2 s job), so being late by the long jobs' margin and grid (about 80 ms), or by
 * 100 ms once late, would be most of what a wave of 2 s jobs loses. */
#define POLLPLAN_SHORT_MS 4000
#define POLLPLAN_MARGIN_SHORT_MS 2
/* The fine grid divides every step of the grid below: short jobs' polls still meet
 * the others' instants. */
#define POLLPLAN_GRID_FINE_MS 15
/* Polls fall on a grid of instants shared by all jobs (the monotonic clock in steps of
 * MIN_MS doubled while within a job's predicted duration / DIV and MAX_MS), so that the
 * polls of jobs due close together become one list call: the price is up to a step of
 * delay (600 ms for a 12–24 s job, 1.2 s from 24 s, 150 ms for 4–6 s; a job under
 * POLLPLAN_SHORT_MS: the fine grid). A poll the cap decides goes to the instant
 * before it, on the step of 8 caps. */
#define POLLPLAN_GRID_DIV 20
#define POLLPLAN_GRID_MIN_MS 75
#define POLLPLAN_GRID_MAX_MS 1200
#define POLLPLAN_MAX_MS (7LL * 24 * 3600 * 1000) /* longer predictions are not believed */
#define POLLPLAN_KEYS 64                         /* model+size+seconds combinations remembered */
#define POLLPLAN_KEY_MAX 96
#define POLLPLAN_EWMA_N 8 /* the mean follows about the last this many jobs */
#define POLLPLAN_BUCKETS 10

/* One running job's observations. */
struct pollplan_job {
	long long start_ms; /* when sorad saw its video created */
	long long open_ms;  /* the latest answer that said it is not finished (start_ms at first) */
	int p1, p2;         /* the two latest distinct progress values, oldest first; -1 none */
	long long t1, t2;   /* when they were read */
	long long predicted_ms;        /* the latest prediction of the finish, 0 none */
	long long first_prediction_ms; /* the first prediction made, 0 none (for the metrics) */
	unsigned fast;                 /* short-interval polls since the prediction passed */
	bool guessed; /* start_ms is a guess (resumed without the video's created_at):
	               * its completion teaches nothing */
};

/* Durations observed by model+size+seconds. */
struct pollplan_durations {
	struct {
		char key[POLLPLAN_KEY_MAX];
		double mean_ms;
		unsigned n;
	} e[POLLPLAN_KEYS];
	size_t n;
};

/* A Prometheus histogram: counts of values <= pollplan_bucket_le[i], the rest in the last. */
struct pollplan_hist {
	unsigned long long count[POLLPLAN_BUCKETS + 1];
	double sum;
	unsigned long long n;
};
extern const double pollplan_bucket_le[POLLPLAN_BUCKETS]; /* seconds */

struct pollplan_stats {
	struct pollplan_hist detect; /* seconds from the finish to sorad seeing it (at most) */
	struct pollplan_hist error;  /* |predicted finish - finish|, seconds */
	unsigned long long early, late, unpredicted;
};

/* What one completion taught (pollplan_completed). */
struct pollplan_outcome {
	long long duration_ms; /* the finish, counted from start_ms */
	long long detect_ms;   /* hi - lo: the detection delay, at most */
	long long error_ms;    /* predicted - finish (positive: predicted late); 0 if none */
	bool predicted;
};

void pollplan_start(struct pollplan_job *pj, long long now_ms);
/* A job whose polling began before a restart: ELAPSED_MS since its video was
 * created, < 0 unknown (then counted from now, and never learned from). */
void pollplan_resume(struct pollplan_job *pj, long long now_ms, long long elapsed_ms);

/* An answer at NOW_MS said the video is not finished, with PROGRESS (0..100; -1
 * unknown, or ignored when the service is known to report none). Values outside
 * 0..100 are ignored; progress going back restarts the samples. */
void pollplan_running(struct pollplan_job *pj, long long now_ms, int progress);

/* The predicted finish (monotonic ms), or 0 when nothing predicts it. TYPICAL_MS: the
 * observed duration of similar jobs, < 0 unknown. */
long long pollplan_predict(const struct pollplan_job *pj, long long typical_ms);

/*
 * How long to wait from NOW_MS before the next poll: aimed at the prediction, at most
 * CAP_MS (the seed schedule's wait), at least SERVER_AFTER_MS (openai-poll-after-ms,
 * < 0 none) and POLLPLAN_MIN_WAIT_MS. Records the prediction in PJ.
 */
long long pollplan_wait(struct pollplan_job *pj, long long now_ms, long long cap_ms,
                        long long server_after_ms, long long typical_ms);

/* The grid step for a job that takes about DURATION_MS. */
long long pollplan_grid_ms(long long duration_ms);

/*
 * The video was seen completed at NOW_MS; SERVICE_S is its completed_at - created_at
 * on the service's clock (whole seconds, < 0 unknown). Fills OUT; false when the
 * times make no sense or the start was guessed (then nothing should be learned).
 */
bool pollplan_completed(const struct pollplan_job *pj, long long now_ms, long long service_s,
                        struct pollplan_outcome *out);

/* "model|size|seconds" into BUF[N]. */
void pollplan_key(char *buf, size_t n, const char *model, const char *size, unsigned seconds);
/* The mean duration observed for KEY in ms, -1 none. */
long long pollplan_typical_ms(const struct pollplan_durations *d, const char *key);
/* Counts one observed duration (ignored unless within (0, POLLPLAN_MAX_MS]). */
void pollplan_learn(struct pollplan_durations *d, const char *key, long long ms);

/* Counts an outcome into the histograms. */
void pollplan_count(struct pollplan_stats *s, const struct pollplan_outcome *o);
void pollplan_hist_add(struct pollplan_hist *h, double v);

#endif
