/* spares.c — empty files or directories made ahead, renamed into place (spares.h). */
#include "spares.h"

#include "commit.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct spares {
	char *dir, *prefix, *suffix; /* owned */
	mode_t mode;
	size_t low;
	char **v; /* the kept ones, v[0..n) of cap */
	size_t n, cap;
	char **made; /* being made by the commit, made[0..n_made) of cap */
	size_t n_made;
	bool waiting;      /* a batch of them is with the commit */
	struct commit *cm; /* ...which makes the next batch, until the pool is full */
	unsigned seq;
};

/* Made per commit batch: the first ones can be taken while the rest are made (a burst
 * right after the start found none for the 0.36 s that 1,024 took here). */
#define SPARES_BATCH 32

struct spares *spares_new(const char *dir, const char *prefix, const char *suffix, mode_t mode,
                          size_t low)
{
	struct spares *s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(dir);
	s->prefix = xstrdup(prefix);
	s->suffix = xstrdup(suffix);
	s->mode = mode;
	spares_size(s, low);
	return s;
}

void spares_size(struct spares *s, size_t low)
{
	s->low = low ? low : 1;
	size_t cap = 2 * s->low;
	if (cap <= s->cap)
		return; /* kept ones beyond a smaller size stay until taken */
	s->v = xrealloc(s->v, cap * sizeof(*s->v));
	s->made = xrealloc(s->made, cap * sizeof(*s->made));
	s->cap = cap;
}

struct spares *spares_at(struct spares **pool, const char *dir, const char *prefix,
                         const char *suffix, mode_t mode, size_t low)
{
	if (*pool && strcmp((*pool)->dir, dir) != 0) {
		spares_free(*pool);
		*pool = NULL;
	}
	if (!*pool)
		*pool = spares_new(dir, prefix, suffix, mode, low);
	spares_size(*pool, low);
	return *pool;
}

size_t spares_low(unsigned max_in_flight)
{
	return max_in_flight < 32 ? 32 : max_in_flight > 1024 ? 1024 : max_in_flight;
}

/* The path of the next spare into PATH; 0, or -1 when it does not fit. */
static int next_path(struct spares *s, char *path, size_t size)
{
	return bfmt(path, size, "%s/%s%u%s", s->dir, s->prefix, ++s->seq, s->suffix);
}

static void stage_batch(struct spares *s, struct commit *cm);

/* The spares made by the commit join the kept ones (one that failed is skipped when
 * spares_take tries it). */
static void on_made(void *ud, int err)
{
	struct spares *s = ud;
	for (size_t i = 0; i < s->n_made; i++) {
		if (s->n < s->cap)
			s->v[s->n++] = s->made[i];
		else
			free(s->made[i]);
	}
	s->n_made = 0;
	s->waiting = false;
	struct commit *cm = s->cm;
	s->cm = NULL;
	if (cm && !err && s->n < s->cap)
		stage_batch(s, cm); /* the next batch, into the commit's next one */
}

/* Stages the making of up to SPARES_BATCH more through CM (the pool not full). */
static void stage_batch(struct spares *s, struct commit *cm)
{
	char path[4096];
	while (s->n_made < SPARES_BATCH && s->n + s->n_made < s->cap &&
	       next_path(s, path, sizeof(path)) == 0 && commit_create(cm, path, s->mode) == 0)
		s->made[s->n_made++] = xstrdup(path);
	if (s->n_made > 0) {
		s->waiting = true;
		s->cm = cm;
		commit_then(cm, on_made, s);
	}
}

void spares_fill(struct spares *s, struct commit *cm)
{
	if (!s || !cm || s->waiting || s->n * 2 >= s->low)
		return;
	stage_batch(s, cm);
}

bool spares_take(struct spares *s, const char *path)
{
	while (s && s->n > 0) {
		char *p = s->v[--s->n];
		if (rename(p, path) == 0) {
			free(p);
			return true;
		}
		if (errno == EXDEV) { /* PATH is on another file system: none will do */
			s->v[s->n++] = p;
			return false;
		}
		free(p); /* gone */
	}
	errno = ENOENT;
	return false;
}

bool spares_keep(struct spares *s, const char *path)
{
	char to[4096];
	if (!s || s->n >= s->cap || next_path(s, to, sizeof(to)) != 0 || rename(path, to) != 0)
		return false;
	s->v[s->n++] = xstrdup(to);
	return true;
}

size_t spares_count(const struct spares *s)
{
	return s ? s->n : 0;
}

void spares_free(struct spares *s)
{
	if (!s)
		return;
	s->cm = NULL;  /* no more batches */
	on_made(s, 0); /* the commit was drained: they were made, or failed */
	bool dirs = S_ISDIR(s->mode);
	for (size_t i = 0; i < s->n; i++) {
		if ((dirs ? rmdir(s->v[i]) : unlink(s->v[i])) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", s->v[i], strerror(errno));
		free(s->v[i]);
	}
	free(s->v);
	free(s->made);
	free(s->dir);
	free(s->prefix);
	free(s->suffix);
	free(s);
}
