/* inbox.c — claiming ready inbox files into the state directory (see inbox.h). */
#include "inbox.h"
#include "commit.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"
#include "spares.h"
#include "untrusted.h"
#include "util.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* In a claim directory: its records were all written (by versions before the records
 * said how many jobs their claim made). */
#define INBOX_MARKER ".recorded"

/* The Kth name an image paired with STEM may have (K < PAIR_NAMES): STEM.png ...
 * STEM.webp (image.h's order), then the same in upper case (STEM.PNG ...). */
#define PAIR_NAMES (2 * IMAGE_EXT_N)
static int pair_name(const char *stem, size_t k, char *name, size_t n)
{
	char ext[8];
	bcopy_str(ext, sizeof(ext), image_ext(k % IMAGE_EXT_N));
	for (char *p = ext; k >= IMAGE_EXT_N && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return bfmt(name, n, "%s.%s", stem, ext);
}

void claim_release(struct claim *cl)
{
	free(cl->id);
	free(cl->file);
	prompt_file_release(&cl->pf);
	memset(cl, 0, sizeof(*cl));
}

int inbox_claim_path(const struct conf *c, const char *id, const char *file, char *buf, size_t size)
{
	if (bfmt(buf, size, "%s/inputs/%s%s%s", c->state_dir, id, file ? "/" : "",
	         file ? file : "") != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Replaces every spec of PF by a single error spec carrying WHY. */
static void whole_file_error(struct claim *cl, const struct conf *c, const char *stem,
                             const char *why)
{
	prompt_file_release(&cl->pf);
	prompt_parse(PROMPT_TXT, stem, "x", 1, c, &cl->pf);
	free(cl->pf.jobs[0].error);
	cl->pf.jobs[0].error = xstrdup(why);
}

/* Splits NAME into a new stem string (caller frees) and a pointer to its extension. */
static char *split_name(const char *name, const char **ext)
{
	const char *dot = strrchr(name, '.');
	*ext = dot ? dot + 1 : "";
	return xstrndup(name, dot ? (size_t)(dot - name) : strlen(name));
}

/*
 * Checks what the claimed entry FILE in DIR really is and reads it (at most
 * max_file_size bytes). Returns the content (caller frees) or NULL with a plain-words
 * reason in why.
 */
static char *read_claimed(const struct conf *c, const char *dir, const char *file, size_t *len,
                          char *why, size_t whylen)
{
	char path[PATH_MAX];
	if (bfmt(path, sizeof(path), "%s/%s", dir, file) != 0) {
		bfmt(why, whylen, "the file name is too long");
		return NULL;
	}
	struct stat st;
	if (lstat(path, &st) != 0) {
		bfmt(why, whylen, "the file could not be examined: %s", strerror(errno));
		return NULL;
	}
	/* Never open what is not a regular file: opening a device can have effects. */
	if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		st.st_mode = S_IFLNK;
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		bfmt(why, whylen, "this is not a regular file (%s); drop plain text or JSON files",
		     S_ISDIR(st.st_mode)    ? "a directory"
		     : S_ISFIFO(st.st_mode) ? "a named pipe"
		     : S_ISSOCK(st.st_mode) ? "a socket"
		                            : "a device");
		return NULL;
	}
	char target[PATH_MAX];
	const char *open_path = path;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* Only a link to a regular file inside the inbox is followed. */
		char inbox[PATH_MAX];
		if (!realpath(path, target) || !realpath(c->inbox, inbox) ||
		    strncmp(target, inbox, strlen(inbox)) != 0 || target[strlen(inbox)] != '/') {
			bfmt(why, whylen,
			     "the file is a symbolic link to something outside the inbox; sorad "
			     "only reads files inside the inbox");
			return NULL;
		}
		open_path = target;
	}
	/* The one rule for files sorad did not write (untrusted.h): no FIFO, no device,
	 * no hard link to a file elsewhere, checked on the open descriptor. */
	char reason[256];
	int fd = untrusted_open(open_path, 0, 0, &st, reason, sizeof(reason));
	if (fd < 0) {
		bfmt(why, whylen, "the file cannot be read: %s", reason);
		return NULL;
	}
	char *buf = NULL;
	if (st.st_size > c->max_file_size) {
		bfmt(why, whylen,
		     "the file is %lld bytes, over the limit of %lld bytes (max_file_size)",
		     (long long)st.st_size, c->max_file_size);
	} else {
		/* Read one byte more than allowed to notice a file still growing. The
		 * buffer starts at the size fstat gave, plus room to notice growth, and
		 * doubles up to that: a buffer of max_file_size would be mapped and unmapped
		 * for each claim (daemon.c fixes the mmap threshold), and an unmap stops
		 * every thread of the daemon to flush its TLB. */
		size_t cap = (size_t)c->max_file_size + 1;
		size_t room = (size_t)st.st_size + 4096 < cap ? (size_t)st.st_size + 4096 : cap;
		buf = xmalloc(room + 1);
		size_t got = 0;
		while (got < cap) {
			if (got == room) {
				room = room < cap / 2 ? room * 2 : cap;
				buf = xrealloc(buf, room + 1);
			}
			ssize_t n = read(fd, buf + got, room - got);
			if (n == 0)
				break;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				bfmt(why, whylen, "the file could not be read: %s",
				     strerror(errno));
				free(buf);
				buf = NULL;
				break;
			}
			got += (size_t)n;
		}
		if (buf && got > (size_t)c->max_file_size) {
			bfmt(why, whylen,
			     "the file is over the limit of %lld bytes (max_file_size)",
			     c->max_file_size);
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[got] = '\0';
			*len = got;
		}
	}
	close(fd);
	return buf;
}

/* Brings image IMG from the inbox into the claim directory: a pairing image (same
 * stem) is moved; an image named by "reference:" is hard-linked or copied, since
 * several prompts may share it. 0 when it is now in the claim dir, -1 if absent. */
static int take_image(const struct conf *c, const char *dir, const char *img, bool move)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (bfmt(from, sizeof(from), "%s/%s", c->inbox, img) != 0 ||
	    bfmt(to, sizeof(to), "%s/%s", dir, img) != 0)
		return -1;
	if (access(to, F_OK) == 0)
		return 0; /* already taken for another spec of this claim */
	struct stat st;
	/* A hard link to a file elsewhere would send that file to the service. */
	if (lstat(from, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		return -1;
	if (move) {
		if (rename(from, to) != 0)
			return -1;
		if (lstat(to, &st) != 0 || st.st_nlink != 1) { /* linked in between: refused */
			unlink(to);
			return -1;
		}
		return 0;
	}
	if (link(from, to) == 0) {
		if (lstat(to, &st) != 0 || st.st_nlink != 2) { /* ours and the inbox's only */
			unlink(to);
			return -1;
		}
		return 0;
	}
	/* Different filesystems or no hard links: copy, bounded by max_file_size. */
	if (st.st_size > c->max_file_size)
		return -1;
	return copy_file(from, to, 0600);
}

/* Checks image IMG of spec S (now in DIR), its WHAT ("reference", "last frame"),
 * against the limits and the video's size. */
static void check_image(const struct conf *c, const char *dir, struct job_spec *s, const char *img,
                        const char *what)
{
	char path[PATH_MAX], why[256];
	struct image_info info;
	if (s->error || bfmt(path, sizeof(path), "%s/%s", dir, img) != 0)
		return;
	struct stat st;
	if (lstat(path, &st) == 0 && st.st_size > c->max_file_size) {
		s->error = xasprintf("the %s image %s is %lld bytes, over the limit of %lld "
		                     "bytes (max_file_size)",
		                     what, img, (long long)st.st_size, c->max_file_size);
		return;
	}
	if (image_probe_path(path, &info, why, sizeof(why)) != 0) {
		s->error = xasprintf("the %s image %s cannot be used: %s", what, img, why);
		return;
	}
	char size[32];
	bfmt(size, sizeof(size), "%ux%u", info.width, info.height);
	if (strcmp(size, s->size) != 0)
		s->error = xasprintf("the %s image %s is %s pixels but the video is %s; "
		                     "the image must be exactly the video's size",
		                     what, img, size, s->size);
}

/* Finds STEM.png|jpg|jpeg|webp in the inbox; the name (caller frees) or NULL. */
static char *find_pair(const struct conf *c, const char *stem)
{
	for (size_t i = 0; i < PAIR_NAMES; i++) {
		char name[NAME_MAX + 1], path[PATH_MAX];
		struct stat st;
		if (pair_name(stem, i, name, sizeof(name)) != 0 ||
		    bfmt(path, sizeof(path), "%s/%s", c->inbox, name) != 0)
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			return xstrdup(name);
	}
	return NULL;
}

/* Reads, parses and validates the prompt file of claim CL (already in its dir). */
static void process(const struct conf *c, struct claim *cl, bool take_images)
{
	char dir[PATH_MAX], why[512] = "";
	const char *ext;
	char *stem = split_name(cl->file, &ext);
	int fmt = prompt_format_from_ext(ext);
	cl->fmt = fmt < 0 ? PROMPT_TXT : (enum prompt_format)fmt;
	size_t len = 0;
	char *data = NULL;
	if (inbox_claim_path(c, cl->id, NULL, dir, sizeof(dir)) == 0)
		data = read_claimed(c, dir, cl->file, &len, why, sizeof(why));
	if (!data) {
		whole_file_error(cl, c, stem, why[0] ? why : "the file path is too long");
		free(stem);
		return;
	}
	prompt_parse(cl->fmt, stem, data, len, c, &cl->pf);
	free(data);

	for (size_t i = 0; i < cl->pf.n; i++) {
		struct job_spec *s = &cl->pf.jobs[i];
		if (s->error) {
			prompt_check(s, c); /* every problem at once */
			continue;
		}
		if (!s->reference && cl->fmt != PROMPT_JSONL && !s->remix_of && take_images) {
			s->reference = find_pair(c, stem);
			if (s->reference && take_image(c, dir, s->reference, true) != 0) {
				free(s->reference);
				s->reference = NULL;
			}
		} else if (!s->reference && cl->fmt != PROMPT_JSONL && !s->remix_of) {
			/* Reprocessing after a crash: the pairing image may already be here. */
			for (size_t k = 0; k < PAIR_NAMES && !s->reference; k++) {
				char name[NAME_MAX + 1], path[PATH_MAX];
				if (pair_name(stem, k, name, sizeof(name)) == 0 &&
				    bfmt(path, sizeof(path), "%s/%s", dir, name) == 0 &&
				    access(path, F_OK) == 0)
					s->reference = xstrdup(name);
			}
		} else if (s->reference && take_image(c, dir, s->reference, false) != 0) {
			s->error =
			    xasprintf("the reference image '%s' is not in the inbox; drop it "
			              "there first (or together with the prompt)",
			              s->reference);
			continue;
		}
		if (s->last_frame && take_image(c, dir, s->last_frame, false) != 0) {
			s->error =
			    xasprintf("the last frame image '%s' is not in the inbox; drop it "
			              "there first (or together with the prompt)",
			              s->last_frame);
			continue;
		}
		if (prompt_check(s, c) != 0)
			continue;
		if (s->reference)
			check_image(c, dir, s, s->reference, "reference");
		if (s->last_frame)
			check_image(c, dir, s, s->last_frame, "last frame");
	}
	free(stem);
}

/*
 * Emptied claim directories, kept (renamed to STATE/inputs/.spare-PID-N) for the next
 * claims (spares.h): a claim then costs a rename instead of a mkdir, and its removal a
 * rename instead of an rmdir. A burst claims up to max_in_flight at once (a drop of
 * many prompts, or a wave of them finishing and the next wave claimed): that many are
 * made ahead (spares_low). What is left at exit is removed by inbox_spares_clear or
 * the next start.
 */
static struct spares *spare_dirs;

/* The pool for C's state directory, sized for C. */
static struct spares *spares_of(const struct conf *c)
{
	char inputs[PATH_MAX], prefix[64];
	if (bfmt(inputs, sizeof(inputs), "%s/inputs", c->state_dir) != 0)
		return NULL;
	bfmt(prefix, sizeof(prefix), "%s%ld-", INBOX_SPARE_PREFIX, (long)getpid());
	return spares_at(&spare_dirs, inputs, prefix, "", S_IFDIR | 0700,
	                 spares_low(c->max_in_flight));
}

void inbox_spares_fill(const struct conf *c, struct commit *cm)
{
	struct spares *s = spares_of(c);
	if (s)
		spares_fill(s, cm);
}

void inbox_spares_clear(void)
{
	spares_free(spare_dirs); /* the commit is drained by now */
	spare_dirs = NULL;
}

/*
 * The crash counter of a claim: STATE/inputs/ID/.reading holds how many times reading
 * and recording the claim began without finishing (inbox_claim_processed removes it).
 */
static unsigned reading_count(const char *dir)
{
	char path[PATH_MAX], buf[16];
	if (bfmt(path, sizeof(path), "%s/%s", dir, INBOX_READING) != 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 1; /* there, so something began */
	buf[n] = '\0';
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	/* Empty or cut short by a crash while it was written: one attempt began. */
	return end == buf || v == 0 ? 1 : v > 1000 ? 1000 : (unsigned)v;
}

/* The first attempt's counter ("1") of claim directory DIR as a hard link to
 * INBOX_READING_ONE beside it (in STATE/inputs), made the first time: a claim then
 * costs no inode for it, made or removed (see the spare directories above). The
 * counter is never written in place: a later count replaces the link
 * (atomic_write_file). 0, or -1 (errno set) when no link can be made. */
#define INBOX_READING_ONE ".reading-1"
static int reading_link(const char *dir, const char *path)
{
	char base[PATH_MAX];
	const char *slash = strrchr(dir, '/');
	if (!slash ||
	    bfmt(base, sizeof(base), "%.*s/%s", (int)(slash - dir), dir, INBOX_READING_ONE) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int tries = 0; tries < 2; tries++) {
		if (link(base, path) == 0)
			return 0;
		if (errno != ENOENT || tries > 0)
			return -1;
		char inputs[PATH_MAX];
		bfmt(inputs, sizeof(inputs), "%.*s", (int)(slash - dir), dir);
		if (atomic_write_file(inputs, INBOX_READING_ONE, "1\n", 2, 0600) != 0)
			return -1;
	}
	return -1;
}

/* Writes N into the claim's counter in DIR; DURABLE: fsynced (file and directory). A
 * crash of the process alone (a signal, an abort) leaves the page cache as it was, so
 * a first claim's counter needs no fsync: only a power loss could lose it, and that
 * is no crash loop. */
static void reading_mark(const char *dir, unsigned n, bool durable)
{
	char num[16], path[PATH_MAX];
	bfmt(num, sizeof(num), "%u\n", n);
	if (!durable && n == 1 && bfmt(path, sizeof(path), "%s/%s", dir, INBOX_READING) == 0 &&
	    reading_link(dir, path) == 0)
		return;
	if (durable) {
		if (atomic_write_file(dir, INBOX_READING, num, strlen(num), 0600) != 0)
			log_warn("inbox: cannot write %s/%s: %s", dir, INBOX_READING,
			         strerror(errno));
		return;
	}
	if (bfmt(path, sizeof(path), "%s/%s", dir, INBOX_READING) != 0)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, num, strlen(num)) != 0)
		log_warn("inbox: cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void inbox_claim_processed(const struct conf *c, const char *id)
{
	char path[PATH_MAX];
	if (inbox_claim_path(c, id, INBOX_READING, path, sizeof(path)) == 0 && unlink(path) != 0 &&
	    errno != ENOENT)
		log_warn("inbox: cannot remove %s: %s", path, strerror(errno));
}

int inbox_claim(const struct conf *c, const char *name, struct claim *out, struct commit *cm,
                char *why, size_t whylen)
{
	static unsigned seq;
	memset(out, 0, sizeof(*out));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char id[64], dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	bfmt(id, sizeof(id), "%lld%03ld-%ld-%u", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
	     (long)getpid(), ++seq);
	if (inbox_claim_path(c, id, NULL, dir, sizeof(dir)) != 0 ||
	    bfmt(from, sizeof(from), "%s/%s", c->inbox, name) != 0 ||
	    bfmt(to, sizeof(to), "%s/%s", dir, name) != 0) {
		bfmt(why, whylen, "the path of its claim directory would be too long");
		return -1;
	}
	/* The reasons name no claim id: a try that fails the same way is not news. */
	struct spares *sp = spares_of(c);
	if (!(sp && spares_take(sp, dir)) && mkdir(dir, 0700) != 0) {
		bfmt(why, whylen, "cannot create a claim directory in %s/inputs: %s", c->state_dir,
		     strerror(errno));
		return -1;
	}
	if (rename(from, to) != 0) {
		int e = errno;
		rmdir(dir);
		if (e == ENOENT)
			return 1;
		bfmt(why, whylen, "cannot move it into %s/inputs: %s%s", c->state_dir, strerror(e),
		     e == EXDEV ? " (the inbox and state_dir must be on the same file system "
		                  "and mount: a file is claimed by renaming it)"
		                : "");
		return -1;
	}
	out->id = xstrdup(id);
	out->file = xstrdup(name);
	reading_mark(dir, 1, false); /* removed by inbox_claim_processed */
	process(c, out, true);
	/* The claim (and the images moved in with it) is durable before any record that
	 * refers to it: the group commit fsyncs these before it renames records in. */
	char inputs[PATH_MAX];
	if (inbox_claim_path(c, "", NULL, inputs, sizeof(inputs)) == 0)
		commit_sync(cm, inputs);
	commit_sync(cm, dir);
	commit_sync(cm, c->inbox);
	return 0;
}

int inbox_reprocess(const struct conf *c, const char *id, struct claim *out)
{
	memset(out, 0, sizeof(*out));
	char dir[PATH_MAX];
	if (inbox_claim_path(c, id, NULL, dir, sizeof(dir)) != 0)
		return -1;
	DIR *dp = opendir(dir);
	if (!dp) {
		log_error("inbox: cannot read claim %s: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(dp)) && !out->file) {
		const char *ext;
		char *stem = split_name(de->d_name, &ext);
		free(stem);
		if (de->d_name[0] != '.' && prompt_format_from_ext(ext) >= 0)
			out->file = xstrdup(de->d_name);
	}
	closedir(dp);
	if (!out->file)
		return 1; /* nothing left to process */
	out->id = xstrdup(id);
	/* Counted durably before the file is read again: a file that makes sorad crash
	 * while reading it stops being read after the second crash. */
	unsigned crashes = reading_count(dir);
	if (crashes >= INBOX_CRASHES_MAX) {
		const char *ext;
		char *stem = split_name(out->file, &ext);
		int fmt = prompt_format_from_ext(ext);
		out->fmt = fmt < 0 ? PROMPT_TXT : (enum prompt_format)fmt;
		char why[512];
		bfmt(why, sizeof(why),
		     "sorad stopped unexpectedly while reading this file (%u times), so it is "
		     "not read again. This is most likely a fault in sorad: please report it, "
		     "with this file if you can",
		     crashes);
		whole_file_error(out, c, stem, why);
		free(stem);
		return 2;
	}
	reading_mark(dir, crashes + 1, true);
	process(c, out, false);
	return 0;
}

int inbox_remove_claim(const struct conf *c, const char *id)
{
	char dir[PATH_MAX];
	if (inbox_claim_path(c, id, NULL, dir, sizeof(dir)) != 0)
		return -1;
	DIR *dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -1;
	int dfd = dirfd(dp), rc = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* A directory dropped as "x.txt" was claimed as such: remove it too. */
		if (unlinkat(dfd, de->d_name, 0) != 0 &&
		    !(errno == EISDIR && unlinkat(dfd, de->d_name, AT_REMOVEDIR) == 0)) {
			log_warn("inbox: cannot remove %s/%s: %s", dir, de->d_name,
			         strerror(errno));
			rc = -1;
		}
	}
	closedir(dp);
	struct spares *sp = spares_of(c);
	if (rc == 0 && !(sp && spares_keep(sp, dir)) && rmdir(dir) != 0) {
		log_warn("inbox: cannot remove %s: %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

void inbox_claims_each(const struct conf *c, inbox_claim_fn *fn, void *ud)
{
	char inputs[PATH_MAX];
	if (inbox_claim_path(c, "", NULL, inputs, sizeof(inputs)) != 0)
		return;
	DIR *dp = opendir(inputs);
	if (!dp)
		return;
	struct dirent *de;
	while ((de = readdir(dp))) {
		const char *id = de->d_name;
		if (!strncmp(id, INBOX_SPARE_PREFIX, strlen(INBOX_SPARE_PREFIX)) &&
		    unlinkat(dirfd(dp), id, AT_REMOVEDIR) != 0 && errno != ENOENT)
			log_warn("inbox: cannot remove %s/%s: %s", inputs, id, strerror(errno));
		if (id[0] == '.')
			continue;
		char marker[PATH_MAX];
		if (inbox_claim_path(c, id, INBOX_MARKER, marker, sizeof(marker)) != 0)
			continue;
		fn(id, access(marker, F_OK) == 0, ud);
	}
	closedir(dp);
}
