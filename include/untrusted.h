/*
 * untrusted.h — the one rule for opening a file sorad did not write itself: what is in
 * the inbox (a sync tool's or a stranger's), what a peer may have put in the outbox or
 * in failed/. Any such path may be a FIFO (opening it would block the thread), a
 * device, a symbolic link or a hard link to a private file elsewhere (whose text would
 * then be sent to the service and written into the outbox), or huge.
 *
 * untrusted_open() opens without following a final symbolic link (O_NOFOLLOW) and
 * without blocking (O_NONBLOCK: a FIFO opens at once, and is then refused), then
 * checks the open descriptor itself (fstat after open, so nothing can be swapped in
 * between): a regular file, exactly one link (a hard link's other name could be any
 * file this user can read), at most MAX bytes. O_NONBLOCK is cleared before it returns,
 * for plain reads.
 */
#ifndef SORAD_UNTRUSTED_H
#define SORAD_UNTRUSTED_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Allow more than one link (for files sorad moved itself and hard links do not
 * matter, e.g. outputs it serves by their own name). */
#define UNTRUSTED_LINKS_OK 1

/*
 * Opens PATH for reading under the rule above; MAX: the size limit in bytes (0: none).
 * Returns the descriptor (the caller closes it), with its stat in *ST when not NULL;
 * or -1 with errno set and the reason in plain words in why[whylen] ("it is a named
 * pipe (FIFO), not a regular file", "it is a hard link (2 names): sorad only reads
 * files of their own").
 */
int untrusted_open(const char *path, off_t max, int flags, struct stat *st, char *why,
                   size_t whylen);

/* "a named pipe (FIFO)", "a directory", ... for MODE's file type. */
const char *untrusted_kind(mode_t mode);

#endif
