/*
 * usage.h — what sorad has spent: every generation (a video the API created for a
 * job) is one line of the append-only log STATE/usage.jsonl
 *
 *   {"at":1767000000,"name":"NAME","video_id":"video_…","model":"sora-2",
 *    "size":"1280x720","seconds":4,"cost_usd":0.4}
 *
 * and the daily and monthly caps are judged from it. Why a log and not the job
 * records: `sorad delete --purge` removes a record, but what was spent stays spent.
 * A line is written with one write(2) on an O_APPEND descriptor and fsync'd, so a
 * reader (`sorad usage` while the daemon runs) sees whole lines or a torn last line,
 * which it skips. The log is keyed by video id: recording a video twice is a no-op,
 * which lets the daemon repair the log at start from the job records (a crash
 * between a job's record saying "running" and the log line loses nothing).
 *
 * Periods are local time: a day starts at local midnight, a month on its first day.
 *
 * Ownership: struct usage owns its entries; usage_free releases them.
 */
#ifndef SORAD_USAGE_H
#define SORAD_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "job.h"

#define USAGE_FILE "usage.jsonl"
#define USAGE_LINE_MAX 4096

struct usage_entry {
	long long at; /* unix seconds when the video was created */
	char *name, *video_id, *model, *size;
	unsigned seconds;
	double cost_usd;
};

struct usage {
	char *path; /* STATE/usage.jsonl */
	struct usage_entry *v;
	size_t n, cap;
	size_t *ht; /* video id → index + 1 */
	size_t ht_cap;
};

/* Loads STATE/usage.jsonl (missing: empty). Never NULL; unreadable lines are skipped. */
struct usage *usage_load(const char *state_dir);
void usage_free(struct usage *u);

/* True when VIDEO_ID was recorded. */
bool usage_has(const struct usage *u, const char *video_id);

/*
 * Records J's generation (J must have a video id) at time AT, unless its video is
 * recorded already. 1 recorded, 0 already there, -1 (logged) when the log cannot be
 * written (the entry is still counted in memory). The line is appended now and made
 * durable through CM (commit.h; NULL: fsync at once).
 */
struct commit;
int usage_record(struct usage *u, const struct job *j, long long at, struct commit *cm);

/* Totals of the entries with FROM <= at < TO, for MODEL (NULL: every model). */
void usage_totals(const struct usage *u, long long from, long long to, const char *model,
                  unsigned long long *seconds, double *usd);

/* Local-time period boundaries around NOW: the start of its day and month, and the
 * start of the next day (the earliest moment a daily or monthly cap can lift). */
long long usage_day_start(time_t now);
long long usage_month_start(time_t now);
long long usage_next_day(time_t now);

/*
 * Whether one more generation of SECONDS costing USD may start now under C's caps,
 * given what is recorded and PENDING_S / PENDING_USD of creates in flight (not yet
 * recorded). 0 yes; 1 no, with the cap that stops it in plain words in why[whylen].
 */
int usage_check(const struct usage *u, const struct conf *c, unsigned seconds, double usd,
                unsigned long long pending_s, double pending_usd, time_t now, char *why,
                size_t whylen);

#endif
