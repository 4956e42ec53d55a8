/* commit.c — group commit of the durable writes of a loop turn (see commit.h). */
#include "commit.h"
#include "fsutil.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT_THREADS 8     /* fsync threads for a large batch */
#define COMMIT_PER_THREAD 4  /* fsyncs that justify one more thread */

/* A set of paths in staging order, with an index for "already staged?". */
struct pathset {
	char **v;
	size_t n, cap;
	size_t *ht; /* open addressing: index + 1 */
	size_t ht_cap;
};

struct replacement {
	char *tmp;   /* DIR/.NAME.tmp.PID, written */
	char *final; /* DIR/NAME */
};

struct then {
	commit_fn *fn;
	void *ud;
};

/* One batch: what a flush makes durable. */
struct batch {
	struct pathset targets; /* finals, parallel to repl */
	struct replacement *repl;
	size_t repl_cap;
	struct pathset syncs;
	struct then *thens;
	size_t n_thens, cap_thens;
};

struct commit {
	struct batch cur;
	struct batch *running; /* the batch whose continuations are running, or NULL */
	struct commit_stats stats;
};

/* ---- path sets ---------------------------------------------------------------- */

static size_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static void ps_index(struct pathset *ps, size_t i)
{
	size_t h = hash_path(ps->v[i]) & (ps->ht_cap - 1);
	while (ps->ht[h])
		h = (h + 1) & (ps->ht_cap - 1);
	ps->ht[h] = i + 1;
}

/* The index of PATH in PS, or SIZE_MAX. */
static size_t ps_find(const struct pathset *ps, const char *path)
{
	if (!ps->ht_cap)
		return SIZE_MAX;
	size_t h = hash_path(path) & (ps->ht_cap - 1);
	while (ps->ht[h]) {
		if (!strcmp(ps->v[ps->ht[h] - 1], path))
			return ps->ht[h] - 1;
		h = (h + 1) & (ps->ht_cap - 1);
	}
	return SIZE_MAX;
}

/* Adds PATH (copied) at the end; returns its index. */
static size_t ps_add(struct pathset *ps, const char *path)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n++] = xstrdup(path);
	if (ps->n * 2 > ps->ht_cap) {
		free(ps->ht);
		ps->ht_cap = ps->ht_cap ? ps->ht_cap * 2 : 64;
		ps->ht = xcalloc(ps->ht_cap, sizeof(*ps->ht));
		for (size_t i = 0; i < ps->n; i++)
			ps_index(ps, i);
	} else {
		ps_index(ps, ps->n - 1);
	}
	return ps->n - 1;
}

static void ps_free(struct pathset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i]);
	free(ps->v);
	free(ps->ht);
	memset(ps, 0, sizeof(*ps));
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->targets.n; i++)
		free(b->repl[i].tmp); /* final is targets.v[i] */
	ps_free(&b->targets);
	free(b->repl);
	ps_free(&b->syncs);
	free(b->thens);
	memset(b, 0, sizeof(*b));
}

/* ---- parallel fsync --------------------------------------------------------------- */

struct sync_work {
	char **paths;
	int *err; /* per path: 0 or errno */
	size_t n;
	atomic_size_t next;
};

static int sync_path(const char *path)
{
	/* fsync works on a read-only descriptor, for files and directories alike. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno;
	int err = fsync(fd) == 0 ? 0 : errno;
	close(fd);
	return err;
}

static void *sync_worker(void *arg)
{
	struct sync_work *w = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			return NULL;
		w->err[i] = sync_path(w->paths[i]);
	}
}

/* fsync()s N paths, several at a time when there are many; per-path errors in ERR. */
static void sync_all(char **paths, int *err, size_t n)
{
	struct sync_work w = {.paths = paths, .err = err, .n = n};
	atomic_init(&w.next, 0);
	pthread_t th[COMMIT_THREADS];
	size_t want = n / COMMIT_PER_THREAD, started = 0;
	if (want > COMMIT_THREADS)
		want = COMMIT_THREADS;
	/* The loop thread works too; a thread that cannot start just leaves it more. */
	for (; started < want; started++)
		if (pthread_create(&th[started], NULL, sync_worker, &w) != 0)
			break;
	sync_worker(&w);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* ---- the API ------------------------------------------------------------------------ */

struct commit *commit_new(void)
{
	return xcalloc(1, sizeof(struct commit));
}

void commit_free(struct commit *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cur.targets.n; i++)
		unlink(c->cur.repl[i].tmp);
	batch_free(&c->cur);
	free(c);
}

/* Writes DATA into PATH (created or truncated) with exactly MODE; 0 or -1 (errno). */
static int write_temp(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) != 0) {
		int e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

int commit_write(struct commit *c, const char *dir, const char *name, const void *data,
		 size_t len, mode_t mode)
{
	if (!c)
		return atomic_write_file(dir, name, data, len, mode);
	char final[4096], tmp[4096];
	if (bfmt(final, sizeof(final), "%s/%s", dir, name) != 0 ||
	    bfmt(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid()) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (write_temp(tmp, data, len, mode) != 0)
		return -1;
	struct batch *b = &c->cur;
	if (ps_find(&b->targets, final) != SIZE_MAX)
		return 0; /* staged before in this batch: the temp now has the latest content */
	size_t i = ps_add(&b->targets, final);
	if (i >= b->repl_cap) {
		b->repl_cap = b->targets.cap;
		b->repl = xrealloc(b->repl, b->repl_cap * sizeof(*b->repl));
	}
	b->repl[i].tmp = xstrdup(tmp);
	b->repl[i].final = b->targets.v[i];
	return 0;
}

int commit_sync(struct commit *c, const char *path)
{
	if (!c) {
		int err = sync_path(path);
		errno = err;
		return err ? -1 : 0;
	}
	if (ps_find(&c->cur.syncs, path) == SIZE_MAX)
		ps_add(&c->cur.syncs, path);
	return 0;
}

void commit_then(struct commit *c, commit_fn *fn, void *ud)
{
	if (!c) {
		fn(ud, 0);
		return;
	}
	struct batch *b = &c->cur;
	if (b->n_thens == b->cap_thens) {
		b->cap_thens = b->cap_thens ? b->cap_thens * 2 : 16;
		b->thens = xrealloc(b->thens, b->cap_thens * sizeof(*b->thens));
	}
	b->thens[b->n_thens++] = (struct then){fn, ud};
}

void commit_cancel(struct commit *c, void *ud)
{
	if (!c)
		return;
	struct batch *b = &c->cur;
	size_t kept = 0;
	for (size_t i = 0; i < b->n_thens; i++)
		if (b->thens[i].ud != ud)
			b->thens[kept++] = b->thens[i];
	b->n_thens = kept;
	if (c->running) /* a continuation of the batch being finished frees UD */
		for (size_t i = 0; i < c->running->n_thens; i++)
			if (c->running->thens[i].ud == ud)
				c->running->thens[i].fn = NULL;
}

bool commit_pending(const struct commit *c)
{
	return c && (c->cur.targets.n || c->cur.syncs.n || c->cur.n_thens);
}

void commit_get_stats(const struct commit *c, struct commit_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c)
		*out = c->stats;
}

/* The directory part of PATH into buf ("." when there is none). */
static void dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		bcopy_str(buf, size, ".");
		return;
	}
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

int commit_flush(struct commit *c)
{
	if (!commit_pending(c))
		return 0;
	/* Take the batch: continuations stage into a fresh one. */
	struct batch b = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	c->stats.batches++;
	int first_err = 0;

	/* 1. The data of every temp file and every staged path. */
	size_t n1 = b.targets.n + b.syncs.n;
	char **paths = xcalloc(n1 ? n1 : 1, sizeof(*paths));
	int *err = xcalloc(n1 ? n1 : 1, sizeof(*err));
	for (size_t i = 0; i < b.targets.n; i++)
		paths[i] = b.repl[i].tmp;
	for (size_t i = 0; i < b.syncs.n; i++)
		paths[b.targets.n + i] = b.syncs.v[i];
	sync_all(paths, err, n1);
	c->stats.syncs += n1;
	bool syncs_ok = true;
	for (size_t i = b.targets.n; i < n1; i++) {
		if (err[i]) {
			log_error("commit: cannot fsync %s: %s", paths[i], strerror(err[i]));
			syncs_ok = false;
			if (!first_err)
				first_err = err[i];
		}
	}

	/* 2. The renames, in staging order; 3. their directories. A replacement waits
	 * when a path it may depend on could not be made durable. */
	struct pathset dirs = {0};
	size_t withheld = 0;
	for (size_t i = 0; i < b.targets.n; i++) {
		struct replacement *r = &b.repl[i];
		if (!syncs_ok) {
			unlink(r->tmp);
			withheld++;
			continue;
		}
		int e = err[i];
		if (!e && rename(r->tmp, r->final) != 0)
			e = errno;
		if (e) {
			log_error("commit: cannot replace %s: %s", r->final, strerror(e));
			unlink(r->tmp);
			if (!first_err)
				first_err = e;
			continue;
		}
		c->stats.files++;
		char dir[4096];
		dir_of(r->final, dir, sizeof(dir));
		if (ps_find(&dirs, dir) == SIZE_MAX)
			ps_add(&dirs, dir);
	}
	if (withheld)
		log_error("commit: %zu file replacement(s) not made, since what they may depend "
			  "on is not durable", withheld);
	if (dirs.n) {
		int *derr = xcalloc(dirs.n, sizeof(*derr));
		sync_all(dirs.v, derr, dirs.n);
		c->stats.syncs += dirs.n;
		for (size_t i = 0; i < dirs.n; i++) {
			if (derr[i]) {
				log_error("commit: cannot fsync %s: %s", dirs.v[i], strerror(derr[i]));
				if (!first_err)
					first_err = derr[i];
			}
		}
		free(derr);
	}
	ps_free(&dirs);
	free(paths);
	free(err);

	/* 4. What waited for it. */
	struct batch *outer = c->running;
	c->running = &b;
	for (size_t i = 0; i < b.n_thens; i++)
		if (b.thens[i].fn)
			b.thens[i].fn(b.thens[i].ud, first_err);
	c->running = outer;
	batch_free(&b);
	if (first_err) {
		errno = first_err;
		return -1;
	}
	return 0;
}
