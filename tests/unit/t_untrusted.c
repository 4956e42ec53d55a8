/* t_untrusted.c — the rule for opening files sorad did not write: a regular file of
 * its own opens; a FIFO (without blocking), a directory, a symbolic link, a hard link
 * and a file over the limit are refused with a reason. */
#include "untrusted.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_untrusted.XXXXXX";

static const char *at(const char *name)
{
	static char p[PATH_MAX];
	bfmt(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void t_rule(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	char why[256];
	struct stat st;
	put("plain.txt", "hello");
	int fd = untrusted_open(at("plain.txt"), 0, 0, &st, why, sizeof why);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* cleared for plain reads */
	close(fd);
	/* over the limit */
	assert_int_equal(untrusted_open(at("plain.txt"), 4, 0, NULL, why, sizeof why), -1);
	assert_int_equal(errno, EFBIG);
	/* a FIFO: refused at once, nobody writing to it */
	assert_int_equal(mkfifo(at("pipe"), 0600), 0);
	assert_int_equal(untrusted_open(at("pipe"), 0, 0, NULL, why, sizeof why), -1);
	assert_non_null(strstr(why, "named pipe"));
	/* a directory */
	assert_int_equal(mkdir(at("sub"), 0700), 0);
	assert_int_equal(untrusted_open(at("sub"), 0, 0, NULL, why, sizeof why), -1);
	assert_non_null(strstr(why, "directory"));
	/* a symbolic link is not followed */
	char target[PATH_MAX];
	bcopy_str(target, sizeof target, at("plain.txt"));
	assert_int_equal(symlink(target, at("sym")), 0);
	assert_int_equal(untrusted_open(at("sym"), 0, 0, NULL, why, sizeof why), -1);
	assert_non_null(strstr(why, "symbolic link"));
	/* a hard link: refused, unless links are allowed */
	assert_int_equal(link(target, at("hard")), 0);
	assert_int_equal(untrusted_open(at("hard"), 0, 0, NULL, why, sizeof why), -1);
	assert_non_null(strstr(why, "hard link (2 names)"));
	fd = untrusted_open(at("hard"), 0, UNTRUSTED_LINKS_OK, NULL, why, sizeof why);
	assert_true(fd >= 0);
	close(fd);
	/* missing */
	assert_int_equal(untrusted_open(at("none"), 0, 0, NULL, why, sizeof why), -1);
	assert_int_equal(errno, ENOENT);
	char cmd[PATH_MAX + 16];
	bfmt(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(t_rule)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
