/* ready_note.c — "Video ready" with a JPEG still as its image (see ready_note.h). */
#include "ready_note.h"
#include "derive.h"
#include "fsutil.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct note {
	struct ready_notes *rn;
	struct derive *drv;
	char *summary, *body, *image, *mp4, *dir;
	struct note *next;
};

struct ready_notes {
	struct loop *loop;
	struct notifier *notifier;
	struct note *pending;
};

struct ready_notes *ready_notes_new(struct loop *l, struct notifier *n)
{
	struct ready_notes *rn = xcalloc(1, sizeof(*rn));
	rn->loop = l;
	rn->notifier = n;
	return rn;
}

static void note_free(struct note *nt)
{
	free(nt->summary);
	free(nt->body);
	free(nt->image);
	free(nt->mp4);
	free(nt->dir);
	free(nt);
}

static void unlink_pending(struct ready_notes *rn, struct note *nt)
{
	for (struct note **p = &rn->pending; *p; p = &(*p)->next)
		if (*p == nt) {
			*p = nt->next;
			return;
		}
}

struct still {
	char name[NAME_MAX + 1];
	struct timespec mtime;
};

static int older_first(const void *a, const void *b)
{
	const struct still *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

/* Keeps the newest READY_NOTE_KEEP stills of DIR (only sorad writes there). */
static void prune(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct still *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dp)) && n < 4096) {
		struct stat st;
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".jpg") != 0 ||
		    fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		bcopy_str(v[n].name, sizeof(v[n].name), de->d_name);
		v[n++].mtime = st.st_mtim;
	}
	if (n > READY_NOTE_KEEP) {
		qsort(v, n, sizeof(*v), older_first);
		for (size_t i = 0; i + READY_NOTE_KEEP < n; i++)
			if (unlinkat(dirfd(dp), v[i].name, 0) != 0 && errno != ENOENT)
				log_debug("notify: cannot remove %s/%s: %s", dir, v[i].name,
				          strerror(errno));
	}
	free(v);
	closedir(dp);
}

static void on_still(bool ok, const char *why, void *ud)
{
	struct note *nt = ud;
	struct ready_notes *rn = nt->rn;
	if (!ok)
		log_debug("notify: no image for '%s': %s", nt->summary, why ? why : "?");
	else
		prune(nt->dir);
	notifier_send(rn->notifier, nt->summary, nt->body, ok ? nt->image : NULL, nt->mp4, 0);
	unlink_pending(rn, nt);
	note_free(nt);
}

void ready_notes_send(struct ready_notes *rn, const struct conf *c, const char *name,
                      const char *summary, const char *body, const char *mp4)
{
	char ffmpeg[PATH_MAX], why[512] = "", dir[PATH_MAX], image[PATH_MAX];
	if (derive_find_ffmpeg(c->ffmpeg, ffmpeg, sizeof(ffmpeg), why, sizeof(why)) != 0 ||
	    bfmt(dir, sizeof(dir), "%s/notify", c->state_dir) != 0 ||
	    bfmt(image, sizeof(image), "%s/%s.jpg", dir, name) != 0) {
		log_debug("notify: no image for '%s': %s", summary, why[0] ? why : "path too long");
		notifier_send(rn->notifier, summary, body, NULL, mp4, 0);
		return;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_debug("notify: no image for '%s': cannot create %s: %s", summary, dir,
		          strerror(errno));
		notifier_send(rn->notifier, summary, body, NULL, mp4, 0);
		return;
	}
	struct note *nt = xcalloc(1, sizeof(*nt));
	nt->rn = rn;
	nt->summary = xstrdup(summary);
	nt->body = xstrdup(body);
	nt->image = xstrdup(image);
	nt->mp4 = xstrdup(mp4);
	nt->dir = xstrdup(dir);
	nt->drv = derive_start(rn->loop, ffmpeg, DERIVE_NOTIFY_IMAGE, mp4, image, 0, on_still, nt,
	                       why, sizeof(why));
	if (!nt->drv) {
		log_debug("notify: no image for '%s': %s", summary, why);
		notifier_send(rn->notifier, summary, body, NULL, mp4, 0);
		note_free(nt);
		return;
	}
	nt->next = rn->pending;
	rn->pending = nt;
}

void ready_notes_free(struct ready_notes *rn)
{
	if (!rn)
		return;
	/* Stopping: the notifications go out now, without their image. */
	while (rn->pending) {
		struct note *nt = rn->pending;
		rn->pending = nt->next;
		derive_cancel(nt->drv, true);
		notifier_send(rn->notifier, nt->summary, nt->body, NULL, nt->mp4, 0);
		note_free(nt);
	}
	free(rn);
}
