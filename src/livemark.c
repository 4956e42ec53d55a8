/* livemark.c — STATE/live: the records a start must read (see livemark.h). */
#include "livemark.h"
#include "commit.h"
#include "fsutil.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool livemark_needed(const struct job *j)
{
	return !job_state_is_final(j->state) || j->resolution != NULL;
}

static int live_path(char *buf, size_t n, const char *state_dir, const char *sub, const char *name)
{
	int rc = name ? bfmt(buf, n, "%s/%s/%s", state_dir, sub, name)
	              : bfmt(buf, n, "%s/%s", state_dir, sub);
	if (rc != 0)
		errno = ENAMETOOLONG;
	return rc;
}

bool livemark_kept(const char *state_dir)
{
	char dir[PATH_MAX];
	struct stat st;
	return live_path(dir, sizeof(dir), state_dir, LIVEMARK_DIR, NULL) == 0 &&
	       lstat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int livemark_stage(struct commit *c, const char *state_dir, const char *name)
{
	char path[PATH_MAX];
	if (live_path(path, sizeof(path), state_dir, LIVEMARK_DIR, name) != 0)
		return -1;
	return commit_mark(c, path);
}

int livemark_remove(const char *state_dir, const char *name)
{
	char path[PATH_MAX];
	if (live_path(path, sizeof(path), state_dir, LIVEMARK_DIR, name) != 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("state: cannot remove the mark %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int livemark_before_save(const char *state_dir, const struct job *j)
{
	if (!livemark_needed(j) || !livemark_kept(state_dir))
		return 0;
	if (livemark_stage(NULL, state_dir, j->name) == 0)
		return 0;
	int e = errno;
	char why[256];
	bfmt(why, sizeof(why), "cannot mark %s's record to be read at start: %s", j->name,
	     strerror(e));
	livemark_drop(state_dir, why);
	if (livemark_kept(state_dir)) {
		errno = e;
		return -1;
	}
	return 0;
}

int livemark_each(const char *state_dir, void (*fn)(const char *name, void *ud), void *ud)
{
	char dir[PATH_MAX];
	if (live_path(dir, sizeof(dir), state_dir, LIVEMARK_DIR, NULL) != 0)
		return -1;
	DIR *dp = opendir(dir);
	if (!dp)
		return -1;
	int n = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", ".." and temp files: never a job name */
		fn(de->d_name, ud);
		n++;
		errno = 0;
	}
	int e = errno;
	closedir(dp);
	if (e) {
		errno = e;
		return -1;
	}
	return n;
}

/* Removes DIR's entries and DIR itself; 0 or -1 (errno set). */
static int remove_flat_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -1;
	int dfd = dirfd(dp), rc = 0;
	struct dirent *de;
	while ((de = readdir(dp)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT)
			rc = -1;
	}
	closedir(dp);
	if (rmdir(dir) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int livemark_make(const char *state_dir, const char *const *names, size_t n)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (live_path(tmp, sizeof(tmp), state_dir, LIVEMARK_DIR ".new", NULL) != 0 ||
	    live_path(dir, sizeof(dir), state_dir, LIVEMARK_DIR, NULL) != 0)
		return -1;
	if (remove_flat_dir(tmp) != 0 || mkdir(tmp, 0700) != 0) {
		log_error("state: cannot make %s: %s", tmp, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		if (bfmt(path, sizeof(path), "%s/%s", tmp, names[i]) != 0 ||
		    commit_mark_here(path) != 0) {
			log_error("state: cannot make the mark %s/%s: %s", tmp, names[i],
			          strerror(errno));
			remove_flat_dir(tmp);
			return -1;
		}
	}
	if (fsync_dir(tmp) != 0 || rename(tmp, dir) != 0 || fsync_dir(state_dir) != 0) {
		log_error("state: cannot put %s in place: %s", dir, strerror(errno));
		remove_flat_dir(tmp);
		return -1;
	}
	return 0;
}

void livemark_drop(const char *state_dir, const char *why)
{
	char dir[PATH_MAX], away[PATH_MAX];
	if (live_path(dir, sizeof(dir), state_dir, LIVEMARK_DIR, NULL) != 0 ||
	    bfmt(away, sizeof(away), "%s/%s.old-%ld", state_dir, LIVEMARK_DIR, (long)getpid()) != 0)
		return;
	if (rename(dir, away) != 0) {
		if (errno != ENOENT)
			log_error("state: %s, and %s cannot be removed (%s): remove it by hand, or "
			          "the next start may miss jobs",
			          why, dir, strerror(errno));
		return;
	}
	if (fsync_dir(state_dir) != 0)
		log_warn("state: cannot sync %s: %s", state_dir, strerror(errno));
	log_warn("state: %s; %s removed: the next start reads every record", why, dir);
	if (remove_flat_dir(away) != 0)
		log_warn("state: cannot remove %s: %s", away, strerror(errno));
}
