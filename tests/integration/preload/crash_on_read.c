/*
 * crash_on_read.c — an LD_PRELOAD library for hostile_crash_loop.sh and
 * hostile_crash_reserved.sh. With SORAD_TEST_CRASH_ON_READ the process
 * abort()s the moment it reads from a file in a claim directory (".../inputs/ID/NAME")
 * whose NAME starts with $SORAD_TEST_CRASH_ON_READ. It stands for a fault that kills
 * sorad while it reads one particular file, with no test hook in sorad itself.
 * The other faults it can inject are described where they are made (link, rename).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void maybe_crash(int fd)
{
	const char *want = getenv("SORAD_TEST_CRASH_ON_READ");
	if (!want || !*want)
		return;
	char link[64], path[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	const char *slash = strrchr(path, '/');
	if (slash && strstr(path, "/inputs/") && strncmp(slash + 1, want, strlen(want)) == 0)
		abort();
}

static void wait_for_file(const char *path)
{
	struct stat st;
	for (int i = 0; i < 12000 && stat(path, &st) != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* With SORAD_TEST_HOLD_READ=TEXT and SORAD_TEST_HOLD_UNTIL=FILE: the first read of a
 * file whose path contains TEXT creates FILE.reached, then waits until FILE exists (at
 * most 120 s): the test knows the process is inside that read (say the load of the
 * records at start) and does what it wants done meanwhile. */
static void maybe_hold(int fd)
{
	static int held;
	const char *want = getenv("SORAD_TEST_HOLD_READ");
	const char *until = getenv("SORAD_TEST_HOLD_UNTIL");
	if (held || !want || !*want || !until)
		return;
	char link[64], path[4096], reached[4200];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	if (!strstr(path, want))
		return;
	held = 1;
	snprintf(reached, sizeof(reached), "%s.reached", until);
	FILE *f = fopen(reached, "w");
	if (f)
		fclose(f);
	wait_for_file(until);
}

ssize_t read(int fd, void *buf, size_t count)
{
	static ssize_t (*real)(int, void *, size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	maybe_crash(fd);
	maybe_hold(fd);
	return real(fd, buf, count);
}

ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	static ssize_t (*real)(int, void *, size_t, size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "__read_chk");
	maybe_crash(fd);
	maybe_hold(fd);
	return real(fd, buf, count, buflen);
}

/* With SORAD_TEST_NO_LINKS set: a link to OUTBOX/.NAME.reserved fails with EPERM, as
 * on a file system without hard links.
 * With SORAD_TEST_CRASH_AFTER_RESERVE=PREFIX: abort() right after an output name
 * starting with PREFIX was reserved (the link to OUTBOX/.NAME.reserved succeeded),
 * before the job that took it is recorded: the crash window between the two. */
int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "link");
	const char *slash = strrchr(to, '/');
	size_t n = strlen(to);
	if (getenv("SORAD_TEST_NO_LINKS") && n > 9 && strcmp(to + n - 9, ".reserved") == 0) {
		errno = EPERM; /* as on FAT or a share without hard links */
		return -1;
	}
	int rc = real(from, to);
	const char *want = getenv("SORAD_TEST_CRASH_AFTER_RESERVE");
	if (rc == 0 && want && *want && slash && slash[1] == '.' &&
	    strncmp(slash + 2, want, strlen(want)) == 0 && n > 9 &&
	    strcmp(to + n - 9, ".reserved") == 0)
		abort();
	return rc;
}

/* With SORAD_TEST_HOLD_RENAME=SUFFIX and SORAD_TEST_HOLD_UNTIL=FILE: a rename() whose
 * target ends with SUFFIX waits until FILE exists (at most 120 s), as a disk that takes
 * its time to commit that one record would. The test creates FILE when it has seen
 * what happens meanwhile. */
int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "rename");
	const char *suffix = getenv("SORAD_TEST_HOLD_RENAME");
	const char *until = getenv("SORAD_TEST_HOLD_UNTIL");
	size_t n = strlen(to), sn = suffix ? strlen(suffix) : 0;
	if (sn && until && n >= sn && strcmp(to + n - sn, suffix) == 0)
		wait_for_file(until);
	return real(from, to);
}
