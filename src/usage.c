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
#include <sys/stat.h>
#include <unistd.h>

#define NOT_FOUND SIZE_MAX

static const char *const state_names[] = {"sent", "created", "void"};

const char *usage_state_name(enum usage_state s)
{
	return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "?";
}

static int state_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_LEN(state_names); i++)
		if (!strcmp(s, state_names[i]))
			return (int)i;
	return -1;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The claim directory of J (its source before '/'), into buf; "" when none or too long. */
static void job_claim(const struct job *j, char *buf, size_t size)
{
	const char *slash = j->source ? strchr(j->source, '/') : NULL;
	size_t n = slash ? (size_t)(slash - j->source) : 0;
	if (n >= size)
		n = 0;
	memcpy(buf, j->source ? j->source : "", n);
	buf[n] = '\0';
}

/* ---- the two indexes: video id → counting entry, (name, claim, K) → entry ---------- */

static size_t find_key(const struct usage *u, const char *name, const char *claim, unsigned k)
{
	size_t pos;
	for (const void *v = hmap_get_first(&u->keys, name, &pos); v;
	     v = hmap_get_next(&u->keys, name, &pos)) {
		const struct usage_entry *e = &u->v[hmap_val_index(v)];
		if (e->create == k && str_eq(e->claim, claim))
			return hmap_val_index(v);
	}
	return NOT_FOUND;
}

static size_t find_video(const struct usage *u, const char *video_id)
{
	const void *v = hmap_get(&u->videos, video_id);
	return v ? hmap_val_index(v) : NOT_FOUND;
}

/* Entry IDX's video: counted by IDX unless another entry counts it already. */
static void index_video(struct usage *u, size_t idx)
{
	struct usage_entry *e = &u->v[idx];
	e->dup = false;
	if (!e->video_id || e->state == USAGE_VOID)
		return;
	size_t owner = find_video(u, e->video_id);
	if (owner == NOT_FOUND)
		hmap_put(&u->videos, e->video_id, hmap_index_val(idx));
	else
		e->dup = owner != idx;
}

static void rebuild_videos(struct usage *u)
{
	hmap_clear(&u->videos);
	for (size_t i = 0; i < u->n; i++)
		index_video(u, i);
}

/* The keys borrow entry IDX's strings: out of both indexes before they are freed. */
static void unindex(struct usage *u, size_t idx)
{
	const struct usage_entry *e = &u->v[idx];
	if (e->create && e->name)
		hmap_del_val(&u->keys, e->name, hmap_index_val(idx));
	if (e->video_id)
		hmap_del_val(&u->videos, e->video_id, hmap_index_val(idx));
}

static void index_entry(struct usage *u, size_t idx)
{
	const struct usage_entry *e = &u->v[idx];
	if (e->create && e->name)
		hmap_add(&u->keys, e->name, hmap_index_val(idx));
	index_video(u, idx);
}

/* The first place in by_at whose entry comes at or after (AT, IDX). */
static size_t by_at_pos(const struct usage *u, long long at, size_t idx)
{
	size_t lo = 0, hi = u->n_by_at;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct usage_entry *m = &u->v[u->by_at[mid]];
		if (m->at < at || (m->at == at && u->by_at[mid] < idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Entry IDX into by_at at its place (at the end, as a rule: creates come in order). */
static void by_at_insert(struct usage *u, size_t idx)
{
	size_t pos = by_at_pos(u, u->v[idx].at, idx);
	u->by_at = xgrow(u->by_at, &u->cap_by_at, (u->n_by_at + 1) * sizeof(*u->by_at),
	                 64 * sizeof(*u->by_at));
	memmove(&u->by_at[pos + 1], &u->by_at[pos], (u->n_by_at - pos) * sizeof(*u->by_at));
	u->by_at[pos] = idx;
	u->n_by_at++;
}

/* Entry IDX out of by_at (before its "at" changes). */
static void by_at_remove(struct usage *u, size_t idx)
{
	size_t pos = by_at_pos(u, u->v[idx].at, idx);
	if (pos < u->n_by_at && u->by_at[pos] == idx) {
		memmove(&u->by_at[pos], &u->by_at[pos + 1],
		        (u->n_by_at - pos - 1) * sizeof(*u->by_at));
		u->n_by_at--;
	}
}

/* Appends E (taking its strings) and indexes it. */
static size_t add_entry(struct usage *u, const struct usage_entry *e)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof(*u->v));
	}
	u->v[u->n++] = *e;
	index_entry(u, u->n - 1);
	by_at_insert(u, u->n - 1);
	return u->n - 1;
}

static void entry_release(struct usage_entry *e)
{
	free(e->name);
	free(e->claim);
	free(e->video_id);
	free(e->model);
	free(e->size);
}

/* Entry IDX (same key) becomes E, taking E's strings: the latest line wins. */
static void update_entry(struct usage *u, size_t idx, const struct usage_entry *e)
{
	struct usage_entry *old = &u->v[idx];
	/* The video it counted may now be another entry's to count: index them again. */
	bool lost = old->video_id && old->state != USAGE_VOID && !old->dup &&
	            (e->state == USAGE_VOID || !str_eq(old->video_id, e->video_id));
	unindex(u, idx);
	bool moved = old->at != e->at; /* a later line repeats the first one's "at", as a rule */
	if (moved)
		by_at_remove(u, idx);
	entry_release(old);
	*old = *e;
	if (moved)
		by_at_insert(u, idx);
	if (old->create && old->name)
		hmap_add(&u->keys, old->name, hmap_index_val(idx));
	if (lost)
		rebuild_videos(u);
	else
		index_video(u, idx);
}

bool usage_has(const struct usage *u, const char *video_id)
{
	return find_video(u, video_id) != NOT_FOUND;
}

int usage_create_state(const struct usage *u, const struct job *j, unsigned k)
{
	char claim[256];
	job_claim(j, claim, sizeof(claim));
	size_t i = j->name ? find_key(u, j->name, claim, k) : NOT_FOUND;
	return i == NOT_FOUND ? -1 : (int)u->v[i].state;
}

/* ---- the log ------------------------------------------------------------------------ */

static char *str_member(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(m) ? xstrdup(m->valuestring) : NULL;
}

/* The create key of a newer line into E; 0, or -1 when it is not one. */
static int parse_create(const cJSON *o, const cJSON *create, struct usage_entry *e)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
	int state = state_parse(cJSON_IsString(st) ? st->valuestring : NULL);
	if (!cJSON_IsNumber(create) || !(create->valuedouble >= 1) ||
	    create->valuedouble > JOB_CREATES_MAX || !dbl_is_integer(create->valuedouble) ||
	    state < 0)
		return -1;
	e->create = (unsigned)create->valuedouble;
	e->state = (enum usage_state)state;
	e->name = str_member(o, "name");
	e->claim = str_member(o, "claim");
	if (!e->claim)
		e->claim = xstrdup("");
	return e->name ? 0 : -1;
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
	const cJSON *create = cJSON_GetObjectItemCaseSensitive(o, "create");
	e->state = USAGE_CREATED;
	e->video_id = str_member(o, "video_id");
	e->model = str_member(o, "model");
	/* Ranges before the casts below: a double outside the target's range is undefined.
	 * An older line is keyed by its video id: it must have one. */
	if (!cJSON_IsNumber(at) || !cJSON_IsNumber(secs) || !e->model ||
	    !(at->valuedouble >= 0 && at->valuedouble <= 253402300799.0) ||
	    !(secs->valuedouble >= 0 && secs->valuedouble <= 1e6) ||
	    (create ? parse_create(o, create, e) != 0 : !e->video_id)) {
		entry_release(e);
		cJSON_Delete(o);
		return -1;
	}
	e->at = (long long)at->valuedouble;
	e->seconds = (unsigned)secs->valuedouble;
	e->cost_usd = cJSON_IsNumber(cost) && cost->valuedouble >= 0 ? cost->valuedouble : 0;
	e->cost_reported = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "cost_reported"));
	if (!e->name)
		e->name = str_member(o, "name");
	e->size = str_member(o, "size");
	cJSON_Delete(o);
	return 0;
}

/* A parsed line into U: the latest line of a create wins; an older line whose video
 * is counted already is a repeat. */
static void apply_line(struct usage *u, struct usage_entry *e)
{
	if (e->create) {
		size_t i = find_key(u, e->name, e->claim, e->create);
		if (i == NOT_FOUND)
			add_entry(u, e);
		else
			update_entry(u, i, e);
	} else if (usage_has(u, e->video_id)) {
		entry_release(e);
	} else {
		add_entry(u, e);
	}
}

struct usage *usage_load(const char *state_dir)
{
	struct usage *u = xcalloc(1, sizeof(*u));
	u->path = xasprintf("%s/%s", state_dir, USAGE_FILE);
	FILE *fp = fopen(u->path, "re");
	if (!fp) {
		if (errno != ENOENT)
			log_error("usage: cannot read %s: %s", u->path, strerror(errno));
		return u;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct usage_entry e;
		if (len <= USAGE_LINE_MAX && parse_line(line, (size_t)len, &e) == 0)
			apply_line(u, &e);
	}
	if (ferror(fp))
		log_error("usage: error reading %s: %s", u->path, strerror(errno));
	free(line);
	fclose(fp);
	return u;
}

void usage_free(struct usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		entry_release(&u->v[i]);
	free(u->v);
	free(u->by_at);
	hmap_release(&u->videos);
	hmap_release(&u->keys);
	free(u->path);
	free(u);
}

/*
 * Appends LINE (one JSON object, no newline) to the log with one write(2), made durable
 * through CM. A torn last line (a crash mid-append) would swallow it: it then starts
 * on a line of its own. 0, or -1 (logged for NAME / VIDEO_ID).
 */
static int append_line(struct usage *u, const char *line, const char *name, const char *video_id,
                       struct commit *cm)
{
	int fd = open(u->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot open %s: %s", u->path,
		          strerror(errno));
		return -1;
	}
	struct stat st;
	char last = '\n';
	int rc = -1;
	if (fstat(fd, &st) != 0 || (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot read the end of %s: %s",
		          u->path, strerror(errno));
	} else {
		char *buf = xasprintf("%s%s\n", last == '\n' ? "" : "\n", line);
		size_t n = strlen(buf);
		ssize_t w = write(fd, buf, n);
		free(buf);
		if (w != (ssize_t)n)
			log_event(LOG_ERROR, name, video_id, "usage: cannot append to %s: %s",
			          u->path, w < 0 ? strerror(errno) : "short write");
		else if (commit_sync(cm, u->path) != 0)
			log_event(LOG_ERROR, name, video_id, "usage: cannot sync %s: %s", u->path,
			          strerror(errno));
		else
			rc = 0;
	}
	if (close(fd) != 0 && rc == 0) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot close %s: %s", u->path,
		          strerror(errno));
		rc = -1;
	}
	return rc;
}

/* E as a log line (a newer one when it has a create key); the caller frees it. */
static char *entry_line(const struct usage_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "at", (double)e->at);
	cJSON_AddStringToObject(o, "name", e->name);
	if (e->create) {
		cJSON_AddStringToObject(o, "claim", e->claim);
		cJSON_AddNumberToObject(o, "create", e->create);
		cJSON_AddStringToObject(o, "state", usage_state_name(e->state));
	}
	if (e->video_id)
		cJSON_AddStringToObject(o, "video_id", e->video_id);
	cJSON_AddStringToObject(o, "model", e->model);
	cJSON_AddStringToObject(o, "size", e->size);
	cJSON_AddNumberToObject(o, "seconds", e->seconds);
	cJSON_AddNumberToObject(o, "cost_usd", e->cost_usd);
	if (e->cost_reported)
		cJSON_AddTrueToObject(o, "cost_reported");
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* E into U (a new key, or KEEP the entry it replaces) and its line into the log. */
static int note_entry(struct usage *u, struct usage_entry *e, size_t keep, struct commit *cm)
{
	char *line = entry_line(e);
	char *vid = e->video_id ? xstrdup(e->video_id) : NULL;
	size_t idx = keep;
	if (keep == NOT_FOUND)
		idx = add_entry(u, e);
	else
		update_entry(u, keep, e);
	int rc = -1;
	if (!line)
		log_event(LOG_ERROR, u->v[idx].name, vid, "usage: cannot format a line for %s",
		          u->path);
	else if (strlen(line) >= USAGE_LINE_MAX)
		log_event(LOG_ERROR, u->v[idx].name, vid, "usage: a line for %s is too long",
		          u->path);
	else
		rc = append_line(u, line, u->v[idx].name, vid, cm) == 0 ? 1 : -1;
	free(vid);
	free(line);
	return rc;
}

/* A new entry with J's spec; the caller sets the rest. */
static struct usage_entry job_entry(const struct job *j, long long at, const char *video_id)
{
	return (struct usage_entry){.at = at,
	                            .name = xstrdup(j->name ? j->name : ""),
	                            .video_id = video_id ? xstrdup(video_id) : NULL,
	                            .model = xstrdup(j->model ? j->model : ""),
	                            .size = xstrdup(j->size ? j->size : ""),
	                            .state = USAGE_CREATED,
	                            .seconds = j->seconds,
	                            .cost_usd = j->cost_usd};
}

int usage_record(struct usage *u, const struct job *j, long long at, struct commit *cm)
{
	if (!j->video_id || usage_has(u, j->video_id))
		return 0;
	struct usage_entry e = job_entry(j, at, j->video_id);
	return note_entry(u, &e, NOT_FOUND, cm);
}

int usage_note_create(struct usage *u, const struct job *j, unsigned k, enum usage_state state,
                      const char *video_id, long long at, struct commit *cm)
{
	if (k < 1 || k > JOB_CREATES_MAX || !j->name || (unsigned)state >= ARRAY_LEN(state_names))
		return 0;
	if (state != USAGE_CREATED)
		video_id = NULL;
	char claim[256];
	job_claim(j, claim, sizeof(claim));
	/* The video the latest create made costs what the service said, once it says. */
	bool reported = state == USAGE_CREATED && k == j->creates && j->reported_cost_usd >= 0;
	double cost = reported ? j->reported_cost_usd : j->cost_usd;
	size_t i = find_key(u, j->name, claim, k);
	if (i != NOT_FOUND) {
		if (u->v[i].state == state && str_eq(u->v[i].video_id, video_id) &&
		    u->v[i].cost_reported == reported && (!reported || u->v[i].cost_usd == cost))
			return 0;
		at = u->v[i].at; /* the create's period never moves */
	} else if (video_id && usage_has(u, video_id)) {
		return 0; /* an older line counts it: the repair at start after an upgrade */
	}
	struct usage_entry e = job_entry(j, at, video_id);
	e.claim = xstrdup(claim);
	e.create = k;
	e.state = state;
	e.cost_usd = cost;
	e.cost_reported = reported;
	return note_entry(u, &e, i, cm);
}

/* ---- totals and caps ------------------------------------------------------------------ */

void usage_totals(const struct usage *u, long long from, long long to, const char *model,
                  struct usage_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	/* the period's entries only: from the first at FROM on, in order of "at" */
	for (size_t p = by_at_pos(u, from, 0); p < u->n_by_at; p++) {
		const struct usage_entry *e = &u->v[u->by_at[p]];
		if (e->at >= to)
			break;
		if (e->state == USAGE_VOID || e->dup || (model && strcmp(model, e->model) != 0))
			continue;
		sum->seconds += e->seconds;
		sum->usd += e->cost_usd;
		sum->creates++;
		if (e->state == USAGE_SENT) {
			sum->unconfirmed_seconds += e->seconds;
			sum->unconfirmed_usd += e->cost_usd;
			sum->unconfirmed++;
		}
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

/* ", of which 4 s unconfirmed" (or "$0.40") when part of SUM is, else "". */
static void unconfirmed_note(const struct usage_sum *sum, bool usd, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!sum->unconfirmed)
		return;
	if (usd)
		bfmt(buf, n, ", of which $%.2f unconfirmed (creates whose outcome is not known)",
		     sum->unconfirmed_usd);
	else
		bfmt(buf, n, ", of which %llu s unconfirmed (creates whose outcome is not known)",
		     sum->unconfirmed_seconds);
}

int usage_check(const struct usage *u, const struct conf *c, unsigned seconds, double usd,
                unsigned long long pending_s, double pending_usd, time_t now, char *why,
                size_t whylen)
{
	/* No cap: nothing to sum (the sums walk the period's entries, on every create). */
	if (!c->daily_cap_seconds && !c->monthly_cap_seconds && !(c->daily_cap_usd > 0) &&
	    !(c->monthly_cap_usd > 0))
		return 0;
	struct usage_sum day, month;
	long long far = (long long)now + 366LL * 86400;
	usage_totals(u, usage_day_start(now), far, NULL, &day);
	usage_totals(u, usage_month_start(now), far, NULL, &month);
	unsigned long long ds = day.seconds + pending_s, ms = month.seconds + pending_s;
	double dusd = day.usd + pending_usd, musd = month.usd + pending_usd;
	char note[128];
	/* A tiny epsilon: 0.1 * 3 must not exceed a $0.30 cap. */
	const double eps = 1e-9;
	if (c->daily_cap_seconds && ds + seconds > c->daily_cap_seconds) {
		unconfirmed_note(&day, false, note, sizeof(note));
		bfmt(why, whylen,
		     "the daily cap of %u seconds is reached (%llu s generated or in flight "
		     "today%s; this job needs %u s more)",
		     c->daily_cap_seconds, ds, note, seconds);
		return 1;
	}
	if (c->monthly_cap_seconds && ms + seconds > c->monthly_cap_seconds) {
		unconfirmed_note(&month, false, note, sizeof(note));
		bfmt(why, whylen,
		     "the monthly cap of %u seconds is reached (%llu s generated or in flight "
		     "this month%s; this job needs %u s more)",
		     c->monthly_cap_seconds, ms, note, seconds);
		return 1;
	}
	if (c->daily_cap_usd > 0 && dusd + usd > c->daily_cap_usd + eps) {
		unconfirmed_note(&day, true, note, sizeof(note));
		bfmt(why, whylen,
		     "the daily cap of $%.2f is reached ($%.2f spent or in flight today%s; this "
		     "job costs about $%.2f)",
		     c->daily_cap_usd, dusd, note, usd);
		return 1;
	}
	if (c->monthly_cap_usd > 0 && musd + usd > c->monthly_cap_usd + eps) {
		unconfirmed_note(&month, true, note, sizeof(note));
		bfmt(why, whylen,
		     "the monthly cap of $%.2f is reached ($%.2f spent or in flight this month%s; "
		     "this job costs about $%.2f)",
		     c->monthly_cap_usd, musd, note, usd);
		return 1;
	}
	return 0;
}
