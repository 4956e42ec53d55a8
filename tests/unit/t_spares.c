/* t_spares.c — the pool of files and directories made ahead (spares.h): made through a
 * commit, taken by a rename, kept again up to twice the size, removed at the end; a
 * target on another file system leaves the spares where they are. */
#include "commit.h"
#include "spares.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_spares.XXXXXX";

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/t_spares.XXXXXX", sizeof(dir));
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* How many entries of DIR/SUB start with PREFIX. */
static size_t count(const char *sub, const char *prefix)
{
	char path[512];
	bfmt(path, sizeof(path), "%s/%s", dir, sub);
	DIR *dp = opendir(path);
	assert_non_null(dp);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dp)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(dp);
	return n;
}

static void t_spares_files_made_taken_kept(void **state)
{
	(void)state;
	char pool[512], out[512], path[512];
	bfmt(pool, sizeof(pool), "%s/pool", dir);
	bfmt(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(pool, 0700), 0);
	assert_int_equal(mkdir(out, 0700), 0);
	struct commit *cm = commit_new(NULL); /* synchronous: made at the flush */
	struct spares *s = NULL;
	struct spares *got = spares_at(&s, pool, "r", ".x", S_IFREG | 0600, 4);
	assert_ptr_equal(got, s);
	assert_ptr_equal(spares_at(&s, pool, "r", ".x", S_IFREG | 0600, 4), got); /* kept */
	spares_fill(s, cm);
	assert_int_equal(spares_count(s), 0); /* staged, not made yet */
	assert_int_equal(commit_flush(cm), 0);
	assert_int_equal(spares_count(s), 8); /* twice LOW, ahead */
	assert_int_equal(count("pool", "r"), 8);
	/* taken: renamed where asked, an empty regular file of the mode asked; none made
	 * while at least LOW / 2 are left */
	for (int i = 0; i < 4; i++) {
		bfmt(path, sizeof(path), "%s/taken-%d", out, i);
		assert_true(spares_take(s, path));
		struct stat st;
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_size, 0);
	}
	spares_fill(s, cm);
	assert_int_equal(commit_flush(cm), 0);
	assert_int_equal(spares_count(s), 4);
	for (int i = 4; i < 8; i++) {
		bfmt(path, sizeof(path), "%s/taken-%d", out, i);
		assert_true(spares_take(s, path));
	}
	bfmt(path, sizeof(path), "%s/none", out);
	assert_false(spares_take(s, path));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count("pool", "r"), 0);
	for (int i = 4; i < 8; i++) { /* back to where they were */
		bfmt(path, sizeof(path), "%s/taken-%d", out, i);
		assert_true(spares_keep(s, path));
	}
	assert_int_equal(spares_count(s), 4);
	/* kept again, up to twice the size; a name not there is not kept */
	for (int i = 0; i < 4; i++) {
		bfmt(path, sizeof(path), "%s/taken-%d", out, i);
		assert_true(spares_keep(s, path));
		assert_int_equal(access(path, F_OK), -1);
	}
	assert_false(spares_keep(s, path));
	bfmt(path, sizeof(path), "%s/more", out);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_false(spares_keep(s, path)); /* 8 kept: full */
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(spares_count(s), 8);
	/* full enough: nothing more is made */
	spares_fill(s, cm);
	assert_int_equal(commit_flush(cm), 0);
	assert_int_equal(count("pool", "r"), 8);
	/* another directory: a new pool, the old one's spares removed */
	char pool2[512];
	bfmt(pool2, sizeof(pool2), "%s/pool2", dir);
	assert_int_equal(mkdir(pool2, 0700), 0);
	struct spares *old = s;
	assert_ptr_not_equal(spares_at(&s, pool2, "r", ".x", S_IFREG | 0600, 4), old);
	assert_int_equal(count("pool", "r"), 0);
	spares_free(s);
	commit_free(cm);
}

static void t_spares_directories(void **state)
{
	(void)state;
	char path[512];
	struct commit *cm = commit_new(NULL);
	struct spares *s = NULL;
	spares_at(&s, dir, ".spare-", "", S_IFDIR | 0700, 2);
	spares_fill(s, cm);
	assert_int_equal(commit_flush(cm), 0);
	assert_int_equal(count(".", ".spare-"), 4);
	bfmt(path, sizeof(path), "%s/claim", dir);
	assert_true(spares_take(s, path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(spares_keep(s, path));
	spares_free(s); /* removes them */
	assert_int_equal(count(".", ".spare-"), 0);
	commit_free(cm);
}

/* Made 32 per commit batch, each batch taken as it lands, until the pool is full. */
static void t_spares_made_in_batches(void **state)
{
	(void)state;
	struct commit *cm = commit_new(NULL);
	struct spares *s = NULL;
	spares_at(&s, dir, "r", "", S_IFREG | 0600, 40); /* twice 40: 80 */
	spares_fill(s, cm);
	static const size_t after[] = {32, 64, 80, 80};
	for (size_t i = 0; i < ARRAY_LEN(after); i++) {
		assert_int_equal(commit_flush(cm), 0); /* a batch, which stages the next */
		assert_int_equal(spares_count(s), after[i]);
	}
	assert_int_equal(count(".", "r"), 80);
	spares_free(s);
	assert_int_equal(count(".", "r"), 0);
	commit_free(cm);
}

/* A target on another file system (/dev/shm is tmpfs where /tmp is not): false with
 * EXDEV, and the spare stays for a target where it can go. */
static void t_spares_other_file_system(void **state)
{
	(void)state;
	struct stat a, b;
	if (stat("/dev/shm", &b) != 0 || stat(dir, &a) != 0 || a.st_dev == b.st_dev) {
		skip(); /* one file system here */
		return;
	}
	char elsewhere[64], path[512];
	bfmt(elsewhere, sizeof(elsewhere), "/dev/shm/t_spares.%ld", (long)getpid());
	struct commit *cm = commit_new(NULL);
	struct spares *s = NULL;
	spares_at(&s, dir, "r", "", S_IFREG | 0600, 1);
	spares_fill(s, cm);
	assert_int_equal(commit_flush(cm), 0);
	assert_false(spares_take(s, elsewhere));
	assert_int_equal(errno, EXDEV);
	assert_int_equal(spares_count(s), 2);
	bfmt(path, sizeof(path), "%s/here", dir);
	assert_true(spares_take(s, path));
	spares_free(s);
	commit_free(cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_spares_files_made_taken_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_spares_directories, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_spares_made_in_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_spares_other_file_system, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
