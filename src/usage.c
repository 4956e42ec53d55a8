/* usage.c — the usage log and the caps judged from it (see usage.h). */
#include "usage.h"
#include "commit.h"
#include "log.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ht_insert(struct usage *u, size_t idx)
{
	size_t h = hash_str(u->v[idx].video_id) & (u->ht_cap - 1);
	while (u->ht[h])
		h = (h + 1) & (u->ht_cap - 1);
	u->ht[h] = idx + 1;
}

static void add_entry(struct usage *u, const struct usage_entry *e)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof(*u->v));
	}
	u->v[u->n++] = *e;
	if (u->n * 2 > u->ht_cap) {
		free(u->ht);
		u->ht_cap = u->ht_cap ? u->ht_cap * 2 : 256;
		while (u->n * 2 > u->ht_cap)
			u->ht_cap *= 2;
		u->ht = xcalloc(u->ht_cap, sizeof(*u->ht));
		for (size_t i = 0; i < u->n; i++)
			ht_insert(u, i);
	} else {
		ht_insert(u, u->n - 1);
	}
}

bool usage_has(const struct usage *u, const char *video_id)
{
	if (!u->ht_cap || !video_id)
		return false;
	size_t h = hash_str(video_id) & (u->ht_cap - 1);
	while (u->ht[h]) {
		if (!strcmp(u->v[u->ht[h] - 1].video_id, video_id))
			return true;
		h = (h + 1) & (u->ht_cap - 1);
	}
	return false;
}

static char *str_member(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(m) ? xstrdup(m->valuestring) : NULL;
}

/* One line into E; 0, or -1 when it is not a usage entry (a torn or edited line). */
static int parse_line(const char *line, size_t len, struct usage_entry *e)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -1;
	}
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(o, "seconds");
	const cJSON *cost = cJSON_GetObjectItemCaseSensitive(o, "cost_usd");
	e->video_id = str_member(o, "video_id");
	e->model = str_member(o, "model");
	/* Ranges before the casts below: a double outside the target's range is undefined. */
	if (!cJSON_IsNumber(at) || !cJSON_IsNumber(secs) || !e->video_id || !e->model ||
	    !(at->valuedouble >= 0 && at->valuedouble <= 253402300799.0) ||
	    !(secs->valuedouble >= 0 && secs->valuedouble <= 1e6)) {
		free(e->video_id);
		free(e->model);
		cJSON_Delete(o);
		return -1;
	}
	e->at = (long long)at->valuedouble;
	e->seconds = (unsigned)secs->valuedouble;
	e->cost_usd = cJSON_IsNumber(cost) && cost->valuedouble >= 0 ? cost->valuedouble : 0;
	e->name = str_member(o, "name");
	e->size = str_member(o, "size");
	cJSON_Delete(o);
	return 0;
}

struct usage *usage_load(const char *state_dir)
{
	struct usage *u = xcalloc(1, sizeof(*u));
	u->path = xasprintf("%s/%s", state_dir, USAGE_FILE);
	FILE *fp = fopen(u->path, "re");
	if (!fp)
		return u;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct usage_entry e;
		if (len > USAGE_LINE_MAX || parse_line(line, (size_t)len, &e) != 0)
			continue;
		if (usage_has(u, e.video_id)) {
			free(e.name);
			free(e.video_id);
			free(e.model);
			free(e.size);
			continue;
		}
		add_entry(u, &e);
	}
	free(line);
	fclose(fp);
	return u;
}

void usage_free(struct usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].name);
		free(u->v[i].video_id);
		free(u->v[i].model);
		free(u->v[i].size);
	}
	free(u->v);
	free(u->ht);
	free(u->path);
	free(u);
}

int usage_record(struct usage *u, const struct job *j, long long at, struct commit *cm)
{
	if (!j->video_id || usage_has(u, j->video_id))
		return 0;
	struct usage_entry e = {.at = at,
	                        .name = xstrdup(j->name ? j->name : ""),
	                        .video_id = xstrdup(j->video_id),
	                        .model = xstrdup(j->model ? j->model : ""),
	                        .size = xstrdup(j->size ? j->size : ""),
	                        .seconds = j->seconds,
	                        .cost_usd = j->cost_usd};
	add_entry(u, &e);

	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "at", (double)at);
	cJSON_AddStringToObject(o, "name", e.name);
	cJSON_AddStringToObject(o, "video_id", e.video_id);
	cJSON_AddStringToObject(o, "model", e.model);
	cJSON_AddStringToObject(o, "size", e.size);
	cJSON_AddNumberToObject(o, "seconds", e.seconds);
	cJSON_AddNumberToObject(o, "cost_usd", e.cost_usd);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return -1;
	char *line = xasprintf("%s\n", s);
	free(s);
	int rc = -1;
	int fd = open(u->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* One write: a concurrent reader sees the whole line or none of it. */
		ssize_t w = write(fd, line, strlen(line));
		if (w == (ssize_t)strlen(line) && commit_sync(cm, u->path) == 0)
			rc = 1;
		int e2 = errno;
		close(fd);
		errno = e2;
	}
	if (rc < 0)
		log_event(LOG_ERROR, j->name, j->video_id, "usage: cannot append to %s: %s",
		          u->path, strerror(errno));
	free(line);
	return rc;
}

void usage_totals(const struct usage *u, long long from, long long to, const char *model,
                  unsigned long long *seconds, double *usd)
{
	*seconds = 0;
	*usd = 0;
	for (size_t i = 0; i < u->n; i++) {
		const struct usage_entry *e = &u->v[i];
		if (e->at < from || e->at >= to || (model && strcmp(model, e->model) != 0))
			continue;
		*seconds += e->seconds;
		*usd += e->cost_usd;
	}
}

static long long local_midnight(struct tm tm, int add_days, bool month_start)
{
	if (month_start)
		tm.tm_mday = 1;
	tm.tm_mday += add_days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1; /* let mktime decide across a DST change */
	return (long long)mktime(&tm);
}

long long usage_day_start(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 0, false);
}

long long usage_month_start(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 0, true);
}

long long usage_next_day(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 1, false);
}

int usage_check(const struct usage *u, const struct conf *c, unsigned seconds, double usd,
                unsigned long long pending_s, double pending_usd, time_t now, char *why,
                size_t whylen)
{
	unsigned long long ds, ms;
	double dusd, musd;
	long long far = (long long)now + 366LL * 86400;
	usage_totals(u, usage_day_start(now), far, NULL, &ds, &dusd);
	usage_totals(u, usage_month_start(now), far, NULL, &ms, &musd);
	ds += pending_s;
	ms += pending_s;
	dusd += pending_usd;
	musd += pending_usd;
	/* A tiny epsilon: 0.1 * 3 must not exceed a $0.30 cap. */
	const double eps = 1e-9;
	if (c->daily_cap_seconds && ds + seconds > c->daily_cap_seconds) {
		bfmt(why, whylen,
		     "the daily cap of %u seconds is reached (%llu s generated or in flight today, "
		     "this job needs %u s more)",
		     c->daily_cap_seconds, ds, seconds);
		return 1;
	}
	if (c->monthly_cap_seconds && ms + seconds > c->monthly_cap_seconds) {
		bfmt(why, whylen,
		     "the monthly cap of %u seconds is reached (%llu s generated or in flight "
		     "this month, this job needs %u s more)",
		     c->monthly_cap_seconds, ms, seconds);
		return 1;
	}
	if (c->daily_cap_usd > 0 && dusd + usd > c->daily_cap_usd + eps) {
		bfmt(why, whylen,
		     "the daily cap of $%.2f is reached ($%.2f spent or in flight today, this "
		     "job costs about $%.2f)",
		     c->daily_cap_usd, dusd, usd);
		return 1;
	}
	if (c->monthly_cap_usd > 0 && musd + usd > c->monthly_cap_usd + eps) {
		bfmt(why, whylen,
		     "the monthly cap of $%.2f is reached ($%.2f spent or in flight this month, "
		     "this job costs about $%.2f)",
		     c->monthly_cap_usd, musd, usd);
		return 1;
	}
	return 0;
}
