/* commit.c — group commit of the durable writes of a loop turn (see commit.h). */
#include "commit.h"
#include "clock.h"
#include "fsutil.h"
#include "hmap.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMMIT_THREADS 8    /* fsync threads for a large batch */
#define COMMIT_PER_THREAD 4 /* fsyncs that justify one more thread */

/* A set of paths in staging order, with an index for "already staged?". */
struct pathset {
	char **v;
	size_t n, cap;
	struct hmap index; /* path (in v) → its index */
};

struct replacement {
	char *tmp;   /* DIR/.NAME.tmp.PID, written by the I/O */
	char *final; /* DIR/NAME (the string in targets) */
	char *data;  /* the content (the latest staged) */
	size_t len;
	mode_t mode;
	bool spare; /* exchange with the target: its old inode stays as the next temp */
};

struct then {
	commit_fn *fn; /* NULL once cancelled */
	void *ud;
};

/* One batch: what a flush makes durable, and (once its I/O ran) what happened. */
struct batch {
	struct pathset targets; /* finals, parallel to repl */
	struct replacement *repl;
	size_t repl_cap;
	struct pathset syncs;
	struct pathset creates; /* empty files to make */
	struct pathset marks;   /* empty files made (and their directory synced) first */
	mode_t *create_mode;
	size_t create_cap;
	struct then *thens;
	size_t n_thens, cap_thens;
	/* Results, written by the thread that ran the I/O, read by the loop thread. */
	int *sync_err;       /* per syncs.v[i] */
	int *create_err;     /* per creates.v[i] */
	int *repl_err;       /* per target: its fsync or rename */
	struct pathset dirs; /* directories of the renamed files */
	int *dir_err;
	size_t withheld, replaced, syncs_made;
	int first_err;
	int mark_err;                     /* the first mark that could not be made, else 0 */
	long long t_handed, t_io0, t_io1; /* monotonic µs, for the debug log */
};

/*
 * Threads: the loop thread stages into cur and hands a whole batch to the worker
 * (todo); the worker runs its I/O and hands it back (done), waking the loop through
 * the eventfd. A batch's strings and arrays belong to one thread at a time; only
 * todo/done/quit are shared, under mu.
 */
struct commit {
	struct batch cur;
	struct batch *busy;    /* handed to the worker, not finished yet (loop thread) */
	struct batch *running; /* the batch whose continuations are running, or NULL */
	struct loop *loop;     /* NULL: synchronous */
	int efd;
	bool have_worker;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *todo, *done;
	bool quit;
	struct commit_stats stats;
	const struct commit *first; /* commit_defer_to */
	long long deferred_us;      /* since when cur waits for FIRST, 0 not waiting */
};

/* ---- path sets ---------------------------------------------------------------- */

/* The index of PATH in PS, or SIZE_MAX. */
static size_t ps_find(const struct pathset *ps, const char *path)
{
	const void *v = hmap_get(&ps->index, path);
	return v ? hmap_val_index(v) : SIZE_MAX;
}

/* Adds PATH (copied) at the end; returns its index. */
static size_t ps_add(struct pathset *ps, const char *path)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n] = xstrdup(path);
	hmap_put(&ps->index, ps->v[ps->n], hmap_index_val(ps->n));
	return ps->n++;
}

static void ps_free(struct pathset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i]);
	free(ps->v);
	hmap_release(&ps->index);
	memset(ps, 0, sizeof(*ps));
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->targets.n; i++) {
		free(b->repl[i].tmp); /* final is targets.v[i] */
		free(b->repl[i].data);
	}
	ps_free(&b->targets);
	free(b->repl);
	ps_free(&b->syncs);
	ps_free(&b->creates);
	ps_free(&b->marks);
	free(b->create_mode);
	free(b->create_err);
	free(b->thens);
	free(b->sync_err);
	free(b->repl_err);
	ps_free(&b->dirs);
	free(b->dir_err);
	memset(b, 0, sizeof(*b));
}

static bool batch_empty(const struct batch *b)
{
	return !b->targets.n && !b->syncs.n && !b->creates.n && !b->marks.n && !b->n_thens;
}

/* ---- parallel fsync --------------------------------------------------------------- */

/* One fsync of the I/O: of PATH, or of PATH written anew with DATA (a temp file). */
struct sync_item {
	const char *path;
	const char *data; /* NULL: just fsync (or create) */
	size_t len;
	mode_t mode;
	bool create; /* make PATH, empty, if missing (no fsync) */
	int err;     /* 0 or errno */
};

struct sync_work {
	struct sync_item *items;
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

/* Makes PATH with exactly MODE unless it exists (never truncated); 0 or errno. A
 * MODE with S_IFDIR makes a directory. */
static int create_empty(const char *path, mode_t mode)
{
	if (S_ISDIR(mode))
		return mkdir(path, mode & 07777) == 0 || errno == EEXIST ? 0 : errno;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
	if (fd < 0)
		return errno;
	int err = fchmod(fd, mode) == 0 ? 0 : errno;
	if (close(fd) != 0 && !err)
		err = errno;
	return err;
}

/*
 * Makes the mark PATH (commit_mark): a hard link to COMMIT_MARK_BASE in its directory,
 * made the first time, so that a mark costs no inode, made or removed (see replace for
 * why that matters); where a link cannot be made (the base has too many, a filesystem
 * without links), an empty file of its own. 0 or errno.
 */
#define COMMIT_MARK_BASE ".mark"
static int make_mark(const char *path)
{
	char base[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;
	if (n + sizeof(COMMIT_MARK_BASE) > sizeof(base))
		return create_empty(path, 0600);
	memcpy(base, path, n);
	memcpy(base + n, COMMIT_MARK_BASE, sizeof(COMMIT_MARK_BASE));
	for (int tries = 0; tries < 2; tries++) {
		if (link(base, path) == 0 || errno == EEXIST)
			return 0;
		if (errno != ENOENT || tries > 0)
			break;
		int err = create_empty(base, 0600); /* the first mark of this directory */
		if (err)
			return err;
	}
	return create_empty(path, 0600);
}

static void *sync_worker(void *arg)
{
	struct sync_work *w = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			return NULL;
		struct sync_item *it = &w->items[i];
		if (it->create)
			it->err = create_empty(it->path, it->mode);
		else if (!it->data)
			it->err = sync_path(it->path);
		else
			it->err =
			    write_file_synced(it->path, it->data, it->len, it->mode) ? errno : 0;
	}
}

/*
 * Runs N items, several at a time when there are many; errors in each item. The last
 * SERIAL of them (files to create) are run by this thread alone, first: creations in
 * one directory take its lock in turn anyway, and threads waiting for it spin.
 */
static void sync_all(struct sync_item *items, size_t n, size_t serial)
{
	size_t shared = n - serial;
	struct sync_work w = {.items = items, .n = shared};
	atomic_init(&w.next, 0);
	pthread_t th[COMMIT_THREADS];
	size_t want = shared / COMMIT_PER_THREAD, started = 0;
	if (want > COMMIT_THREADS)
		want = COMMIT_THREADS;
	/* This thread works too; a thread that cannot start just leaves it more. */
	for (; started < want; started++)
		if (pthread_create(&th[started], NULL, sync_worker, &w) != 0)
			break;
	struct sync_work own = {.items = items + shared, .n = serial};
	atomic_init(&own.next, 0);
	sync_worker(&own);
	sync_worker(&w);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
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

/* ---- spare inodes ------------------------------------------------------------------ */

/*
 * The old inodes that final replacements exchange out (see replace), kept as temp
 * files for the next record that needs one, instead of deleted now and allocated
 * again then. Shared by every commit of the process, since the intent commit writes
 * the temp files of records whose last change went through the main one; the I/O
 * threads take and give under the lock. Should the process die, each is a stray
 * temp file, deleted at the next start like any other.
 */
#define COMMIT_SPARES_MAX 256

static struct {
	pthread_mutex_t mu;
	char *v[COMMIT_SPARES_MAX];
	size_t n;
	unsigned users; /* commits alive: the last one to go deletes what is left */
} spares = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Whether paths A and B are in the same directory. */
static bool same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t na = sa ? (size_t)(sa - a) : 0, nb = sb ? (size_t)(sb - b) : 0;
	return na == nb && memcmp(a, b, na) == 0;
}

/* Keeps the file TMP for reuse; false when there is no room. */
static bool spare_put(const char *tmp)
{
	pthread_mutex_lock(&spares.mu);
	bool kept = spares.n < COMMIT_SPARES_MAX;
	if (kept)
		spares.v[spares.n++] = xstrdup(tmp);
	pthread_mutex_unlock(&spares.mu);
	return kept;
}

static void spare_drop(size_t i)
{
	free(spares.v[i]);
	spares.v[i] = spares.v[--spares.n];
}

/* Unless TMP exists, renames a spare of its directory to TMP: the write that follows
 * then needs no new inode. TMP itself may be a spare (its record is written again
 * after a final write): then it is no longer one, so that no other write takes it. */
static void spare_take(const char *tmp)
{
	pthread_mutex_lock(&spares.mu);
	for (size_t i = 0; i < spares.n; i++)
		if (strcmp(spares.v[i], tmp) == 0) {
			spare_drop(i);
			pthread_mutex_unlock(&spares.mu);
			return;
		}
	for (size_t i = spares.n; i-- > 0;) {
		if (!same_dir(spares.v[i], tmp))
			continue;
		if (renameat2(AT_FDCWD, spares.v[i], AT_FDCWD, tmp, RENAME_NOREPLACE) != 0 &&
		    errno != ENOENT)
			break; /* TMP exists (EEXIST), or no such rename here: keep the spare */
		spare_drop(i); /* moved, or gone */
		break;
	}
	pthread_mutex_unlock(&spares.mu);
}

/* Deletes every spare (the last commit is going). */
static void spares_clear(void)
{
	pthread_mutex_lock(&spares.mu);
	while (spares.n > 0) {
		char *p = spares.v[--spares.n];
		if (unlink(p) != 0 && errno != ENOENT)
			log_warn("commit: cannot delete the spare temp file %s: %s", p,
			         strerror(errno));
		free(p);
	}
	pthread_mutex_unlock(&spares.mu);
}

/*
 * Puts R's temp file in place of its target, exchanging the two (renameat2
 * RENAME_EXCHANGE: atomic like a rename) when the target exists, so that its old
 * inode is not deleted: a target that changes again keeps it as its next temp file,
 * a final one gives it to the spares. A record then costs one inode allocation
 * in its life instead of one per write plus a deletion. That matters where
 * allocation is costly (ext4 without a journal scans the recently deleted inodes, and
 * every deletion makes later allocations costlier). Without a target yet, or where
 * the filesystem cannot exchange, a plain rename.
 */
static int replace(const struct replacement *r)
{
	if (renameat2(AT_FDCWD, r->tmp, AT_FDCWD, r->final, RENAME_EXCHANGE) == 0) {
		if (!r->spare && !spare_put(r->tmp) && unlink(r->tmp) != 0 && errno != ENOENT)
			return -1;
		return 0;
	}
	return rename(r->tmp, r->final);
}

/*
 * The batch's I/O, on whichever thread runs it: 1. write and fsync every temp file,
 * fsync every staged path; 2. rename the temp files in staging order (none when a
 * staged path could not be synced: a replacement may depend on it); 3. fsync their
 * directories. Only syscalls and allocation: results go into the batch, the loop
 * thread logs them.
 */
static void batch_io(struct batch *b)
{
	b->t_io0 = clock_mono_us();
	/* Marks first, alone: the syncs of their directories below come after them. */
	for (size_t i = 0; i < b->marks.n; i++) {
		int e = make_mark(b->marks.v[i]);
		if (e && !b->mark_err) {
			b->mark_err = e;
			if (!b->first_err)
				b->first_err = e;
		}
	}
	size_t nt = b->targets.n, n1 = nt + b->syncs.n, nc = b->creates.n;
	struct sync_item *items = xcalloc((n1 + nc) ? (n1 + nc) : 1, sizeof(*items));
	for (size_t i = 0; i < nt; i++) {
		spare_take(b->repl[i].tmp);
		items[i] = (struct sync_item){.path = b->repl[i].tmp,
		                              .data = b->repl[i].data,
		                              .len = b->repl[i].len,
		                              .mode = b->repl[i].mode};
	}
	for (size_t i = 0; i < b->syncs.n; i++)
		items[nt + i].path = b->syncs.v[i];
	for (size_t i = 0; i < nc; i++)
		items[n1 + i] = (struct sync_item){
		    .path = b->creates.v[i], .mode = b->create_mode[i], .create = true};
	sync_all(items, n1 + nc, nc);
	b->syncs_made += n1;
	b->create_err = xcalloc(nc ? nc : 1, sizeof(*b->create_err));
	for (size_t i = 0; i < nc; i++) {
		b->create_err[i] = items[n1 + i].err;
		if (items[n1 + i].err && !b->first_err)
			b->first_err = items[n1 + i].err;
	}
	b->sync_err = xcalloc(b->syncs.n ? b->syncs.n : 1, sizeof(*b->sync_err));
	bool syncs_ok = !b->mark_err;
	for (size_t i = 0; i < b->syncs.n; i++) {
		b->sync_err[i] = items[nt + i].err;
		if (items[nt + i].err) {
			syncs_ok = false;
			if (!b->first_err)
				b->first_err = items[nt + i].err;
		}
	}
	b->repl_err = xcalloc(nt ? nt : 1, sizeof(*b->repl_err));
	for (size_t i = 0; i < nt; i++) {
		struct replacement *r = &b->repl[i];
		int e = items[i].err;
		if (!syncs_ok) {
			if (!e)
				unlink(r->tmp);
			b->withheld++;
			continue;
		}
		if (!e && replace(r) != 0) {
			e = errno;
			unlink(r->tmp);
		}
		if (e) {
			b->repl_err[i] = e;
			if (!b->first_err)
				b->first_err = e;
			continue;
		}
		b->replaced++;
		char dir[4096];
		dir_of(r->final, dir, sizeof(dir));
		if (ps_find(&b->dirs, dir) == SIZE_MAX)
			ps_add(&b->dirs, dir);
	}
	free(items);
	struct sync_item *ditems = xcalloc(b->dirs.n ? b->dirs.n : 1, sizeof(*ditems));
	for (size_t i = 0; i < b->dirs.n; i++)
		ditems[i].path = b->dirs.v[i];
	sync_all(ditems, b->dirs.n, 0);
	b->syncs_made += b->dirs.n;
	b->dir_err = xcalloc(b->dirs.n ? b->dirs.n : 1, sizeof(*b->dir_err));
	for (size_t i = 0; i < b->dirs.n; i++) {
		b->dir_err[i] = ditems[i].err;
		if (ditems[i].err && !b->first_err)
			b->first_err = ditems[i].err;
	}
	free(ditems);
	b->t_io1 = clock_mono_us();
}

/* On the loop thread, after batch_io: logs what failed, runs the continuations. */
static int batch_finish(struct commit *c, struct batch *b)
{
	c->stats.batches++;
	c->stats.files += b->replaced;
	c->stats.syncs += b->syncs_made;
	for (size_t i = 0; i < b->syncs.n; i++)
		if (b->sync_err[i])
			log_error("commit: cannot fsync %s: %s", b->syncs.v[i],
			          strerror(b->sync_err[i]));
	if (b->mark_err)
		log_error("commit: cannot make a mark among %zu (%s): nothing of this batch was "
		          "replaced",
		          b->marks.n, strerror(b->mark_err));
	for (size_t i = 0; i < b->creates.n; i++)
		if (b->create_err[i])
			log_error("commit: cannot create %s: %s", b->creates.v[i],
			          strerror(b->create_err[i]));
	for (size_t i = 0; i < b->targets.n; i++)
		if (b->repl_err[i])
			log_error("commit: cannot replace %s: %s", b->targets.v[i],
			          strerror(b->repl_err[i]));
	if (b->withheld)
		log_error("commit: %zu file replacement(s) not made, since what they may depend "
		          "on is not durable",
		          b->withheld);
	for (size_t i = 0; i < b->dirs.n; i++)
		if (b->dir_err[i])
			log_error("commit: cannot fsync %s: %s", b->dirs.v[i],
			          strerror(b->dir_err[i]));
	log_debug("commit: %zu replaced, %zu created, %zu fsyncs in %.1f ms; handed over "
	          "%.1f ms ago, %zu continuations",
	          b->replaced, b->creates.n, b->syncs_made, (double)(b->t_io1 - b->t_io0) / 1e3,
	          (double)(clock_mono_us() - (b->t_handed ? b->t_handed : b->t_io0)) / 1e3,
	          b->n_thens);
	int err = b->first_err;
	struct batch *outer = c->running;
	c->running = b;
	for (size_t i = 0; i < b->n_thens; i++)
		if (b->thens[i].fn)
			b->thens[i].fn(b->thens[i].ud, err);
	c->running = outer;
	batch_free(b);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Takes the staged batch out of C (continuations stage into a fresh one). */
static struct batch *take_cur(struct commit *c)
{
	struct batch *b = xmalloc(sizeof(*b));
	*b = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	return b;
}

/* Commits the staged batch on this thread. */
static int flush_here(struct commit *c)
{
	if (batch_empty(&c->cur))
		return 0;
	struct batch *b = take_cur(c);
	batch_io(b);
	int rc = batch_finish(c, b);
	int e = errno;
	free(b);
	errno = e;
	return rc;
}

/* ---- the worker ------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct commit *c = arg;
	pthread_setname_np(pthread_self(), "sorad-commit"); /* for top -H, perf */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->todo && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->todo)
			break;
		struct batch *b = c->todo;
		pthread_mutex_unlock(&c->mu);
		batch_io(b);
		pthread_mutex_lock(&c->mu);
		c->todo = NULL;
		c->done = b;
		uint64_t one = 1;
		/* Cannot fail short of a bug: the counter never nears its maximum. */
		if (write(c->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			c->quit = true;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The finished batch back from the worker (NULL if none), with the wakeup consumed. */
static struct batch *take_done(struct commit *c, bool wait)
{
	pthread_mutex_lock(&c->mu);
	while (wait && !c->done && c->todo)
		pthread_cond_wait(&c->cv, &c->mu);
	struct batch *b = c->done;
	c->done = NULL;
	pthread_mutex_unlock(&c->mu);
	uint64_t n;
	if (b && read(c->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("commit: eventfd: %s", strerror(errno));
	return b;
}

static void hand_over(struct commit *c);

static void finish_busy(struct commit *c, bool wait)
{
	if (!c->busy)
		return;
	struct batch *b = take_done(c, wait);
	if (!b)
		return;
	c->busy = NULL;
	batch_finish(c, b);
	free(b);
}

static void on_done(int fd, uint32_t events, void *ud)
{
	(void)fd;
	(void)events;
	struct commit *c = ud;
	finish_busy(c, false);
	/* What the continuations staged (and anything staged meanwhile) goes next. */
	commit_flush(c);
}

static bool start_worker(struct commit *c)
{
	if (c->have_worker)
		return true;
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		log_error("commit: eventfd: %s; committing on the loop thread", strerror(errno));
		c->loop = NULL;
		return false;
	}
	if (loop_watch(c->loop, c->efd, EPOLLIN, on_done, c) != 0) {
		close(c->efd);
		c->efd = -1;
		c->loop = NULL;
		return false;
	}
	int e = pthread_create(&c->worker, NULL, worker_main, c);
	if (e != 0) {
		log_error("commit: cannot start the commit thread: %s; committing on the loop "
		          "thread",
		          strerror(e));
		loop_unwatch(c->loop, c->efd);
		close(c->efd);
		c->efd = -1;
		c->loop = NULL;
		return false;
	}
	c->have_worker = true;
	return true;
}

static void hand_over(struct commit *c)
{
	if (!start_worker(c)) {
		flush_here(c);
		return;
	}
	struct batch *b = take_cur(c);
	b->t_handed = clock_mono_us();
	c->busy = b;
	pthread_mutex_lock(&c->mu);
	c->todo = b;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---- the API ------------------------------------------------------------------------ */

struct commit *commit_new(struct loop *l)
{
	struct commit *c = xcalloc(1, sizeof(*c));
	c->loop = l;
	c->efd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_mutex_lock(&spares.mu);
	spares.users++;
	pthread_mutex_unlock(&spares.mu);
	return c;
}

void commit_free(struct commit *c)
{
	if (!c)
		return;
	if (c->have_worker) {
		pthread_mutex_lock(&c->mu);
		c->quit = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->worker, NULL);
		if (c->loop)
			loop_unwatch(c->loop, c->efd);
	}
	if (c->efd >= 0)
		close(c->efd);
	if (c->busy) { /* its I/O ran; its continuations are dropped */
		batch_free(c->busy);
		free(c->busy);
	}
	batch_free(&c->cur);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	pthread_mutex_lock(&spares.mu);
	bool last = --spares.users == 0;
	pthread_mutex_unlock(&spares.mu);
	if (last)
		spares_clear();
}

int commit_write(struct commit *c, const char *dir, const char *name, const void *data, size_t len,
                 mode_t mode, bool again)
{
	if (!c)
		return atomic_write_file(dir, name, data, len, mode);
	char final[4096], tmp[4096];
	if (bfmt(final, sizeof(final), "%s/%s", dir, name) != 0 ||
	    bfmt(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid()) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Only the content is kept: the commit writes the temp file (a file created here
	 * would cost the loop thread an inode allocation per change). */
	char *copy = xmalloc(len ? len : 1);
	memcpy(copy, data, len);
	struct batch *b = &c->cur;
	size_t i = ps_find(&b->targets, final);
	if (i != SIZE_MAX) { /* staged before in this batch: the latest content wins */
		free(b->repl[i].data);
	} else {
		i = ps_add(&b->targets, final);
		if (i >= b->repl_cap) {
			b->repl_cap = b->targets.cap;
			b->repl = xrealloc(b->repl, b->repl_cap * sizeof(*b->repl));
		}
		b->repl[i].tmp = xstrdup(tmp);
		b->repl[i].final = b->targets.v[i];
	}
	b->repl[i].data = copy;
	b->repl[i].len = len;
	b->repl[i].mode = mode;
	b->repl[i].spare = again;
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

int commit_create(struct commit *c, const char *path, mode_t mode)
{
	if (!c) {
		int err = create_empty(path, mode);
		errno = err;
		return err ? -1 : 0;
	}
	struct batch *b = &c->cur;
	if (ps_find(&b->creates, path) != SIZE_MAX)
		return 0;
	size_t i = ps_add(&b->creates, path);
	if (i >= b->create_cap) {
		b->create_cap = b->creates.cap;
		b->create_mode = xrealloc(b->create_mode, b->create_cap * sizeof(*b->create_mode));
	}
	b->create_mode[i] = mode;
	return 0;
}

int commit_mark_here(const char *path)
{
	int err = make_mark(path);
	errno = err;
	return err ? -1 : 0;
}

int commit_mark(struct commit *c, const char *path)
{
	char dir[4096];
	dir_of(path, dir, sizeof(dir));
	if (!c) {
		int err = make_mark(path);
		if (!err && fsync_dir(dir) != 0)
			err = errno;
		errno = err;
		return err ? -1 : 0;
	}
	if (ps_find(&c->cur.marks, path) == SIZE_MAX)
		ps_add(&c->cur.marks, path);
	return commit_sync(c, dir);
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

/* Continuations are only ever read on the loop thread, in every batch. */
static void cancel_in(struct batch *b, const void *ud)
{
	if (b)
		for (size_t i = 0; i < b->n_thens; i++)
			if (b->thens[i].ud == ud)
				b->thens[i].fn = NULL;
}

void commit_cancel(struct commit *c, const void *ud)
{
	if (!c)
		return;
	cancel_in(&c->cur, ud);
	cancel_in(c->busy, ud);
	cancel_in(c->running, ud);
}

bool commit_staged(const struct commit *c, const char *path)
{
	/* The batch with the thread is read only: its targets do not change there. */
	return c && (ps_find(&c->cur.targets, path) != SIZE_MAX ||
	             (c->busy && ps_find(&c->busy->targets, path) != SIZE_MAX));
}

bool commit_pending(const struct commit *c)
{
	return c && (c->busy || !batch_empty(&c->cur));
}

void commit_get_stats(const struct commit *c, struct commit_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c)
		*out = c->stats;
}

int commit_flush(struct commit *c)
{
	if (!c)
		return 0;
	if (!c->loop)
		return flush_here(c);
	if (c->busy || batch_empty(&c->cur))
		return 0;
	if (c->first && commit_pending(c->first)) {
		long long now = clock_mono_us();
		if (!c->deferred_us)
			c->deferred_us = now;
		if (now - c->deferred_us < COMMIT_DEFER_MS * 1000LL)
			return 0;
	}
	c->deferred_us = 0;
	hand_over(c);
	return 0;
}

void commit_defer_to(struct commit *c, const struct commit *first)
{
	if (c)
		c->first = first;
}

int commit_drain(struct commit *c)
{
	if (!c)
		return 0;
	finish_busy(c, true);
	int rc = 0;
	for (int i = 0; i < 64 && !batch_empty(&c->cur); i++)
		if (flush_here(c) != 0)
			rc = -1;
	return rc;
}
