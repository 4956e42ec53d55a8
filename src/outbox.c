/* outbox.c — output sets and failure reports (see outbox.h). */
#include "outbox.h"
#include "commit.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"
#include "spares.h"
#include "untrusted.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const suffixes[] = {
    [API_VARIANT_VIDEO] = ".mp4",
    [API_VARIANT_THUMBNAIL] = ".thumbnail.webp",
    [API_VARIANT_SPRITESHEET] = ".spritesheet.jpg",
};

const char *outbox_suffix(enum api_variant v)
{
	return (unsigned)v < ARRAY_LEN(suffixes) ? suffixes[v] : ".bin";
}

static bool exists(const char *dir, const char *name, const char *suffix)
{
	char p[PATH_MAX];
	struct stat st;
	return bfmt(p, sizeof(p), "%s/%s%s", dir, name, suffix) == 0 && lstat(p, &st) == 0;
}

/* OUTBOX/.NAME.reserved: the name is being made by a daemon (this one or another one
 * sharing the outbox); it goes when the job ends. */
static int reserved_path(const struct conf *c, const char *name, char *buf, size_t n)
{
	return bfmt(buf, n, "%s/.%s.reserved", c->outbox, name);
}

bool outbox_name_taken(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++)
		if (exists(c->outbox, name, suffixes[i]))
			return true;
	/* A reservation is not looked at here: outbox_reserve tells a claim's own (left by a
	 * crash in the middle of that claim) from another's. */
	return exists(c->outbox, name, ".json") || exists(c->failed_dir, name, ".error.txt");
}

/* The reservation at P holds exactly WHO (a crash left this very claim's). */
static bool reserved_by(const char *p, const char *who, size_t cap)
{
	char have[PATH_MAX + 64];
	if (cap > sizeof(have))
		cap = sizeof(have);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, have, cap - 1);
	close(fd);
	if (n <= 0)
		return false;
	have[n] = '\0';
	return !strcmp(have, who);
}

/* A file system without hard links (FAT, some network shares): the reservation at P is
 * created exclusively, then written. A crash between the two leaves an empty one,
 * which counts as another's: the job takes NAME-2 (a name, never money). */
static int reserve_excl(const char *p, const char *who, size_t cap)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0)
		return errno == EEXIST ? (reserved_by(p, who, cap) ? 0 : 1) : -1;
	int rc = write_all(fd, who, strlen(who));
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/*
 * The reservations' inodes, made ahead on the commit thread (spares.h) in
 * STATE/spares (not in the outbox: a synced folder would carry them to every peer),
 * renamed into the outbox to be a reservation and back when it is released. A claim
 * then makes no inode on the loop thread: with hundreds claimed at once, on a file
 * system where that is slow (ext4 without a journal), it was a fifth of the loop's
 * time. An outbox on another file system than the state directory (EXDEV) turns the
 * pool off. The directory is this daemon's alone (the state lock): what a crash left
 * in it is removed at the first fill.
 */
#define SPARES_DIR "spares"
static struct spares *spare_files;
static bool spares_on; /* the daemon's: a command's reservation makes its own file */

static struct spares *reserve_spares(const struct conf *c)
{
	char dir[PATH_MAX];
	if (!spares_on || bfmt(dir, sizeof(dir), "%s/%s", c->state_dir, SPARES_DIR) != 0)
		return NULL;
	return spares_at(&spare_files, dir, "r", "", S_IFREG | 0600, spares_low(c->max_in_flight));
}

/* STATE/spares made, or emptied of what an earlier run left; false if it cannot be. */
static bool spares_dir_ready(const struct conf *c)
{
	char dir[PATH_MAX];
	if (bfmt(dir, sizeof(dir), "%s/%s", c->state_dir, SPARES_DIR) != 0)
		return false;
	if (mkdir(dir, 0700) == 0)
		return true;
	DIR *dp = errno == EEXIST ? opendir(dir) : NULL;
	if (!dp) {
		log_warn("outbox: cannot use %s for reservations made ahead: %s", dir,
		         strerror(errno));
		return false;
	}
	struct dirent *de;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(dp), de->d_name, 0) != 0 &&
		    errno != ENOENT)
			log_debug("outbox: cannot remove %s/%s: %s", dir, de->d_name,
			          strerror(errno));
	closedir(dp);
	return true;
}

void outbox_spares_fill(const struct conf *c, struct commit *cm)
{
	if (!spares_on && !spare_files && cm) /* the first fill of this daemon */
		spares_on = spares_dir_ready(c);
	spares_fill(reserve_spares(c), cm);
}

void outbox_spares_clear(void)
{
	spares_free(spare_files); /* the commit is drained by now */
	spare_files = NULL;
	spares_on = false;
}

/* Opens TMP for the reservation: a spare renamed to it when there is one (written
 * over: only when it is a regular file with no other name, as a file in a shared
 * folder may not be), else made; -1 (errno). *REUSED tells which. */
static int reservation_fd(const struct conf *c, const char *tmp, bool *reused)
{
	*reused = false;
	struct spares *sp = reserve_spares(c);
	bool took = spares_take(sp, tmp);
	if (!took && sp && errno == EXDEV) { /* the outbox is elsewhere: no pool */
		log_info("outbox: %s is on another file system than %s: output names are "
		         "reserved without files made ahead",
		         c->outbox, c->state_dir);
		spares_on = false; /* the pool itself goes with outbox_spares_clear */
	}
	if (took) {
		int fd = open(tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
			*reused = true;
			return fd;
		}
		if (fd >= 0)
			close(fd);
		if (unlink(tmp) != 0 && errno != ENOENT)
			log_debug("outbox: cannot remove %s: %s", tmp, strerror(errno));
	}
	return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
}

int outbox_reserve(const struct conf *c, const char *name, const char *owner)
{
	char p[PATH_MAX], tmp[PATH_MAX], who[PATH_MAX + 64];
	if (reserved_path(c, name, p, sizeof(p)) != 0 ||
	    bfmt(tmp, sizeof(tmp), "%s.%s.tmp", p, owner) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	bfmt(who, sizeof(who), "%s %s\n", c->state_dir, owner);
	/* Written whole under a name only this claim uses, then linked into place: the
	 * reservation appears with its owner in it or not at all, so a crash never leaves
	 * an empty one that nobody can tell is ours. */
	bool reused;
	int fd = reservation_fd(c, tmp, &reused);
	if (fd < 0)
		return -1;
	size_t len = strlen(who);
	int rc = write_all(fd, who, len);
	/* a used one may hold a longer owner; cut to this one (never to 0 first: ext4
	 * would then write it out at close, auto_da_alloc) */
	if (rc == 0 && reused && ftruncate(fd, (off_t)len) != 0)
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	bool no_links = false;
	if (rc == 0 && link(tmp, p) != 0) {
		no_links = errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS;
		rc = errno == EEXIST ? (reserved_by(p, who, sizeof(who)) ? 0 : 1) : -1;
	}
	int e = errno;
	if (unlink(tmp) != 0 && errno != ENOENT)
		log_debug("outbox: cannot remove %s: %s", tmp, strerror(errno));
	errno = e;
	return no_links ? reserve_excl(p, who, sizeof(who)) : rc;
}

void outbox_release(const struct conf *c, const char *name)
{
	char p[PATH_MAX];
	if (reserved_path(c, name, p, sizeof(p)) != 0 || spares_keep(reserve_spares(c), p))
		return; /* its inode serves a later reservation */
	if (unlink(p) != 0 && errno != ENOENT)
		log_debug("outbox: cannot remove %s: %s", p, strerror(errno));
}

int outbox_part_path(const struct conf *c, const char *name, enum api_variant v, char *buf,
                     size_t size)
{
	return bfmt(buf, size, "%s/.%s%s.part", c->outbox, name, outbox_suffix(v));
}

int outbox_final_path(const struct conf *c, const char *name, enum api_variant v, char *buf,
                      size_t size)
{
	return bfmt(buf, size, "%s/%s%s", c->outbox, name, outbox_suffix(v));
}

/* PART (sorad's) and FINAL (anyone's: opened by the untrusted rule) hold the same bytes. */
static bool same_bytes(const char *part, const char *final)
{
	struct stat sa, sb;
	char why[128];
	int a = open(part, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int b = untrusted_open(final, 0, UNTRUSTED_LINKS_OK, &sb, why, sizeof(why));
	bool same = a >= 0 && b >= 0 && fstat(a, &sa) == 0 && sa.st_size == sb.st_size;
	static char ba[65536], bb[65536]; /* the loop thread only */
	while (same) {
		ssize_t na = read(a, ba, sizeof(ba)), nb = na > 0 ? read(b, bb, (size_t)na) : 0;
		if (na <= 0 || nb != na) {
			same = na == 0 && nb == 0;
			break;
		}
		same = memcmp(ba, bb, (size_t)na) == 0;
	}
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

int outbox_place(const struct conf *c, const char *name, const char *owner, const char *part,
                 const char *final)
{
	if (!part)
		return 0; /* a file under a left-out variant's name is not this job's to remove */
	if (renameat2(AT_FDCWD, part, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST && errno != EINVAL && errno != ENOSYS)
		return -1;
	/* FINAL is there (or the file system cannot say so atomically). It is this job's
	 * own, placed before a crash, only when the name is still reserved for this job
	 * and it holds the very bytes about to replace it; anything else (a peer machine
	 * whose reservation had not synced yet, a person) stays. */
	if (access(final, F_OK) == 0 &&
	    (outbox_reserve(c, name, owner) != 0 || !same_bytes(part, final))) {
		errno = EEXIST;
		return -1;
	}
	return rename(part, final);
}

bool outbox_is_complete(const struct conf *c, const char *name)
{
	return exists(c->outbox, name, ".json");
}

static void add_opt_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* K: the object whose JSON text is TEXT; nothing when TEXT is NULL or no object. */
static void add_object(cJSON *o, const char *k, const char *text)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;
	if (cJSON_IsObject(v))
		cJSON_AddItemToObject(o, k, v);
	else
		cJSON_Delete(v);
}

static void add_opt_time(cJSON *o, const char *k, long long t)
{
	if (t >= 0)
		cJSON_AddNumberToObject(o, k, (double)t);
	else
		cJSON_AddNullToObject(o, k);
}

int outbox_write_metadata(const struct conf *c, const struct job *j,
                          const struct outbox_file files[3], struct commit *cm)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j->name);
	/* The final Video object as the API described it. */
	cJSON *v = cJSON_AddObjectToObject(o, "video");
	cJSON_AddStringToObject(v, "id", j->video_id ? j->video_id : "");
	cJSON_AddStringToObject(v, "object", "video");
	cJSON_AddStringToObject(v, "model", j->model);
	cJSON_AddStringToObject(v, "status", j->status ? j->status : "completed");
	cJSON_AddNumberToObject(v, "progress", j->progress);
	add_opt_time(v, "created_at", j->video_created_at);
	add_opt_time(v, "completed_at", j->video_completed_at);
	add_opt_time(v, "expires_at", j->video_expires_at);
	cJSON_AddStringToObject(v, "prompt", j->prompt);
	cJSON_AddStringToObject(v, "size", j->size);
	char secs[16];
	bfmt(secs, sizeof(secs), "%u", j->seconds);
	cJSON_AddStringToObject(v, "seconds", secs);
	add_opt_str(v, "remixed_from_video_id", j->remix_video_id);
	cJSON_AddNullToObject(v, "error");
	add_object(v, "usage", j->usage); /* as the service sent it (LiteLLM, OpenRouter) */

	cJSON_AddStringToObject(o, "prompt", j->prompt);
	cJSON_AddStringToObject(o, "model", j->model);
	cJSON_AddStringToObject(o, "size", j->size);
	cJSON_AddNumberToObject(o, "seconds", j->seconds);
	add_opt_str(o, "reference", j->reference);
	add_opt_str(o, "last_frame", j->last_frame);
	if (j->has_seed)
		cJSON_AddNumberToObject(o, "seed", (double)j->seed);
	if (j->audio)
		cJSON_AddBoolToObject(o, "audio", j->audio == 1);
	add_object(o, "options", j->options);
	add_opt_str(o, "remix_of", j->remix_of);
	add_opt_str(o, "extend_of", j->extend_of);
	add_opt_str(o, "previous_job_id", j->extend_job_id);
	cJSON_AddStringToObject(o, "source", job_source_file(j));
	cJSON *fo = cJSON_AddObjectToObject(o, "files");
	cJSON *missing = cJSON_AddObjectToObject(o, "missing");
	for (int i = 0; i < API_VARIANT_N; i++) {
		const char *key = api_variant_name((enum api_variant)i);
		if (files[i].origin == OUTBOX_MISSING && i != API_VARIANT_VIDEO) {
			cJSON_AddNullToObject(fo, key);
			cJSON_AddStringToObject(missing, key,
			                        files[i].missing ? files[i].missing : "not made");
			continue;
		}
		char name[PATH_MAX];
		bfmt(name, sizeof(name), "%s%s", j->name, suffixes[i]);
		cJSON *f = cJSON_AddObjectToObject(fo, key);
		cJSON_AddStringToObject(f, "file", name);
		cJSON_AddNumberToObject(f, "bytes", (double)files[i].bytes);
		cJSON_AddStringToObject(f, "source",
		                        files[i].origin == OUTBOX_DERIVED ? "derived" : "service");
	}
	cJSON *t = cJSON_AddObjectToObject(o, "timings");
	add_opt_time(t, "claimed_at", j->claimed_at);
	add_opt_time(t, "submitted_at", j->submit_at);
	add_opt_time(t, "completed_at", j->video_completed_at);
	add_opt_time(t, "finished_at", j->finished_at);
	if (j->submit_at >= 0 && j->video_completed_at >= j->submit_at)
		cJSON_AddNumberToObject(t, "generation_seconds",
		                        (double)(j->video_completed_at - j->submit_at));
	cJSON_AddNumberToObject(o, "estimated_cost_usd", j->cost_usd);
	cJSON_AddNumberToObject(o, "spent_usd", job_spent_usd(j)); /* job.h's rule */
	if (j->reported_cost_usd >= 0) /* what the service says it cost, beside the estimate */
		cJSON_AddNumberToObject(o, "reported_cost_usd", j->reported_cost_usd);
	cJSON_AddStringToObject(o, "sorad_version", SORAD_VERSION);

	char *json = cJSON_Print(o);
	cJSON_Delete(o);
	char file[PATH_MAX];
	int rc = -1;
	if (json && bfmt(file, sizeof(file), "%s.json", j->name) == 0)
		rc = commit_write(cm, c->outbox, file, json, strlen(json), c->outbox_mode, false);
	int e = errno;
	if (rc != 0)
		log_event(LOG_ERROR, j->name, j->video_id, "outbox: cannot write %s/%s.json: %s",
		          c->outbox, j->name, strerror(e));
	free(json);
	errno = e;
	return rc;
}

/* The job alone, as one line of JSON, for a failed line of a batch. */
static char *job_line(const struct job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j->name);
	if (j->prompt)
		cJSON_AddStringToObject(o, "prompt", j->prompt);
	if (j->model)
		cJSON_AddStringToObject(o, "model", j->model);
	if (j->size)
		cJSON_AddStringToObject(o, "size", j->size);
	if (j->seconds)
		cJSON_AddNumberToObject(o, "seconds", j->seconds);
	if (j->reference)
		cJSON_AddStringToObject(o, "reference", j->reference);
	if (j->remix_of)
		cJSON_AddStringToObject(o, "remix_of", j->remix_of);
	if (j->extend_of)
		cJSON_AddStringToObject(o, "extend_of", j->extend_of);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *line = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return line;
}

static const char *ext_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	return dot ? dot : "";
}

int outbox_write_failure(const struct conf *c, const struct job *j, const char *input_path,
                         bool move_input, const char *image_path)
{
	if (mkdir_p_exact(c->failed_dir, conf_outbox_dir_mode(c)) != 0) {
		log_event(LOG_ERROR, j->name, j->video_id, "outbox: cannot create %s: %s",
		          c->failed_dir, strerror(errno));
		return -1;
	}
	char dst[PATH_MAX];
	int rc = 0;
	if (input_path && move_input) {
		if (bfmt(dst, sizeof(dst), "%s/%s%s", c->failed_dir, j->name, ext_of(input_path)) !=
		        0 ||
		    (rename(input_path, dst) != 0 && errno != ENOENT &&
		     copy_file(input_path, dst, c->outbox_mode) != 0)) {
			log_event(LOG_ERROR, j->name, j->video_id,
			          "outbox: cannot move %s to %s: %s", input_path, c->failed_dir,
			          strerror(errno));
			rc = -1;
		}
	} else if (input_path) {
		char *line = job_line(j);
		char file[PATH_MAX];
		if (bfmt(file, sizeof(file), "%s.jsonl", j->name) != 0 ||
		    atomic_write_file(c->failed_dir, file, line, strlen(line), c->outbox_mode) !=
		        0) {
			log_event(LOG_ERROR, j->name, j->video_id, "outbox: cannot write %s/%s: %s",
			          c->failed_dir, file, strerror(errno));
			rc = -1;
		}
		free(line);
	}
	if (image_path &&
	    (bfmt(dst, sizeof(dst), "%s/%s%s", c->failed_dir, j->name, ext_of(image_path)) != 0 ||
	     (copy_file(image_path, dst, c->outbox_mode) != 0 && errno != ENOENT))) {
		log_event(LOG_WARNING, j->name, j->video_id, "outbox: cannot copy %s to %s: %s",
		          image_path, c->failed_dir, strerror(errno));
	}

	char when[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	char where[PATH_MAX + 32] = "";
	if (j->source)
		bfmt(where, sizeof(where), j->line ? "%s, line %u" : "%s", job_source_file(j),
		     j->line);
	char *text = xasprintf("sorad could not make the video \"%s\".\n\n%s\n\n"
	                       "Details\n"
	                       "  file:     %s\n"
	                       "  model:    %s, %s, %u seconds\n"
	                       "  video id: %s\n"
	                       "  code:     %s\n"
	                       "  when:     %s\n",
	                       j->name, j->error ? j->error : "The job failed.", where,
	                       j->model ? j->model : "?", j->size ? j->size : "?", j->seconds,
	                       j->video_id ? j->video_id : "(none: nothing was submitted)",
	                       j->error_code ? j->error_code : "-", when);
	char file[PATH_MAX];
	if (bfmt(file, sizeof(file), "%s.error.txt", j->name) != 0 ||
	    atomic_write_file(c->failed_dir, file, text, strlen(text), c->outbox_mode) != 0) {
		log_event(LOG_ERROR, j->name, j->video_id, "outbox: cannot write %s/%s: %s",
		          c->failed_dir, file, strerror(errno));
		rc = -1;
	}
	free(text);
	return rc;
}

static void remove_failed(const struct conf *c, const char *name, const char *suffix)
{
	char p[PATH_MAX];
	if (bfmt(p, sizeof(p), "%s/%s%s", c->failed_dir, name, suffix) == 0 && unlink(p) != 0 &&
	    errno != ENOENT)
		log_event(LOG_WARNING, name, NULL, "retry: cannot remove %s: %s", p,
		          strerror(errno));
}

void outbox_remove_failure(const struct conf *c, const char *name)
{
	static const char *const reports[] = {".error.txt", ".txt", ".json", ".jsonl"};
	for (size_t i = 0; i < ARRAY_LEN(reports); i++)
		remove_failed(c, name, reports[i]);
	for (size_t i = 0; i < IMAGE_EXT_N; i++) {
		char suffix[16];
		bfmt(suffix, sizeof(suffix), ".%s", image_ext(i));
		remove_failed(c, name, suffix);
	}
}

static void sweep_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return; /* not there yet: nothing to sweep */
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *n = de->d_name, *t = strstr(n, ".tmp.");
		if (n[0] != '.' || !t)
			continue;
		char *end;
		errno = 0;
		long pid = strtol(t + 5, &end, 10);
		if (*end || errno || pid <= 0 || pid > INT_MAX)
			continue;
		/* Only a writer that is gone: a live one may be another tool's. */
		if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (unlinkat(dirfd(dp), n, 0) == 0)
			log_info("outbox: removed %s/%s, left by a write cut short", dir, n);
	}
	closedir(dp);
}

void outbox_sweep_temps(const struct conf *c)
{
	sweep_dir(c->outbox);
	sweep_dir(c->failed_dir);
}
