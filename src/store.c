/* store.c — job records in the state directory (see store.h). */
#include "store.h"
#include "commit.h"
#include "fsutil.h"
#include "livemark.h"
#include "log.h"
#include "prompt.h"
#include "utf8.h"
#include "util.h"
#include "video.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_VERSION 1

static int subdir(char *buf, size_t size, const char *state_dir, const char *sub)
{
	if (bfmt(buf, size, "%s/%s", state_dir, sub) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int store_open(const char *state_dir)
{
	static const char *const subs[] = {"jobs", "inputs", "corrupt"};
	for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
		char dir[4096];
		if (subdir(dir, sizeof(dir), state_dir, subs[i]) != 0 || mkdir_p(dir, 0700) != 0) {
			log_error("store: cannot create %s/%s: %s", state_dir, subs[i],
			          strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Adds KEY: S, or nothing when S is NULL (absent means unset). */
static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
}

/* Adds KEY: the object whose JSON text is TEXT, kept as the object it was; nothing
 * when TEXT is NULL or not an object. */
static void add_object(cJSON *o, const char *key, const char *text)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;
	if (cJSON_IsObject(v))
		cJSON_AddItemToObject(o, key, v);
	else
		cJSON_Delete(v);
}

/* Adds KEY: N unless N is the "unknown" value -1. */
static void add_time(cJSON *o, const char *key, long long n)
{
	if (n >= 0)
		cJSON_AddNumberToObject(o, key, (double)n);
}

char *store_record_json(const struct job *j)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "version", RECORD_VERSION);
	add_str(o, "name", j->name);
	add_str(o, "state", job_state_name(j->state));
	add_str(o, "source", j->source);
	if (j->line)
		cJSON_AddNumberToObject(o, "line", j->line);
	if (j->claim_jobs)
		cJSON_AddNumberToObject(o, "claim_jobs", j->claim_jobs);
	add_str(o, "prompt", j->prompt);
	add_str(o, "model", j->model);
	add_str(o, "size", j->size);
	cJSON_AddNumberToObject(o, "seconds", j->seconds);
	add_str(o, "reference", j->reference);
	add_str(o, "remix_of", j->remix_of);
	add_str(o, "remix_video_id", j->remix_video_id);
	add_str(o, "extend_of", j->extend_of);
	add_str(o, "extend_job_id", j->extend_job_id);
	add_str(o, "last_frame", j->last_frame);
	if (j->has_seed)
		cJSON_AddNumberToObject(o, "seed", (double)j->seed);
	if (j->audio)
		cJSON_AddBoolToObject(o, "audio", j->audio == 1);
	add_object(o, "options", j->options);
	add_str(o, "video_id", j->video_id);
	add_str(o, "status", j->status);
	cJSON_AddNumberToObject(o, "progress", j->progress);
	add_time(o, "video_created_at", j->video_created_at);
	add_time(o, "video_completed_at", j->video_completed_at);
	add_time(o, "video_expires_at", j->video_expires_at);
	add_time(o, "claimed_at", j->claimed_at);
	add_time(o, "submit_at", j->submit_at);
	add_time(o, "finished_at", j->finished_at);
	add_time(o, "next_at_ms", j->next_at_ms);
	add_time(o, "dl_window_s", j->dl_window_s);
	add_time(o, "dl_seen_at", j->dl_seen_at);
	cJSON_AddNumberToObject(o, "attempts", j->attempts);
	cJSON_AddNumberToObject(o, "creates", j->creates);
	cJSON_AddNumberToObject(o, "creates_allowed", j->creates_allowed);
	if (j->creates_void)
		cJSON_AddNumberToObject(o, "creates_void", j->creates_void);
	add_str(o, "resolution", j->resolution);
	add_str(o, "create_answer", j->create_answer);
	add_str(o, "dup_key", j->dup_key);
	add_str(o, "history", j->history);
	cJSON_AddNumberToObject(o, "cost_usd", j->cost_usd);
	if (j->reported_cost_usd >= 0)
		cJSON_AddNumberToObject(o, "reported_cost_usd", j->reported_cost_usd);
	add_object(o, "usage", j->usage);
	add_str(o, "error", j->error);
	add_str(o, "error_code", j->error_code);
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	return s;
}

int store_save(const char *state_dir, const struct job *j)
{
	if (livemark_before_save(state_dir, j) != 0)
		return -1;
	return store_stage(NULL, state_dir, j);
}

int store_stage(struct commit *c, const char *state_dir, const struct job *j)
{
	char dir[4096], file[PROMPT_NAME_MAX + 8];
	char *json = store_record_json(j);
	if (!json || subdir(dir, sizeof(dir), state_dir, "jobs") != 0 ||
	    bfmt(file, sizeof(file), "%s.json", j->name) != 0) {
		free(json);
		log_event(LOG_ERROR, j->name, j->video_id,
		          "store: cannot serialize the job record");
		errno = ENOMEM;
		return -1;
	}
	int rc =
	    commit_write(c, dir, file, json, strlen(json), 0600, !job_state_is_final(j->state));
	int e = errno;
	free(json);
	if (rc != 0)
		log_event(LOG_ERROR, j->name, j->video_id, "store: cannot write %s/%s: %s", dir,
		          file, strerror(e));
	errno = e;
	return rc;
}

bool store_staged(const struct commit *c, const char *state_dir, const char *name)
{
	char path[4096];
	return bfmt(path, sizeof(path), "%s/jobs/%s.json", state_dir, name) == 0 &&
	       commit_staged(c, path);
}

int store_remove(const char *state_dir, const char *name)
{
	char path[4096];
	if (bfmt(path, sizeof(path), "%s/jobs/%s.json", state_dir, name) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_event(LOG_ERROR, name, NULL, "store: cannot remove %s: %s", path,
		          strerror(errno));
		return -1;
	}
	char dir[4096];
	if (subdir(dir, sizeof(dir), state_dir, "jobs") == 0)
		fsync_dir(dir);
	livemark_remove(state_dir, name); /* after the record: a mark alone is harmless */
	return 0;
}

/* The archive file of J's month (when it finished, else when it was claimed; UTC). */
static int archive_path(const char *state_dir, const struct job *j, char *buf, size_t n)
{
	time_t at = (time_t)(j->finished_at >= 0 ? j->finished_at : j->claimed_at);
	struct tm tm;
	if (at < 0 || !gmtime_r(&at, &tm))
		return bfmt(buf, n, "%s/archive/undated.jsonl", state_dir);
	return bfmt(buf, n, "%s/archive/%04d-%02d.jsonl", state_dir, tm.tm_year + 1900,
	            tm.tm_mon + 1);
}

/* J's record as one line of JSON, newline included; caller frees. */
static char *record_line(const struct job *j)
{
	char *pretty = store_record_json(j);
	cJSON *o = pretty ? cJSON_Parse(pretty) : NULL;
	free(pretty);
	char *flat = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	char *line = flat ? xasprintf("%s\n", flat) : NULL;
	cJSON_free(flat);
	return line;
}

/* fsync and close FD (PATH's), closed whatever happens; 0 or -1 (logged). */
static int sync_close(int fd, const char *path)
{
	int rc = fsync(fd);
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0)
		log_error("store: cannot sync %s: %s", path, strerror(e));
	return rc;
}

size_t store_archive(const char *state_dir, const struct job *const *j, size_t n, bool *ok)
{
	char dir[4096], path[4200], open_path[4200] = "";
	int fd = -1;
	bool created = false, failed = false;
	if (subdir(dir, sizeof(dir), state_dir, "archive") != 0 || mkdir_p(dir, 0700) != 0) {
		log_error("store: cannot make %s/archive: %s", state_dir, strerror(errno));
		return 0;
	}
	/* 1. every line written, each file synced when the next month's starts */
	for (size_t i = 0; i < n; i++) {
		ok[i] = false;
		if (archive_path(state_dir, j[i], path, sizeof(path)) != 0)
			continue;
		if (strcmp(path, open_path) != 0) {
			if (fd >= 0 && sync_close(fd, open_path) != 0)
				failed = true; /* what went into it is not known to be durable */
			struct stat st;
			created = created || lstat(path, &st) != 0;
			fd = open(path,
			          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
			              O_NONBLOCK,
			          0600);
			bcopy_str(open_path, sizeof(open_path), path);
			if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
				log_error("store: cannot append to %s: %s", path,
				          fd < 0 ? strerror(errno) : "not a regular file");
				if (fd >= 0)
					close(fd);
				fd = -1;
				failed = true;
				continue;
			}
		}
		if (fd < 0 || failed)
			continue;
		char *line = record_line(j[i]);
		if (!line || write_all(fd, line, strlen(line)) != 0) {
			log_event(LOG_ERROR, j[i]->name, j[i]->video_id,
			          "store: cannot append the record to %s: %s", path,
			          line ? strerror(errno) : "out of memory");
			failed = true;
		} else {
			ok[i] = true;
		}
		free(line);
	}
	if (fd >= 0 && sync_close(fd, open_path) != 0)
		failed = true;
	if (created && fsync_dir(dir) != 0)
		failed = true;
	if (failed) {
		/* nothing removed: every record stays where it was (some may be archived twice
		 * at the next try) */
		for (size_t i = 0; i < n; i++)
			ok[i] = false;
		return 0;
	}
	/* 2. the records removed, the directory synced once */
	char jobs[4096], rec[4400];
	size_t done = 0;
	if (subdir(jobs, sizeof(jobs), state_dir, "jobs") != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		if (bfmt(rec, sizeof(rec), "%s/%s.json", jobs, j[i]->name) != 0 ||
		    (unlink(rec) != 0 && errno != ENOENT)) {
			log_event(LOG_ERROR, j[i]->name, NULL,
			          "store: archived, but cannot remove %s: %s", rec,
			          strerror(errno));
			ok[i] = false;
			continue;
		}
		livemark_remove(state_dir, j[i]->name);
		done++;
	}
	if (done)
		fsync_dir(jobs);
	return done;
}

/* Parsing back: a record is trusted no more than a network response. */

struct reader {
	const cJSON *o;
	char *why;
	size_t whylen;
	int rc;
};

static void bad(struct reader *r, const char *key, const char *what)
{
	if (r->rc == 0)
		bfmt(r->why, r->whylen, "\"%s\" %s", key, what);
	r->rc = -1;
}

/* A string member: NULL when absent; invalid (wrong type, not UTF-8, too long) fails. */
static char *get_str(struct reader *r, const char *key, size_t max, bool required)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->o, key);
	if (!m || cJSON_IsNull(m)) {
		if (required)
			bad(r, key, "is missing");
		return NULL;
	}
	if (!cJSON_IsString(m)) {
		bad(r, key, "is not a string");
		return NULL;
	}
	size_t len = strlen(m->valuestring);
	if (len > max || !utf8_check(m->valuestring, len, NULL)) {
		bad(r, key, "is too long or not UTF-8");
		return NULL;
	}
	return xstrdup(m->valuestring);
}

/* An integer member in [lo, hi]; DEF when absent. */
static long long get_int(struct reader *r, const char *key, long long lo, long long hi,
                         long long def)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->o, key);
	if (!m || cJSON_IsNull(m))
		return def;
	double d = m->valuedouble;
	if (!cJSON_IsNumber(m) || !isfinite(d) || !dbl_is_integer(d) || d < (double)lo ||
	    d > (double)hi) {
		bad(r, key, "is not a whole number in range");
		return def;
	}
	return (long long)d;
}

/* "CLAIM/FILE": two plain names, neither hidden nor "..", no control characters. */
static bool source_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') || s[0] == '.' ||
	    slash[1] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int store_record_parse(struct job *j, const char *json, size_t len, char *why, size_t whylen)
{
	job_init(j);
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!cJSON_IsObject(o)) {
		bfmt(why, whylen, "not a JSON object");
		cJSON_Delete(o);
		return -1;
	}
	struct reader r = {.o = o, .why = why, .whylen = whylen};
	const long long T = 253402300799LL; /* 9999-12-31 */
	long long version = get_int(&r, "version", 1, 1000000, -1);
	if (version != RECORD_VERSION && r.rc == 0)
		bad(&r, "version", version < 0 ? "is missing" : "is newer than this sorad reads");
	j->name = get_str(&r, "name", PROMPT_NAME_MAX, true);
	if (j->name && !prompt_name_ok(j->name))
		bad(&r, "name", "is not a safe job name");
	char *state = get_str(&r, "state", 32, true);
	int st = job_state_parse(state);
	free(state);
	if (st < 0)
		bad(&r, "state", "is not a known state");
	else
		j->state = (enum job_state)st;
	j->source = get_str(&r, "source", 4096, false);
	if (j->source && !source_ok(j->source))
		bad(&r, "source", "is not CLAIM/FILE inside the state directory");
	j->line = (unsigned)get_int(&r, "line", 0, PROMPT_BATCH_MAX + 1, 0);
	j->prompt = get_str(&r, "prompt", PROMPT_MAX_CHARS * 4, true);
	j->model = get_str(&r, "model", 128, true);
	j->size = get_str(&r, "size", 32, true);
	j->seconds = (unsigned)get_int(&r, "seconds", 1, 3600, 0);
	if (!j->seconds)
		bad(&r, "seconds", "is missing");
	j->reference = get_str(&r, "reference", PROMPT_NAME_MAX, false);
	if (j->reference && !prompt_name_ok(j->reference))
		bad(&r, "reference", "is not a safe file name");
	j->remix_of = get_str(&r, "remix_of", VIDEO_ID_MAX, false);
	j->last_frame = get_str(&r, "last_frame", PROMPT_NAME_MAX, false);
	if (j->last_frame && !prompt_name_ok(j->last_frame))
		bad(&r, "last_frame", "is not a safe file name");
	long long seed = get_int(&r, "seed", 0, PROMPT_SEED_MAX, -1);
	j->has_seed = seed >= 0;
	j->seed = seed >= 0 ? seed : 0;
	const cJSON *audio = cJSON_GetObjectItemCaseSensitive(o, "audio");
	if (audio && !cJSON_IsNull(audio) && !cJSON_IsBool(audio))
		bad(&r, "audio", "is not true or false");
	j->audio = cJSON_IsBool(audio) ? (cJSON_IsTrue(audio) ? 1 : 2) : 0;
	const cJSON *opt = cJSON_GetObjectItemCaseSensitive(o, "options");
	char *otext = cJSON_IsObject(opt) ? cJSON_PrintUnformatted(opt) : NULL;
	if (opt && !cJSON_IsNull(opt) && (!otext || strlen(otext) > PROMPT_OPTIONS_MAX))
		bad(&r, "options", "is not a JSON object of at most 16384 bytes");
	else if (otext)
		j->options = xstrdup(otext);
	cJSON_free(otext);
	j->remix_video_id = get_str(&r, "remix_video_id", VIDEO_ID_MAX, false);
	if (j->remix_video_id && !video_id_is_safe(j->remix_video_id))
		bad(&r, "remix_video_id", "is not a safe video id");
	j->extend_of = get_str(&r, "extend_of", VIDEO_ID_MAX, false);
	j->extend_job_id = get_str(&r, "extend_job_id", VIDEO_ID_MAX, false);
	if (j->extend_job_id && !video_id_is_safe(j->extend_job_id))
		bad(&r, "extend_job_id", "is not a safe video id");
	j->video_id = get_str(&r, "video_id", VIDEO_ID_MAX, false);
	if (j->video_id && !video_id_is_safe(j->video_id))
		bad(&r, "video_id", "is not a safe video id");
	j->status = get_str(&r, "status", 32, false);
	j->progress = (int)get_int(&r, "progress", -1, 100, 0);
	j->video_created_at = get_int(&r, "video_created_at", 0, T, -1);
	j->video_completed_at = get_int(&r, "video_completed_at", 0, T, -1);
	j->video_expires_at = get_int(&r, "video_expires_at", 0, T, -1);
	j->claimed_at = get_int(&r, "claimed_at", 0, T, -1);
	j->submit_at = get_int(&r, "submit_at", 0, T, -1);
	j->finished_at = get_int(&r, "finished_at", 0, T, -1);
	j->next_at_ms = get_int(&r, "next_at_ms", 0, T * 1000, 0);
	j->dl_window_s = get_int(&r, "dl_window_s", 0, T, -1);
	j->dl_seen_at = get_int(&r, "dl_seen_at", 0, T, -1);
	j->attempts = (unsigned)get_int(&r, "attempts", 0, 1000000, 0);
	j->claim_jobs = (unsigned)get_int(&r, "claim_jobs", 0, PROMPT_BATCH_MAX, 0);
	/* Records older than the create count: a job past its intent may have sent one. */
	bool past_intent =
	    j->state != JOB_CLAIMED && j->state != JOB_HELD && j->state != JOB_WAITING;
	j->creates = (unsigned)get_int(&r, "creates", 0, JOB_CREATES_MAX, past_intent ? 1 : 0);
	j->creates_allowed = (unsigned)get_int(&r, "creates_allowed", 0, JOB_CREATES_MAX,
	                                       j->creates ? j->creates : 1);
	j->creates_void = (unsigned)get_int(&r, "creates_void", 0, 0x7fffffff, 0);
	j->resolution = get_str(&r, "resolution", VIDEO_ID_MAX + 16, false);
	j->create_answer = get_str(&r, "create_answer", 2048, false);
	j->dup_key = get_str(&r, "dup_key", 64, false);
	j->history = get_str(&r, "history", 16384, false);
	const cJSON *cost = cJSON_GetObjectItemCaseSensitive(o, "cost_usd");
	if (cJSON_IsNumber(cost) && isfinite(cost->valuedouble) && cost->valuedouble >= 0)
		j->cost_usd = cost->valuedouble;
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(o, "reported_cost_usd");
	if (cJSON_IsNumber(rc) && isfinite(rc->valuedouble) && rc->valuedouble >= 0)
		j->reported_cost_usd = rc->valuedouble;
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(o, "usage");
	char *utext = cJSON_IsObject(usage) ? cJSON_PrintUnformatted(usage) : NULL;
	if (utext && strlen(utext) <= VIDEO_USAGE_MAX)
		j->usage = xstrdup(utext);
	cJSON_free(utext);
	j->error = get_str(&r, "error", 8192, false);
	j->error_code = get_str(&r, "error_code", 128, false);
	if ((j->state == JOB_RUNNING || j->state == JOB_DOWNLOADING || j->state == JOB_DONE) &&
	    !j->video_id)
		bad(&r, "video_id", "is missing for a job the API has");
	cJSON_Delete(o);
	if (r.rc != 0)
		job_release(j);
	return r.rc;
}

/* Moves STATE/jobs/FILE to STATE/corrupt/FILE.UNIXTIME, keeping it for a person. */
static void move_aside(const char *state_dir, int jobs_fd, const char *file, const char *why)
{
	char corrupt[4096], name[512];
	if (subdir(corrupt, sizeof(corrupt), state_dir, "corrupt") != 0 ||
	    bfmt(name, sizeof(name), "%s/%s.%lld", corrupt, file, (long long)time(NULL)) != 0) {
		log_error("store: cannot move aside unreadable record %s: name too long", file);
		return;
	}
	if (renameat(jobs_fd, file, AT_FDCWD, name) != 0) {
		log_error("store: unreadable record %s/jobs/%s (%s) cannot be moved aside: %s",
		          state_dir, file, why, strerror(errno));
		return;
	}
	fsync_dir(corrupt);
	log_error("store: unreadable record %s/jobs/%s (%s) moved to %s", state_dir, file, why,
	          name);
}

/* Reads FILE (at most STORE_RECORD_MAX bytes) relative to DFD; caller frees. */
static char *read_record(int dfd, const char *file, size_t *len, char *why, size_t whylen)
{
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		bfmt(why, whylen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		bfmt(why, whylen, "not a regular file");
	} else if (st.st_size > STORE_RECORD_MAX) {
		bfmt(why, whylen, "larger than %d bytes", STORE_RECORD_MAX);
	} else {
		buf = xmalloc((size_t)st.st_size + 1);
		ssize_t n = read(fd, buf, (size_t)st.st_size);
		if (n != st.st_size) {
			bfmt(why, whylen, "short read");
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

int store_record_read(int dfd, const char *file, struct job *j, char *why, size_t whylen)
{
	size_t len = 0;
	char *buf = read_record(dfd, file, &len, why, whylen);
	job_init(j);
	int rc = buf ? store_record_parse(j, buf, len, why, whylen) : -1;
	free(buf);
	return rc;
}

/*
 * Reads record FILE of directory DFD, whose job name is FILE's first NAME_LEN bytes, and
 * hands the job to CB: 1 handed, 0 not (an unreadable record moved aside; a missing
 * one skipped when MISSING_OK: a mark that outlived its record), -2 when CB stopped the
 * load.
 */
static int load_one(const char *state_dir, int dfd, const char *file, size_t name_len,
                    bool missing_ok, bool (*cb)(struct job *j, void *ud), void *ud)
{
	char why[256] = "";
	struct job j;
	if (store_record_read(dfd, file, &j, why, sizeof(why)) != 0) {
		if (!missing_ok || faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			move_aside(state_dir, dfd, file, why);
		return 0;
	}
	if (strlen(j.name) != name_len || strncmp(file, j.name, name_len) != 0) {
		job_release(&j);
		move_aside(state_dir, dfd, file, "its name does not match the file name");
		return 0;
	}
	return cb(&j, ud) ? 1 : -2;
}

int store_load_all(const char *state_dir, bool (*cb)(struct job *j, void *ud), void *ud)
{
	char dir[4096];
	if (subdir(dir, sizeof(dir), state_dir, "jobs") != 0)
		return -1;
	DIR *dp = opendir(dir);
	if (!dp) {
		log_error("store: cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	int dfd = dirfd(dp), loaded = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *n = de->d_name;
		size_t nl = strlen(n);
		if (n[0] == '.') {
			/* A temp file left by a crash mid-write: the record it replaced stands. */
			if (strstr(n, ".tmp.") && unlinkat(dfd, n, 0) == 0)
				log_info("store: removed unfinished write %s/%s", dir, n);
			continue;
		}
		if (nl < 6 || strcmp(n + nl - 5, ".json") != 0)
			continue;
		int rc = load_one(state_dir, dfd, n, nl - 5, false, cb, ud);
		if (rc == -2) {
			loaded = -2;
			break;
		}
		loaded += rc;
	}
	closedir(dp);
	return loaded;
}

int store_load_names(const char *state_dir, const char *const *names, size_t n, long stale_pid,
                     bool (*cb)(struct job *j, void *ud), void *ud)
{
	char dir[4096];
	if (subdir(dir, sizeof(dir), state_dir, "jobs") != 0)
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		log_error("store: cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	int loaded = 0;
	for (size_t i = 0; i < n; i++) {
		char file[PROMPT_NAME_MAX + 8], tmp[PROMPT_NAME_MAX + 40];
		if (bfmt(file, sizeof(file), "%s.json", names[i]) != 0)
			continue;
		/* the spare a crashed daemon kept for it (commit.h): the record it replaced stands
		 */
		if (stale_pid > 0 && bfmt(tmp, sizeof(tmp), ".%s.tmp.%ld", file, stale_pid) == 0 &&
		    unlinkat(dfd, tmp, 0) == 0)
			log_info("store: removed unfinished write %s/%s", dir, tmp);
		int rc = load_one(state_dir, dfd, file, strlen(names[i]), true, cb, ud);
		if (rc == -2) {
			loaded = -2;
			break;
		}
		loaded += rc;
	}
	close(dfd);
	return loaded;
}

int store_corrupt_names(const char *state_dir, void (*cb)(const char *name, void *ud), void *ud)
{
	char dir[4096];
	if (subdir(dir, sizeof(dir), state_dir, "corrupt") != 0)
		return -1;
	DIR *dp = opendir(dir);
	if (!dp) {
		if (errno == ENOENT)
			return 0;
		log_error("store: cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *json = strstr(de->d_name, ".json.");
		if (de->d_name[0] == '.' || !json || json == de->d_name)
			continue;
		char name[PROMPT_NAME_MAX + 1];
		size_t len = (size_t)(json - de->d_name);
		if (len >= sizeof(name))
			continue;
		memcpy(name, de->d_name, len);
		name[len] = '\0';
		if (!prompt_name_ok(name))
			continue;
		cb(name, ud);
		n++;
	}
	closedir(dp);
	return n;
}
