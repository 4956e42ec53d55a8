/* fsutil.c — directory creation and atomic file replacement (see fsutil.h). */
#include "fsutil.h"
#include "untrusted.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir(2), then (EXACT) chmod so that the umask does not narrow MODE. */
static int mkdir_one(const char *dir, mode_t mode, bool exact)
{
	if (mkdir(dir, mode) != 0)
		return -1;
	return exact ? chmod(dir, mode) : 0;
}

static int mkdir_tree(const char *dir, mode_t mode, bool exact)
{
	char buf[4096];
	if (!dir || !*dir || bcopy_str(buf, sizeof(buf), dir) != 0) {
		errno = dir && *dir ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir_one(buf, mode, exact) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir_one(buf, mode, exact) != 0) {
		if (errno != EEXIST)
			return -1;
		struct stat st;
		if (stat(buf, &st) != 0)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	}
	return 0;
}

int mkdir_p(const char *dir, mode_t mode)
{
	return mkdir_tree(dir, mode, false);
}

int mkdir_p_exact(const char *dir, mode_t mode)
{
	return mkdir_tree(dir, mode, true);
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int atomic_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[4096], dst[4096];
	if (bfmt(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid()) != 0 ||
	    bfmt(dst, sizeof(dst), "%s/%s", dir, name) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (write_file_synced(tmp, data, len, mode) != 0)
		return -1;
	if (rename(tmp, dst) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fsync_dir(dir);
}

int open_plain_file(const char *path, mode_t mode, off_t *size)
{
	/*
	 * An existing file is opened without O_CREAT: O_CREAT takes the directory's lock
	 * exclusively even when the file exists, which serializes parallel writers in one
	 * directory. Nor with O_TRUNC: the caller decides. O_NONBLOCK: a FIFO planted in
	 * its place fails instead of blocking the thread.
	 */
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
		/* Not a plain file of its own (a hard link is written through): replaced. */
		close(fd);
		fd = -1;
		if (unlink(path) == 0)
			errno = ENOENT;
	}
	if (fd < 0 && errno == ENXIO && unlink(path) == 0) /* a FIFO nobody reads: replaced */
		errno = ENOENT;
	if (fd >= 0) {
		if (size)
			*size = st.st_size;
		return fd;
	}
	if (errno != ENOENT)
		return -1;
	if (size)
		*size = 0;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
}

int write_file_synced(const char *path, const void *data, size_t len, mode_t mode)
{
	/* An existing file is a spare temp file kept by an exchange (commit.c). */
	int fd = open_plain_file(path, mode, NULL);
	if (fd < 0)
		return -1;
	/* Overwritten, then cut to length: no freeing and reallocating of its blocks. */
	int rc = fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0 &&
	                 ftruncate(fd, (off_t)len) == 0 && fsync(fd) == 0
	             ? 0
	             : -1;
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		unlink(path);
		errno = e;
	}
	return rc;
}

int copy_file(const char *src, const char *dst, mode_t mode)
{
	char why[256], tmp[PATH_MAX];
	/* The source may be anything (untrusted.h): never a FIFO, never blocking. */
	int in = untrusted_open(src, 0, UNTRUSTED_LINKS_OK, NULL, why, sizeof(why));
	if (in < 0)
		return -1;
	/* Written under a new temp name, then renamed over DST: whatever was planted at
	 * DST (a hard link to another file, a symbolic link) is replaced, never written
	 * through. */
	if (bfmt(tmp, sizeof(tmp), "%s.sorad-copy-XXXXXX", dst) != 0) {
		close(in);
		errno = ENAMETOOLONG;
		return -1;
	}
	int out = mkostemp(tmp, O_CLOEXEC);
	int rc = out < 0 || fchmod(out, mode) != 0 ? -1 : 0;
	char buf[65536];
	ssize_t n;
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) != 0)
			rc = -1;
	}
	if (out >= 0 && (fsync(out) != 0 || close(out) != 0))
		rc = -1;
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = -1;
	int e = errno;
	close(in);
	if (rc != 0 && out >= 0)
		unlink(tmp);
	errno = e;
	return rc;
}
