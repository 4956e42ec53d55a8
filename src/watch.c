/* watch.c — the inbox watcher: inotify, settle, rescans and polling (see watch.h). */
#include "watch.h"
#include "hmap.h"
#include "image.h"
#include "log.h"
#include "prompt.h"
#include "utf8.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* Poll mode lists the inbox at most this often (or every settle_ms when longer). */
#define POLL_MIN_MS 1000
/* A scanned entry that is still changing is looked at again after at least this. */
#define RECHECK_MIN_MS 100
/* Looking for a missing inbox: first retry, and the ceiling of the doubling. */
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 30000
/* inotify reads per wakeup, so that a flood of events cannot starve the loop. */
#define READS_PER_WAKEUP 16

/* ---- state */

/* What lstat said about an entry; any difference means it is still being written. */
struct filestate {
	ino_t ino;
	off_t size;
	mode_t type;
	struct timespec mtime, ctime;
};

/*
 * An inbox entry the watcher tracks. In inotify mode only pending candidates are
 * tracked; in poll mode every prompt or image entry present at the last scan is.
 */
struct ent {
	char *key;         /* the file name (its key in w->ents) */
	struct stem *stem; /* inotify mode: pending under this stem */
	struct ent *snext; /* next pending entry of the same stem */
	bool prompt;       /* deliverable; an image only takes part in settling its stem */
	bool verify;       /* found by a scan: check that it stopped changing first */
	bool delivered;    /* poll mode: delivered, and unchanged since */
	struct filestate fs;
	unsigned long seen_scan, changed_scan; /* poll mode */
	long long held_since;                  /* poll mode: waiting for its image since (0: not) */
};

/* Entries sharing a stem settle together (inotify mode); ordered by due in a heap. */
struct stem {
	char *key;            /* the stem (its key in w->stems) */
	long long due;        /* loop_now_ms() time at which it has settled */
	long long held_since; /* settled, but waiting for its image since (0: not) */
	size_t heap_idx;
	struct ent *ents;
};

/* Images of a stem still arriving under temp names (inotify mode): how many. */
struct arriving {
	char *key; /* the stem the images will have (its key in w->arriving) */
	unsigned n;
};

/* One temp name of an arriving image (inotify mode). */
struct tempent {
	char *key; /* the temp name (its key in w->temps) */
	struct arriving *a;
};

struct watch {
	struct loop *loop;
	struct loop_timer *timer; /* the one timer: settle deadlines, poll scans, retries */
	watch_ready_fn *cb;
	void *ud;

	char *inbox;
	unsigned settle_ms;
	unsigned pair_wait_ms; /* a settled prompt waits this long for an arriving image */
	enum watch_mode want;  /* as configured */
	enum watch_mode mode;  /* effective: WATCH_INOTIFY or WATCH_POLL */

	int ifd, wd;         /* inotify descriptor and the inbox's watch, or -1 */
	bool lost;           /* inotify mode without a watch: retrying at retry_at */
	bool lost_logged;    /* "cannot watch the inbox" said once per loss */
	bool missing_logged; /* poll mode: "inbox missing" said once */
	long long retry_at, retry_ms;
	bool rewatch;        /* the watch was lost while reading events: re-add after */
	bool scan_due;       /* a full scan on the next timer tick */
	long long next_poll; /* poll mode: time of the next scan */
	unsigned long scans;

	struct hmap ents;     /* struct ent by name */
	struct hmap stems;    /* struct stem by stem (inotify mode) */
	struct hmap temps;    /* struct tempent by temp name (inotify mode) */
	struct hmap arriving; /* struct arriving by stem (inotify mode) */
	struct stem **heap;   /* min-heap of stems by due */
	size_t n_heap, cap_heap;
};

/* Names to deliver, collected first so that callbacks never run mid-update. */
struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *name)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 16;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n++] = xstrdup(name);
}

/* ---- names */

/* The extension after the last '.', when there is a non-empty stem before it. */
static const char *ext_of(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	return dot && dot != name ? dot + 1 : NULL;
}

static bool has_suffix_ci(const char *name, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len >= sl && !strcasecmp(name + len - sl, suffix);
}

bool watch_is_ignored(const char *name)
{
	/* Temp names of the tools people use to put files somewhere: what they write
	 * there is not complete until renamed to its final name, which is delivered. */
	static const char *const suffixes[] = {
	    ".tmp", ".temp", ".part",       ".partial",  ".filepart",   ".swp",
	    ".swo", ".swx",  ".crdownload", ".download", ".opdownload", ".crswap",
	    ".!qb", ".!ut",  ".!sync",      ".kate-swp",
	};
	if (!name || !*name || name[0] == '.' || strchr(name, '/'))
		return true;
	size_t len = strlen(name);
	if (name[len - 1] == '~')
		return true;
	if (len >= 2 && name[0] == '#' && name[len - 1] == '#')
		return true;
	if (!strncmp(name, "~$", 2) || !strncmp(name, "~syncthing~", 11) || !strcmp(name, "4913"))
		return true;
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++)
		if (has_suffix_ci(name, len, suffixes[i]))
			return true;
	return false;
}

bool watch_has_image_ext(const char *name)
{
	return image_ext_ok(ext_of(name));
}

bool watch_has_prompt_ext(const char *name)
{
	return prompt_format_from_ext(ext_of(name)) >= 0;
}

/* STR without PREFIX and SUFFIX into OUT; false when it has not both or nothing is left. */
static bool strip(const char *str, const char *prefix, const char *suffix, char *out, size_t size)
{
	size_t len = strlen(str), pl = strlen(prefix), sl = strlen(suffix);
	if (len <= pl + sl || strncmp(str, prefix, pl) != 0 ||
	    strcasecmp(str + len - sl, suffix) != 0 || len - pl - sl >= size)
		return false;
	memcpy(out, str + pl, len - pl - sl);
	out[len - pl - sl] = '\0';
	return true;
}

/* Drops a last ".XXXX" (4 to 16 letters or digits: a tool's random part) from NAME. */
static bool drop_random_ext(char *name)
{
	char *dot = strrchr(name, '.');
	if (!dot || dot == name)
		return false;
	size_t n = strlen(dot + 1);
	if (n < 4 || n > 16)
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	*dot = '\0';
	return true;
}

bool watch_temp_target(const char *name, char *out, size_t size)
{
	static const char *const suffixes[] = {".crdownload", ".part", ".download", ".filepart",
	                                       ".tmp",        ".temp", ".!sync",    ".opdownload"};
	if (!name || !*name || strchr(name, '/'))
		return false;
	bool ok = strip(name, ".syncthing.", ".tmp", out, size) ||
	          strip(name, "~syncthing~", ".tmp", out, size) ||
	          (strip(name, ".unison.", ".unison.tmp", out, size) && drop_random_ext(out)) ||
	          (strip(name, "", ".partial", out, size) && (drop_random_ext(out), true));
	for (size_t i = 0; !ok && i < ARRAY_LEN(suffixes); i++)
		ok = name[0] != '.' && strip(name, "", suffixes[i], out, size);
	/* rsync: ".NAME.XXXXXX" (mkstemp's six characters). */
	if (!ok && name[0] == '.' && strip(name, ".", "", out, size)) {
		const char *dot = strrchr(out, '.');
		ok = dot && strlen(dot + 1) == 6 && drop_random_ext(out);
	}
	return ok && out[0] != '.' && !watch_is_ignored(out);
}

enum kind { K_NONE, K_PROMPT, K_IMAGE, K_TEMP };

static enum kind classify(const char *name)
{
	if (watch_is_ignored(name)) {
		char target[NAME_MAX + 1];
		return watch_temp_target(name, target, sizeof(target)) &&
		               watch_has_image_ext(target)
		           ? K_TEMP
		           : K_NONE;
	}
	if (watch_has_prompt_ext(name))
		return K_PROMPT;
	return watch_has_image_ext(name) ? K_IMAGE : K_NONE;
}

/* NAME made safe for a one-line log: control bytes (and, unless UTF-8, high bytes) escaped. */
static const char *loggable(const char *name, char *buf, size_t size)
{
	bool utf8 = utf8_check(name, strlen(name), NULL);
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < size; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
			(void)bfmt(buf + o, size - o, "\\x%02x", *p);
			o += 4;
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}

#define LOGNAME_MAX (4 * NAME_MAX + 1)

/* ---- file state */

static void fs_from_stat(struct filestate *fs, const struct stat *st)
{
	fs->ino = st->st_ino;
	fs->size = st->st_size;
	fs->type = st->st_mode & S_IFMT;
	fs->mtime = st->st_mtim;
	fs->ctime = st->st_ctim;
}

static bool fs_equal(const struct filestate *a, const struct filestate *b)
{
	return a->ino == b->ino && a->size == b->size && a->type == b->type &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * Modified less than settle_ms ago. An mtime in the future (a sync tool preserving
 * the times of a machine with a fast clock) does not count as young: the local
 * kernel stamps writes with the local clock, so nobody is writing it right now, and
 * waiting for such a file to "age" could take forever.
 */
static bool fs_young(const struct watch *w, const struct filestate *fs)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	long long m_ns = (long long)fs->mtime.tv_sec * 1000000000LL + fs->mtime.tv_nsec;
	return m_ns <= now_ns && now_ns - m_ns < (long long)w->settle_ms * 1000000LL;
}

/* ---- the stem heap (inotify mode) */

static void heap_set(struct watch *w, size_t i, struct stem *s)
{
	w->heap[i] = s;
	s->heap_idx = i;
}

static void heap_up(struct watch *w, size_t i)
{
	struct stem *s = w->heap[i];
	while (i > 0 && w->heap[(i - 1) / 2]->due > s->due) {
		heap_set(w, i, w->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(w, i, s);
}

static void heap_down(struct watch *w, size_t i)
{
	struct stem *s = w->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->n_heap)
			break;
		if (c + 1 < w->n_heap && w->heap[c + 1]->due < w->heap[c]->due)
			c++;
		if (w->heap[c]->due >= s->due)
			break;
		heap_set(w, i, w->heap[c]);
		i = c;
	}
	heap_set(w, i, s);
}

static void heap_remove(struct watch *w, struct stem *s)
{
	size_t i = s->heap_idx;
	if (i == SIZE_MAX)
		return;
	s->heap_idx = SIZE_MAX;
	if (i == --w->n_heap)
		return;
	heap_set(w, i, w->heap[w->n_heap]);
	heap_up(w, i);
	heap_down(w, w->heap[i]->heap_idx);
}

/* (Re)starts STEM's settle period: it settles at DUE. */
static void stem_touch(struct watch *w, struct stem *s, long long due)
{
	s->due = due;
	if (s->heap_idx == SIZE_MAX) {
		if (w->n_heap == w->cap_heap) {
			w->cap_heap = w->cap_heap ? 2 * w->cap_heap : 64;
			w->heap = xrealloc(w->heap, w->cap_heap * sizeof(*w->heap));
		}
		w->heap[w->n_heap] = s;
		s->heap_idx = w->n_heap++;
		heap_up(w, s->heap_idx);
	} else {
		heap_up(w, s->heap_idx);
		heap_down(w, s->heap_idx);
	}
}

static struct stem *stem_get(struct watch *w, const char *name)
{
	const char *dot = strrchr(name, '.'); /* classify() guarantees a stem before it */
	char *key = xstrndup(name, (size_t)(dot - name));
	struct stem *s = hmap_get(&w->stems, key);
	if (s) {
		free(key);
		return s;
	}
	s = xcalloc(1, sizeof(*s));
	s->key = key;
	s->heap_idx = SIZE_MAX;
	hmap_put(&w->stems, s->key, s);
	return s;
}

static void stem_free(struct watch *w, struct stem *s)
{
	heap_remove(w, s);
	hmap_del(&w->stems, s->key);
	free(s->key);
	free(s);
}

static void ent_free(struct watch *w, struct ent *e)
{
	hmap_del(&w->ents, e->key);
	free(e->key);
	free(e);
}

static struct ent *ent_get(struct watch *w, const char *name, bool prompt)
{
	struct ent *e = hmap_get(&w->ents, name);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->key = xstrdup(name);
		e->prompt = prompt;
		hmap_put(&w->ents, e->key, e);
	}
	return e;
}

/* ---- images arriving under temp names (inotify mode) */

/* Frees every value of table M with its key (the value's own key field), and M. */
static void free_table(struct hmap *m)
{
	const char *key;
	void *v;
	for (size_t pos = 0; hmap_next(m, &pos, &key, &v);) {
		free((char *)key); /* the value's own key field */
		free(v);
	}
	hmap_release(m);
}

static void forget_temps(struct watch *w)
{
	free_table(&w->temps);
	free_table(&w->arriving);
}

/* The stem of the image temp name NAME will become, into KEY; false if none. */
static bool temp_stem(const char *name, char *key, size_t size)
{
	if (!watch_temp_target(name, key, size))
		return false;
	char *dot = strrchr(key, '.');
	if (!dot || dot == key)
		return false;
	*dot = '\0';
	return true;
}

/* The stem of image NAME (its name without the extension) into KEY; false if none. */
static bool image_stem(const char *name, char *key, size_t size)
{
	const char *dot = strrchr(name, '.');
	size_t len = dot ? (size_t)(dot - name) : 0;
	if (!len || len >= size)
		return false;
	memcpy(key, name, len);
	key[len] = '\0';
	return true;
}

/*
 * NAME exists and is not finished: an image of its stem is arriving. NAME is either an
 * image's temp name (K_TEMP: it ends when renamed or removed) or an image written in
 * place (K_IMAGE: created or modified and not closed yet; it ends at IN_CLOSE_WRITE,
 * which the kernel also sends when the writer dies).
 */
static void temp_add(struct watch *w, const char *name, enum kind k)
{
	char key[NAME_MAX + 1];
	if (hmap_get(&w->temps, name) ||
	    !(k == K_TEMP ? temp_stem(name, key, sizeof(key)) : image_stem(name, key, sizeof(key))))
		return;
	struct arriving *a = hmap_get(&w->arriving, key);
	if (!a) {
		a = xcalloc(1, sizeof(*a));
		a->key = xstrdup(key);
		hmap_put(&w->arriving, a->key, a);
	}
	a->n++;
	struct tempent *t = xcalloc(1, sizeof(*t));
	t->key = xstrdup(name);
	t->a = a;
	hmap_put(&w->temps, t->key, t);
}

/* NAME is finished: a temp name renamed or removed, an image closed or removed. */
static void temp_del(struct watch *w, const char *name)
{
	struct tempent *t = hmap_get(&w->temps, name);
	if (!t)
		return;
	if (--t->a->n == 0) {
		hmap_del(&w->arriving, t->a->key);
		free(t->a->key);
		free(t->a);
	}
	hmap_del(&w->temps, t->key);
	free(t->key);
	free(t);
}

static bool stem_arriving(const struct watch *w, const char *stem)
{
	return hmap_get(&w->arriving, stem) != NULL;
}

/* Forgets every tracked entry and stem (a new inbox or mode, watch_free). */
static void forget_all(struct watch *w)
{
	free_table(&w->ents);
	free_table(&w->stems);
	w->n_heap = 0;
	forget_temps(w);
}

/*
 * Inotify mode: NAME may be complete. FS is what a scan saw (the entry must then be
 * seen to stop changing), or NULL for an event that says the writer is done.
 */
static void note(struct watch *w, const char *name, enum kind k, const struct filestate *fs,
                 long long now)
{
	struct ent *e = ent_get(w, name, k == K_PROMPT);
	e->verify = fs != NULL;
	if (fs)
		e->fs = *fs;
	if (!e->stem) {
		e->stem = stem_get(w, name);
		e->snext = e->stem->ents;
		e->stem->ents = e;
	}
	stem_touch(w, e->stem, now + w->settle_ms);
}

/*
 * NAME is being written (created or modified, not closed yet): a pending candidate of
 * the same stem waits settle_ms more, so that cat.txt is not claimed with half of a
 * cat.png still being copied. NAME itself becomes a candidate only once closed.
 */
static void hold_stem(struct watch *w, const char *name, enum kind k, long long now)
{
	char key[NAME_MAX + 1];
	if (k == K_TEMP) {
		if (!temp_stem(name, key, sizeof(key)))
			return;
	} else {
		const char *dot = strrchr(name, '.'); /* classify() guarantees a stem */
		size_t len = (size_t)(dot - name);
		if (len >= sizeof(key))
			return;
		memcpy(key, name, len);
		key[len] = '\0';
	}
	struct stem *s = hmap_get(&w->stems, key);
	if (s && s->heap_idx != SIZE_MAX)
		stem_touch(w, s, now + w->settle_ms);
}

/* ---- the timer */

static void schedule(struct watch *w)
{
	long long at = -1;
	if (w->n_heap)
		at = w->heap[0]->due;
	if (w->scan_due && !w->lost)
		at = 0; /* the past: the next iteration */
	if (w->mode == WATCH_POLL && (at < 0 || w->next_poll < at))
		at = w->next_poll;
	if (w->mode == WATCH_INOTIFY && w->lost && (at < 0 || w->retry_at < at))
		at = w->retry_at;
	if (at < 0)
		loop_timer_disarm(w->timer);
	else
		loop_timer_arm_at(w->timer, at);
}

static void deliver(struct watch *w, struct names *ns)
{
	char lb[LOGNAME_MAX];
	for (size_t i = 0; i < ns->n; i++) {
		log_debug("watch: %s is ready", loggable(ns->v[i], lb, sizeof(lb)));
		w->cb(ns->v[i], w->ud);
		free(ns->v[i]);
	}
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

/* ---- inotify */

static bool out_of_watches(int err)
{
	return err == EMFILE || err == ENOSPC || err == ENOMEM;
}

static void on_inotify(int fd, uint32_t events, void *ud);

static void inotify_stop(struct watch *w)
{
	if (w->ifd < 0)
		return;
	loop_unwatch(w->loop, w->ifd);
	close(w->ifd);
	w->ifd = w->wd = -1;
}

/* Creates the inotify instance if needed and watches the inbox; 0, or -1 with errno. */
static int inotify_start(struct watch *w)
{
	if (w->ifd < 0) {
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ifd < 0)
			return -1;
		if (loop_watch(w->loop, w->ifd, EPOLLIN, on_inotify, w) != 0) {
			int e = errno;
			close(w->ifd);
			w->ifd = -1;
			errno = e;
			return -1;
		}
	}
	/* An entry counts once its writer closed it or it was moved in whole; IN_CREATE
	 * and IN_MODIFY only hold back the candidates of the same stem (hold_stem).
	 * IN_DELETE and IN_MOVED_FROM tell that an image's temp name is gone. The
	 * *_SELF events tell that the inbox itself went away. */
	int wd =
	    inotify_add_watch(w->ifd, w->inbox,
	                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE |
	                          IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	if (wd < 0)
		return -1;
	w->wd = wd;
	return 0;
}

const char *watch_fs_needs_polling(unsigned long f_type)
{
	static const struct {
		uint32_t magic;
		const char *name;
	} fss[] = {
	    {0x6969, "NFS"},      {0x517B, "SMB"},    {0xFF534D42, "CIFS"}, {0xFE534D42, "SMB2"},
	    {0x65735546, "FUSE"}, {0x01021997, "9p"}, {0x00C36400, "Ceph"},
	};
	/* statfs's f_type is a signed long on some ABIs: compare the 32 magic bits. */
	for (size_t i = 0; i < ARRAY_LEN(fss); i++)
		if ((uint32_t)f_type == fss[i].magic)
			return fss[i].name;
	return NULL;
}

static const char *remote_fs_name(const char *dir)
{
	struct statfs sf;
	if (statfs(dir, &sf) != 0)
		return NULL; /* a missing inbox: inotify_add_watch will say so */
	return watch_fs_needs_polling((unsigned long)sf.f_type);
}

static unsigned poll_interval(const struct watch *w)
{
	return w->settle_ms > POLL_MIN_MS ? w->settle_ms : POLL_MIN_MS;
}

static void go_poll(struct watch *w)
{
	inotify_stop(w);
	if (w->mode != WATCH_POLL)
		forget_all(w); /* pending inotify candidates come back with the first scan */
	w->mode = WATCH_POLL;
	w->lost = false;
	w->scan_due = true;
}

/* The inbox cannot be watched right now: say so once, and look again later. */
static void lose(struct watch *w, int err)
{
	if (!w->lost_logged) {
		if (err == ENOENT)
			log_warn("watch: inbox %s does not exist; waiting for it", w->inbox);
		else
			log_error("watch: cannot watch inbox %s: %s; retrying", w->inbox,
			          strerror(err));
		w->lost_logged = true;
	}
	if (!w->lost)
		w->retry_ms = RETRY_FIRST_MS;
	else if (w->retry_ms < RETRY_MAX_MS)
		w->retry_ms = w->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->retry_ms * 2;
	w->lost = true;
	w->retry_at = loop_now_ms() + w->retry_ms;
}

/*
 * Decides the mode and, for inotify, watches the inbox, then asks for a full scan.
 * Returns -1 (logged) only when inotify is demanded and impossible at START; later
 * the same failure is retried like a missing inbox.
 */
static int start(struct watch *w, bool at_start)
{
	const char *remote = NULL;
	if (w->want == WATCH_POLL) {
		go_poll(w);
		return 0;
	}
	if ((remote = remote_fs_name(w->inbox))) {
		if (w->want == WATCH_AUTO) {
			log_info("watch: inbox %s is on %s, where inotify misses changes made "
			         "elsewhere: polling it every %u ms",
			         w->inbox, remote, poll_interval(w));
			go_poll(w);
			return 0;
		}
		log_warn("watch: inbox %s is on %s: inotify (watch_mode = inotify) will miss "
		         "files written by other machines",
		         w->inbox, remote);
	}
	w->mode = WATCH_INOTIFY;
	if (inotify_start(w) == 0) {
		if (w->lost_logged)
			log_info("watch: watching inbox %s again; rescanning it", w->inbox);
		w->lost = w->lost_logged = false;
		w->scan_due = true;
		return 0;
	}
	int err = errno;
	bool no_instance = w->ifd < 0;
	/* What to raise, in the words of the sysctl or limit an administrator would change. */
	const char *hint = no_instance ? "the open-file limit or fs.inotify.max_user_instances"
	                               : "fs.inotify.max_user_watches";
	if (w->want == WATCH_AUTO && (no_instance || out_of_watches(err))) {
		log_warn("watch: inotify is not available for inbox %s (%s; %s may be too low): "
		         "polling it every %u ms",
		         w->inbox, strerror(err), hint, poll_interval(w));
		go_poll(w);
		return 0;
	}
	if (at_start && (no_instance || out_of_watches(err))) {
		log_error("watch: cannot watch inbox %s with inotify: %s (watch_mode = inotify; "
		          "raise %s or use watch_mode = auto)",
		          w->inbox, strerror(err), hint);
		return -1;
	}
	/* A missing, unreadable or replaced inbox, or inotify exhausted later on. */
	lose(w, err);
	return 0;
}

/* The watch on the inbox is gone (deleted, moved, unmounted): watch it again. */
static void watch_lost(struct watch *w, const char *why)
{
	log_warn("watch: lost the watch on inbox %s (%s); watching it again", w->inbox, why);
	/* For a moved inbox the kernel still watches the old directory: drop that.
	 * EINVAL means the kernel dropped it already. */
	if (w->wd >= 0)
		(void)inotify_rm_watch(w->ifd, w->wd);
	w->wd = -1;
	w->rewatch = true;
}

static void handle_event(struct watch *w, int wd, uint32_t mask, const char *name, long long now)
{
	if (mask & IN_Q_OVERFLOW) {
		log_warn("watch: inotify queue overflowed; rescanning inbox %s", w->inbox);
		w->scan_due = true;
		return;
	}
	if (wd < 0 || wd != w->wd)
		return; /* the stale leftovers of a watch dropped earlier */
	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
		watch_lost(w, mask & IN_DELETE_SELF ? "deleted"
		              : mask & IN_MOVE_SELF ? "moved"
		              : mask & IN_UNMOUNT   ? "unmounted"
		                                    : "dropped by the kernel");
		return;
	}
	if (!name)
		return;
	enum kind k = classify(name);
	if (k == K_NONE)
		return;
	if (k == K_TEMP) {
		/* An image still being written under a temp name: its prompt waits. */
		if (mask & (IN_DELETE | IN_MOVED_FROM)) {
			temp_del(w, name);
		} else {
			temp_add(w, name, k);
			hold_stem(w, name, k, now);
		}
		return;
	}
	/* An image written in place is arriving from its first write to its close, however
	 * long its writer pauses: its prompt waits for it, not only settle_ms. */
	if (k == K_IMAGE && (mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)))
		temp_del(w, name);
	else if (k == K_IMAGE && (mask & (IN_CREATE | IN_MODIFY)))
		temp_add(w, name, k);
	if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
		note(w, name, k, NULL, now);
	else if (mask & (IN_CREATE | IN_MODIFY))
		hold_stem(w, name, k, now);
}

/* After a batch of events: re-add a lost watch, then arm the timer. */
static void after_events(struct watch *w)
{
	if (w->rewatch) {
		w->rewatch = false;
		(void)start(w, false);
	}
	schedule(w);
}

static void on_inotify(int fd, uint32_t events, void *ud)
{
	(void)events;
	struct watch *w = ud;
	char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	long long now = loop_now_ms();
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_warn("watch: reading inotify events: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			handle_event(w, ev->wd, ev->mask, ev->len ? ev->name : NULL, now);
			p += sizeof(*ev) + ev->len;
		}
	}
	/* Level-triggered: whatever is left unread wakes the loop again. */
	after_events(w);
}

/* ---- scans */

/*
 * Lists the inbox, calling FN for every prompt or image entry with what lstat said.
 * Returns 0; 1 when the listing broke off (logged); -1 with errno when the inbox
 * cannot be opened (not logged: the callers know whether that is news).
 */
static int scan_dir(struct watch *w,
                    void (*fn)(struct watch *, const char *, enum kind, const struct filestate *,
                               void *),
                    void *arg)
{
	w->scans++;
	DIR *d = opendir(w->inbox);
	if (!d)
		return -1;
	char lb[LOGNAME_MAX];
	struct dirent *de;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		enum kind k = classify(de->d_name);
		if (k == K_NONE)
			continue;
		/* lstat, never open: a FIFO or device must not block the loop. */
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				log_warn("watch: cannot stat %s in inbox %s: %s",
				         loggable(de->d_name, lb, sizeof(lb)), w->inbox,
				         strerror(errno));
			continue;
		}
		struct filestate fs;
		fs_from_stat(&fs, &st);
		fn(w, de->d_name, k, &fs, arg);
	}
	int rc = 0;
	if (errno != 0) {
		log_warn("watch: reading inbox %s: %s", w->inbox, strerror(errno));
		rc = 1;
	}
	closedir(d);
	return rc;
}

static void scan_note(struct watch *w, const char *name, enum kind k, const struct filestate *fs,
                      void *arg)
{
	if (k == K_TEMP)
		temp_add(w, name, k);
	else
		note(w, name, k, fs, *(long long *)arg);
}

/* Inotify mode: every entry present becomes a candidate, checked before delivery. */
static void full_scan(struct watch *w, long long now)
{
	w->scan_due = false;
	forget_temps(w); /* what is still there is found again */
	if (scan_dir(w, scan_note, &now) < 0 && errno != ENOENT)
		log_warn("watch: cannot scan inbox %s: %s", w->inbox, strerror(errno));
	/* A missing inbox also lost its watch: its *_SELF event brings us back here. */
}

static unsigned hold_recheck(const struct watch *w)
{
	return w->settle_ms > 250 ? w->settle_ms : 250;
}

/*
 * Prompt ENTRY has settled: true while an image of its stem is still ARRIVING under
 * a temp name and the prompt has waited less than pair_wait_ms (*HELD_SINCE: since
 * when, 0 at first).
 */
static bool hold_for_image(struct watch *w, bool arriving, const char *entry, long long *held_since,
                           long long now)
{
	char lb[LOGNAME_MAX];
	if (!w->pair_wait_ms || !arriving) {
		if (*held_since)
			log_info("watch: %s: its image has arrived after %lld ms",
			         loggable(entry, lb, sizeof(lb)), now - *held_since);
		return false;
	}
	if (!*held_since) {
		*held_since = now;
		log_info("watch: %s waits for its image, still being written (under a temp "
		         "name, or open for writing; at most %u s: pair_wait_s)",
		         loggable(entry, lb, sizeof(lb)), w->pair_wait_ms / 1000);
		return true;
	}
	if (now - *held_since < (long long)w->pair_wait_ms)
		return true;
	log_warn("watch: %s: its image was still being written under a temp name after %u s "
	         "(pair_wait_s); taking the prompt without it",
	         loggable(entry, lb, sizeof(lb)), w->pair_wait_ms / 1000);
	return false;
}

/* Delivers the stems whose settle period is over (inotify mode). */
static void settle_due(struct watch *w, long long now, struct names *ready)
{
	if (!w->n_heap || w->heap[0]->due > now)
		return;
	char lb[LOGNAME_MAX];
	int dfd = open(w->inbox, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		log_event(errno == ENOENT ? LOG_DEBUG : LOG_WARNING, NULL, NULL,
		          "watch: cannot open inbox %s: %s; dropping %zu pending entries until "
		          "the next scan",
		          w->inbox, strerror(errno), w->ents.n);
	/* Stems re-armed in this pass are due later, but bound the pass anyway. */
	size_t budget = w->n_heap;
	while (w->n_heap && w->heap[0]->due <= now && budget--) {
		struct stem *s = w->heap[0];
		heap_remove(w, s);
		bool unsettled = false;
		struct ent **pp = &s->ents;
		while (*pp) {
			struct ent *e = *pp;
			struct stat st;
			bool gone = dfd < 0;
			if (!gone && fstatat(dfd, e->key, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				/* Claimed, deleted or renamed before it settled: nothing to do.
				 * Any other failure is for the claimer to report. */
				gone = errno == ENOENT;
				if (!gone)
					e->verify = false;
			} else if (!gone && e->verify) {
				struct filestate fs;
				fs_from_stat(&fs, &st);
				if (!fs_equal(&fs, &e->fs) || fs_young(w, &fs)) {
					log_debug("watch: %s is still changing",
					          loggable(e->key, lb, sizeof(lb)));
					e->fs = fs;
					unsettled = true;
				}
			}
			if (gone) {
				*pp = e->snext;
				ent_free(w, e);
			} else {
				pp = &e->snext;
			}
		}
		if (unsettled) {
			unsigned wait =
			    w->settle_ms > RECHECK_MIN_MS ? w->settle_ms : RECHECK_MIN_MS;
			stem_touch(w, s, now + wait);
			continue;
		}
		const struct ent *pe = s->ents;
		while (pe && !pe->prompt)
			pe = pe->snext;
		if (pe &&
		    hold_for_image(w, stem_arriving(w, s->key), pe->key, &s->held_since, now)) {
			stem_touch(w, s, now + hold_recheck(w));
			continue;
		}
		/* A stem without a prompt delivers its images: nothing will take them. */
		for (struct ent *e = s->ents, *next; e; e = next) {
			next = e->snext;
			if (e->prompt || !pe)
				names_add(ready, e->key);
			ent_free(w, e);
		}
		s->ents = NULL;
		stem_free(w, s);
	}
	if (dfd >= 0)
		close(dfd);
}

/* ---- poll mode */

struct poll_scan {
	unsigned long gen;
	struct hmap changed;  /* stems with an entry new or changed in this scan */
	struct hmap arriving; /* stems with an image under a temp name in this scan */
	struct hmap prompts;  /* stems with a prompt in this scan */
};

/* Adds KEY (taken; its own value) to set T unless there. */
static void set_add(struct hmap *t, char *key)
{
	if (hmap_get(t, key))
		free(key);
	else
		hmap_put(t, key, key);
}

static void set_free(struct hmap *t)
{
	void *v;
	for (size_t pos = 0; hmap_next(t, &pos, NULL, &v);)
		free(v);
	hmap_release(t);
}

static void poll_note(struct watch *w, const char *name, enum kind k, const struct filestate *fs,
                      void *arg)
{
	struct poll_scan *ps = arg;
	if (k == K_TEMP) {
		char key[NAME_MAX + 1];
		if (temp_stem(name, key, sizeof(key)))
			set_add(&ps->arriving, xstrdup(key));
		return;
	}
	struct ent *e = ent_get(w, name, k == K_PROMPT);
	if (k == K_PROMPT) {
		const char *pdot = strrchr(name, '.');
		set_add(&ps->prompts, xstrndup(name, (size_t)(pdot - name)));
	}
	if (e->seen_scan == 0 || !fs_equal(&e->fs, fs)) {
		e->fs = *fs;
		e->changed_scan = ps->gen;
		e->delivered = false; /* rewritten in place, or a new file of the same name */
	}
	e->seen_scan = ps->gen;
	if (e->changed_scan != ps->gen)
		return;
	const char *dot = strrchr(name, '.');
	set_add(&ps->changed, xstrndup(name, (size_t)(dot - name)));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Poll mode: lists the inbox and delivers the prompt entries that are unchanged since
 * the previous scan (at least settle_ms ago, as the interval is never shorter), with no
 * entry of their stem changed, and an mtime at least settle_ms old.
 */
static void poll_scan(struct watch *w, long long now, struct names *ready)
{
	w->scan_due = false;
	w->next_poll = now + poll_interval(w);
	struct poll_scan ps = {.gen = w->scans + 1};
	int rc = scan_dir(w, poll_note, &ps);
	if (rc < 0) {
		if (!w->missing_logged)
			log_warn("watch: cannot scan inbox %s: %s; trying again every %u ms",
			         w->inbox, strerror(errno), poll_interval(w));
		w->missing_logged = true;
		forget_all(w);
		return;
	}
	if (w->missing_logged)
		log_info("watch: inbox %s can be scanned again", w->inbox);
	w->missing_logged = false;
	/* After a broken-off listing, what was not seen may still be there. Gone entries
	 * are collected first: the map must not change while it is walked. */
	struct ent **gone = NULL;
	size_t n_gone = 0;
	void *v;
	for (size_t pos = 0; rc == 0 && hmap_next(&w->ents, &pos, NULL, &v);) {
		struct ent *e = v;
		if (e->seen_scan != ps.gen) {
			if (!gone)
				gone = xcalloc(w->ents.n, sizeof(*gone));
			gone[n_gone++] = e; /* gone: dropped again later, it is new again */
			continue;
		}
		if (e->delivered || e->changed_scan == ps.gen || fs_young(w, &e->fs))
			continue;
		const char *dot = strrchr(e->key, '.');
		char stem[NAME_MAX + 1];
		size_t len = (size_t)(dot - e->key);
		if (len >= sizeof(stem))
			continue; /* longer than any name the kernel gives */
		memcpy(stem, e->key, len);
		stem[len] = '\0';
		if (hmap_get(&ps.changed, stem))
			continue;
		/* An image goes with its prompt; one without a prompt is delivered. */
		if (!e->prompt && (hmap_get(&ps.prompts, stem) || hmap_get(&ps.arriving, stem)))
			continue;
		if (e->prompt && hold_for_image(w, hmap_get(&ps.arriving, stem) != NULL, e->key,
		                                &e->held_since, now))
			continue;
		e->delivered = true;
		names_add(ready, e->key);
	}
	for (size_t i = 0; i < n_gone; i++)
		ent_free(w, gone[i]);
	free(gone);
	set_free(&ps.changed);
	set_free(&ps.arriving);
	set_free(&ps.prompts);
	/* Hash order is arbitrary; name order is what a person expects in the log. */
	if (ready->n > 1)
		qsort(ready->v, ready->n, sizeof(*ready->v), cmp_str);
}

/* ---- the timer callback: retries, scans, settled stems, then deliveries */

static void on_timer(void *ud)
{
	struct watch *w = ud;
	long long now = loop_now_ms();
	struct names ready = {0};
	if (w->mode == WATCH_INOTIFY && w->lost && now >= w->retry_at)
		(void)start(w, false);
	if (w->mode == WATCH_POLL) {
		if (w->scan_due || now >= w->next_poll)
			poll_scan(w, now, &ready);
	} else {
		if (w->scan_due && !w->lost)
			full_scan(w, now);
		settle_due(w, now, &ready);
	}
	schedule(w);
	/* Last: the callback may call watch_rescan or watch_set_conf. */
	deliver(w, &ready);
}

/* ---- public */

struct watch *watch_new(struct loop *l, const struct conf *c, watch_ready_fn *cb, void *ud)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	w->loop = l;
	w->cb = cb;
	w->ud = ud;
	w->ifd = w->wd = -1;
	w->inbox = xstrdup(c->inbox);
	w->settle_ms = c->settle_ms;
	w->pair_wait_ms = c->pair_wait_s * 1000u;
	w->want = c->watch_mode;
	w->timer = loop_timer_new(l, on_timer, w);
	if (start(w, true) != 0) {
		watch_free(w);
		return NULL;
	}
	log_info("watch: watching inbox %s (%s, settle %u ms)", w->inbox,
	         w->mode == WATCH_POLL ? "polling" : "inotify", w->settle_ms);
	schedule(w);
	return w;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	inotify_stop(w);
	loop_timer_free(w->timer);
	forget_all(w);
	free(w->heap);
	free(w->inbox);
	free(w);
}

void watch_rescan(struct watch *w)
{
	if (w->mode == WATCH_POLL)
		forget_all(w); /* so that what is still there is delivered again */
	w->scan_due = true;
	schedule(w);
}

int watch_set_conf(struct watch *w, const struct conf *c)
{
	bool same_place = !strcmp(w->inbox, c->inbox) && w->want == c->watch_mode;
	unsigned old_settle = w->settle_ms;
	w->settle_ms = c->settle_ms;
	w->pair_wait_ms = c->pair_wait_s * 1000u;
	if (same_place) {
		/* Pending deadlines keep the old settle; new events use the new one. */
		if (w->mode == WATCH_POLL && old_settle != w->settle_ms)
			w->next_poll = loop_now_ms() + poll_interval(w);
		schedule(w);
		return 0;
	}
	char *old_inbox = w->inbox;
	enum watch_mode old_want = w->want;
	inotify_stop(w);
	forget_all(w);
	w->lost = w->lost_logged = w->missing_logged = false;
	w->inbox = xstrdup(c->inbox);
	w->want = c->watch_mode;
	if (start(w, true) != 0) {
		free(w->inbox);
		w->inbox = old_inbox;
		w->want = old_want;
		w->settle_ms = old_settle;
		(void)start(w, false);
		schedule(w);
		return -1;
	}
	free(old_inbox);
	log_info("watch: now watching inbox %s (%s, settle %u ms)", w->inbox,
	         w->mode == WATCH_POLL ? "polling" : "inotify", w->settle_ms);
	schedule(w);
	return 0;
}

enum watch_mode watch_effective_mode(const struct watch *w)
{
	return w->mode;
}

size_t watch_pending(const struct watch *w)
{
	return w->mode == WATCH_POLL ? 0 : w->ents.n;
}

void watch_test_inject(struct watch *w, uint32_t mask)
{
	handle_event(w, (mask & IN_Q_OVERFLOW) ? -1 : w->wd, mask, NULL, loop_now_ms());
	after_events(w);
}

unsigned long watch_test_scans(const struct watch *w)
{
	return w->scans;
}
