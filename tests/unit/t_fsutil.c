/* t_fsutil.c — atomic replacement and directory creation. */
#include "fsutil.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_fsutil.XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t count_entries(const char *d)
{
	DIR *dp = opendir(d);
	assert_non_null(dp);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dp)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dp);
	return n;
}

static void t_atomic_write_replaces_whole_file_and_leaves_no_temp(void **state)
{
	(void)state;
	char sub[256], path[300], buf[64] = "";
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/aw", dir), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(atomic_write_file(sub, "job.json", "{\"v\":1}", 7, 0600), 0);
	assert_int_equal(atomic_write_file(sub, "job.json", "{\"v\":22}", 8, 0600), 0);
	assert_int_equal(bfmt(path, sizeof(path), "%s/job.json", sub), 0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 8);
	close(fd);
	assert_string_equal(buf, "{\"v\":22}");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_entries(sub), 1);
}

/* An existing file is overwritten in place, cut to length; but never written
 * through: a hard link (or anything not a plain file) is replaced by a new file. */
static void t_write_synced_rewrites_plain_files_only(void **state)
{
	(void)state;
	char sub[256], path[300], other[300], buf[64] = "";
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/ws", dir), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(bfmt(path, sizeof(path), "%s/t.tmp", sub), 0);
	assert_int_equal(bfmt(other, sizeof(other), "%s/other", sub), 0);
	assert_int_equal(write_file_synced(path, "a longer first text", 19, 0600), 0);
	struct stat st1, st2;
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(write_file_synced(path, "short", 5, 0644), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_ino, st1.st_ino); /* the same inode, rewritten */
	assert_int_equal(st2.st_size, 5);
	assert_int_equal(st2.st_mode & 0777, 0644);
	assert_int_equal(link(path, other), 0);
	assert_int_equal(write_file_synced(path, "new", 3, 0600), 0);
	int fd = open(other, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
	close(fd);
	assert_string_equal(buf, "short"); /* the other link is untouched */
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st2.st_ino != st1.st_ino);
	assert_int_equal(st2.st_size, 3);
	/* A FIFO in its place neither blocks the writer nor stays. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(write_file_synced(path, "data", 4, 0600), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(S_ISREG(st2.st_mode));
	assert_int_equal(st2.st_size, 4);
}

static void t_atomic_write_failure_leaves_target_and_no_temp(void **state)
{
	(void)state;
	/* The target is a directory: the rename fails after the temp file was written. */
	char sub[256], target[300];
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/fail", dir), 0);
	assert_int_equal(bfmt(target, sizeof(target), "%s/f", sub), 0);
	assert_int_equal(mkdir_p(target, 0700), 0);
	assert_int_equal(atomic_write_file(sub, "f", "new", 3, 0600), -1);
	assert_int_equal(errno, EISDIR);
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_entries(sub), 1); /* the temp file was removed */
}

static void t_atomic_write_reports_enospc(void **state)
{
	(void)state;
	/* /dev/full is a directory-less ENOSPC source; use a full tmpfs when available. */
	if (access("/dev/full", W_OK) != 0)
		skip();
	int fd = open("/dev/full", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

static void t_mkdir_p_creates_parents_and_rejects_files(void **state)
{
	(void)state;
	char deep[256], file[256], under[300];
	assert_int_equal(bfmt(deep, sizeof(deep), "%s/a/b/c/", dir), 0);
	assert_int_equal(mkdir_p(deep, 0700), 0);
	assert_int_equal(mkdir_p(deep, 0700), 0); /* idempotent */
	assert_int_equal(bfmt(file, sizeof(file), "%s/plain", dir), 0);
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdir_p(file, 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(bfmt(under, sizeof(under), "%s/x", file), 0);
	assert_int_equal(mkdir_p(under, 0700), -1);
	assert_int_equal(mkdir_p("", 0700), -1);
	assert_int_equal(errno, EINVAL);
}

static void t_copy_file_copies_and_refuses_symlinks(void **state)
{
	(void)state;
	char src[256], dst[256], link[256], buf[64] = "";
	assert_int_equal(bfmt(src, sizeof(src), "%s/copy-src", dir), 0);
	assert_int_equal(bfmt(dst, sizeof(dst), "%s/copy-dst", dir), 0);
	assert_int_equal(bfmt(link, sizeof(link), "%s/copy-link", dir), 0);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "image bytes", 11), 0);
	close(fd);
	assert_int_equal(copy_file(src, dst, 0640), 0);
	fd = open(dst, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 11);
	close(fd);
	assert_string_equal(buf, "image bytes");
	struct stat st;
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* A symlink as the source is not followed; nothing is left behind. */
	assert_int_equal(symlink(src, link), 0);
	unlink(dst);
	assert_int_equal(copy_file(link, dst, 0640), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(access(dst, F_OK), -1);
}

/* The outbox's mode is configuration: under the daemon's umask 077 the files and the
 * directories it creates still get exactly the mode asked for; mkdir_p keeps the
 * umask (the state stays private) and leaves existing directories alone. */
static void t_modes_are_exact_whatever_the_umask(void **state)
{
	(void)state;
	char d[256], sub[300], f[300], g[300], priv[256];
	struct stat st;
	mode_t old = umask(077);
	assert_int_equal(bfmt(d, sizeof(d), "%s/exact", dir), 0);
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/out/failed", d), 0);
	assert_int_equal(mkdir_p_exact(sub, 0755), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(d, &st), 0); /* a parent it created, too */
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(mkdir_p_exact(sub, 0755), 0); /* existing: left alone */
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(bfmt(f, sizeof(f), "%s/out", d), 0);
	assert_int_equal(atomic_write_file(f, "v.json", "{}", 2, 0644), 0);
	assert_int_equal(bfmt(g, sizeof(g), "%s/out/v.json", d), 0);
	assert_int_equal(stat(g, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(bfmt(f, sizeof(f), "%s/out/v.copy", d), 0);
	assert_int_equal(copy_file(g, f, 0640), 0);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(bfmt(priv, sizeof(priv), "%s/private/jobs", dir), 0);
	assert_int_equal(mkdir_p(priv, 0755), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	umask(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_atomic_write_replaces_whole_file_and_leaves_no_temp),
	    cmocka_unit_test(t_write_synced_rewrites_plain_files_only),
	    cmocka_unit_test(t_atomic_write_failure_leaves_target_and_no_temp),
	    cmocka_unit_test(t_atomic_write_reports_enospc),
	    cmocka_unit_test(t_mkdir_p_creates_parents_and_rejects_files),
	    cmocka_unit_test(t_copy_file_copies_and_refuses_symlinks),
	    cmocka_unit_test(t_modes_are_exact_whatever_the_umask),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
