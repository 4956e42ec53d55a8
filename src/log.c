/*
 * log.c — hour-based log files with a redaction guard (see log.h).
 *
 * The file for the current hour is opened lazily by the first event of that hour,
 * so a long-running daemon rolls over without a timer. Each line is built in one
 * bounded buffer, scrubbed of secrets and control characters, and written with a
 * single write() on an O_APPEND descriptor, so lines never interleave.
 */
#include "log.h"
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192
#define LOG_MAX_SECRETS 8
#define REDACTED "[REDACTED]"

static struct {
	pthread_mutex_t lock;
	char *dir;
	enum log_level level;
	unsigned keep_days;
	bool mirror;
	int fd;
	long long hour; /* hours since the epoch of the open file, -1 if none */
	bool warned_write;
	long long pruned_hour; /* the hour whose roll-over already pruned old files */
	char *secrets[LOG_MAX_SECRETS];
	size_t n_secrets;
	void (*clock)(struct timespec *ts);
} L = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .level = LOG_INFO,
    .mirror = true,
    .fd = -1,
    .hour = -1,
    .pruned_hour = -1,
};

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

static void now(struct timespec *ts)
{
	if (L.clock) {
		L.clock(ts);
		return;
	}
	if (clock_gettime(CLOCK_REALTIME, ts) != 0) {
		ts->tv_sec = time(NULL);
		ts->tv_nsec = 0;
	}
}

int log_level_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "debug"))
		return LOG_DEBUG;
	if (!strcasecmp(s, "info"))
		return LOG_INFO;
	if (!strcasecmp(s, "warning") || !strcasecmp(s, "warn"))
		return LOG_WARNING;
	if (!strcasecmp(s, "error"))
		return LOG_ERROR;
	return -1;
}

void log_set_clock(void (*fn)(struct timespec *ts))
{
	L.clock = fn;
}

int log_file_name(time_t t, char *buf, size_t size)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	return bfmt(buf, size, "sorad-%04d-%02d-%02d-%02d.log", tm.tm_year + 1900, tm.tm_mon + 1,
	            tm.tm_mday, tm.tm_hour);
}

/* Opens the file for hour H (hours since the epoch). Called with the lock held. */
static int open_hour(long long h)
{
	char name[64], path[4096];
	if (log_file_name((time_t)(h * 3600), name, sizeof(name)) != 0 ||
	    bfmt(path, sizeof(path), "%s/%s", L.dir, name) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (L.fd >= 0)
		close(L.fd);
	L.fd = fd;
	L.hour = h;
	return 0;
}

int log_open(const char *dir, enum log_level level, unsigned keep_days, bool mirror)
{
	pthread_mutex_lock(&L.lock);
	free(L.dir);
	L.dir = NULL;
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
	L.hour = -1;
	L.level = level;
	L.keep_days = keep_days;
	L.mirror = mirror || !dir;
	L.warned_write = false;
	L.pruned_hour = -1;
	int rc = 0;
	if (dir) {
		L.dir = xstrdup(dir);
		struct timespec ts;
		now(&ts);
		if (mkdir_p(dir, 0750) != 0 || open_hour((long long)ts.tv_sec / 3600) != 0) {
			int e = errno;
			free(L.dir);
			L.dir = NULL;
			L.mirror = true;
			errno = e;
			rc = -1;
		}
	}
	pthread_mutex_unlock(&L.lock);
	if (rc == 0 && dir)
		log_prune();
	return rc;
}

void log_close(void)
{
	pthread_mutex_lock(&L.lock);
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
	L.hour = -1;
	free(L.dir);
	L.dir = NULL;
	pthread_mutex_unlock(&L.lock);
	log_forget_secrets();
}

int log_reopen(void)
{
	pthread_mutex_lock(&L.lock);
	int rc = 0;
	if (L.dir) {
		struct timespec ts;
		now(&ts);
		rc = open_hour((long long)ts.tv_sec / 3600);
	}
	pthread_mutex_unlock(&L.lock);
	return rc;
}

/* Parses "sorad-YYYY-MM-DD-HH.log" into the start of that hour (UTC); -1 if not ours. */
static int parse_file_name(const char *name, time_t *out)
{
	int y, mo, d, h, n = 0;
	/* NOLINTNEXTLINE(cert-err34-c): field widths bound each number, ranges checked below */
	if (sscanf(name, "sorad-%4d-%2d-%2d-%2d.log%n", &y, &mo, &d, &h, &n) != 4 ||
	    n != (int)strlen(name) || strlen(name) != strlen("sorad-YYYY-MM-DD-HH.log"))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

int log_prune(void)
{
	pthread_mutex_lock(&L.lock);
	if (!L.dir || L.keep_days == 0) {
		pthread_mutex_unlock(&L.lock);
		return 0;
	}
	char *dir = xstrdup(L.dir);
	unsigned keep = L.keep_days;
	pthread_mutex_unlock(&L.lock);

	struct timespec ts;
	now(&ts);
	/* A file is kept while any part of its hour lies within the last keep days. */
	time_t cutoff = ts.tv_sec - (time_t)keep * 86400;
	int removed = 0;
	DIR *dp = opendir(dir);
	if (!dp) {
		log_event(LOG_WARNING, NULL, NULL, "log: cannot prune %s: %s", dir,
		          strerror(errno));
		free(dir);
		return 0;
	}
	int dfd = dirfd(dp);
	struct dirent *de;
	while ((de = readdir(dp))) {
		time_t t;
		if (parse_file_name(de->d_name, &t) != 0 || t + 3600 > cutoff)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
		else
			log_event(LOG_WARNING, NULL, NULL, "log: cannot remove %s/%s: %s", dir,
			          de->d_name, strerror(errno));
	}
	closedir(dp);
	free(dir);
	if (removed)
		log_event(LOG_INFO, NULL, NULL, "log: pruned %d file(s) older than %u days",
		          removed, keep);
	return removed;
}

void log_add_secret(const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	pthread_mutex_lock(&L.lock);
	for (size_t i = 0; i < L.n_secrets; i++) {
		if (!strcmp(L.secrets[i], secret)) {
			pthread_mutex_unlock(&L.lock);
			return;
		}
	}
	if (L.n_secrets == LOG_MAX_SECRETS) {
		/* Keep the newest secrets: the oldest one is the least likely to be in use. */
		free(L.secrets[0]);
		memmove(L.secrets, L.secrets + 1, (LOG_MAX_SECRETS - 1) * sizeof(L.secrets[0]));
		L.n_secrets--;
	}
	L.secrets[L.n_secrets++] = xstrdup(secret);
	pthread_mutex_unlock(&L.lock);
}

void log_forget_secrets(void)
{
	pthread_mutex_lock(&L.lock);
	for (size_t i = 0; i < L.n_secrets; i++) {
		explicit_bzero(L.secrets[i], strlen(L.secrets[i]));
		free(L.secrets[i]);
	}
	L.n_secrets = 0;
	pthread_mutex_unlock(&L.lock);
}

/*
 * Replaces each occurrence of every secret in buf (length *len, capacity cap) by
 * REDACTED. A secret cut by truncation at the end is hidden too: the tail that
 * matches a prefix of a secret is dropped. Called with the lock held.
 */
static void redact(char *buf, size_t *len, size_t cap, bool truncated)
{
	const size_t rl = strlen(REDACTED);
	for (size_t i = 0; i < L.n_secrets; i++) {
		const char *s = L.secrets[i];
		size_t sl = strlen(s);
		char *p = buf;
		while ((p = memmem(p, *len - (size_t)(p - buf), s, sl))) {
			size_t off = (size_t)(p - buf);
			size_t tail = *len - off - sl;
			size_t newlen = off + rl + tail;
			if (newlen >= cap) { /* drop what no longer fits, from the end */
				tail -= newlen - (cap - 1);
				truncated = true;
			}
			memmove(p + rl, p + sl, tail);
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): in-place splice */
			memcpy(p, REDACTED, rl);
			*len = off + rl + tail;
			p += rl;
		}
		/* A truncated line may end with the start of a secret. */
		for (size_t k = sl - 1; truncated && k >= 3; k--) {
			if (*len >= k && !memcmp(buf + *len - k, s, k)) {
				*len -= k;
				break;
			}
		}
	}
	buf[*len] = '\0';
}

/* Advances *len by snprintf's result N within cap, noting truncation. */
static void append_len(size_t *len, int n, size_t cap, bool *truncated)
{
	if (n < 0)
		return;
	if ((size_t)n >= cap - *len) {
		*len = cap - 1;
		*truncated = true;
	} else {
		*len += (size_t)n;
	}
}

void log_event(enum log_level level, const char *job, const char *video, const char *fmt, ...)
{
	if ((int)level < (int)L.level || (int)level < LOG_DEBUG || (int)level > LOG_ERROR)
		return;
	struct timespec ts;
	now(&ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);

	char line[LOG_LINE_MAX];
	const size_t cap = sizeof(line) - 1; /* room for the newline */
	size_t len = 0;
	bool truncated = false;
	int n = snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 ts.tv_nsec / 1000000, level_names[level]);
	len = n > 0 ? (size_t)n : 0;
	if (job || video) {
		n = snprintf(line + len, cap - len, "[%s%s%s%s%s] ", job ? "job=" : "",
		             job ? job : "", job && video ? " " : "", video ? "video=" : "",
		             video ? video : "");
		append_len(&len, n, cap, &truncated);
	}
	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(line + len, cap - len, fmt, ap);
	va_end(ap);
	append_len(&len, n, cap, &truncated);
	/* One event, one line: untrusted text (prompts, ids, API messages) cannot forge lines. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = ' ';
	}

	pthread_mutex_lock(&L.lock);
	redact(line, &len, cap, truncated);
	line[len++] = '\n';
	line[len] = '\0';

	if (L.dir) {
		long long h = (long long)ts.tv_sec / 3600;
		if (h != L.hour && open_hour(h) != 0 && !L.warned_write) {
			L.warned_write = true;
			fprintf(stderr,
			        "sorad: cannot open log file in %s: %s (logging to stderr)\n",
			        L.dir, strerror(errno));
		}
		if (L.fd >= 0) {
			ssize_t w = write(L.fd, line, len);
			if ((w < 0 || (size_t)w != len) && !L.warned_write) {
				L.warned_write = true;
				fprintf(stderr, "sorad: cannot write log file in %s: %s\n", L.dir,
				        w < 0 ? strerror(errno) : "short write");
			}
		}
	}
	if (L.mirror || !L.dir || L.fd < 0) {
		ssize_t w = write(STDERR_FILENO, line, len);
		(void)w; /* nowhere left to report a failing stderr */
	}
	/* The first event of a new hour prunes; log_open already pruned at start. */
	bool rolled = false;
	if (L.dir && L.hour != L.pruned_hour) {
		rolled = L.pruned_hour != -1;
		L.pruned_hour = L.hour;
	}
	pthread_mutex_unlock(&L.lock);
	if (rolled)
		log_prune();
}
