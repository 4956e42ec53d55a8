/* untrusted.c — opening files sorad did not write (see untrusted.h). */
#include "untrusted.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *untrusted_kind(mode_t mode)
{
	return S_ISREG(mode)    ? "a regular file"
	       : S_ISDIR(mode)  ? "a directory"
	       : S_ISFIFO(mode) ? "a named pipe (FIFO)"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISLNK(mode)  ? "a symbolic link"
	       : S_ISCHR(mode)  ? "a character device"
	       : S_ISBLK(mode)  ? "a block device"
	                        : "an unknown kind of file";
}

int untrusted_open(const char *path, off_t max, int flags, struct stat *out, char *why,
                   size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		bfmt(why, whylen,
		     e == ELOOP ? "it is a symbolic link; sorad does not follow links here"
		                : "it could not be opened: %s",
		     strerror(e));
		errno = e;
		return -1;
	}
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) != 0) {
		e = errno;
		bfmt(why, whylen, "it could not be examined: %s", strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		bfmt(why, whylen, "it is %s, not a regular file", untrusted_kind(st.st_mode));
	} else if (st.st_nlink != 1 && !(flags & UNTRUSTED_LINKS_OK)) {
		e = EPERM;
		bfmt(why, whylen,
		     "it is a hard link (%lu names): another name of it may be a private file, "
		     "so sorad only reads files of their own (copy it instead of linking it)",
		     (unsigned long)st.st_nlink);
	} else if (max > 0 && st.st_size > max) {
		e = EFBIG;
		bfmt(why, whylen, "it is %lld bytes, over the limit of %lld bytes",
		     (long long)st.st_size, (long long)max);
	} else {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
			e = errno;
			bfmt(why, whylen, "it could not be set up for reading: %s", strerror(e));
		}
	}
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	if (out)
		*out = st;
	return fd;
}
