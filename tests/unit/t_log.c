/* t_log.c — hour-based log files, levels, redaction and pruning, with an injected clock. */
#include "log.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct timespec fake_now;

static void fake_clock(struct timespec *ts)
{
	*ts = fake_now;
}

/* 2026-11-23 13:59:59 UTC */
#define T_1359 ((time_t)1795442399)

static char *tmpdir_make(void)
{
	char tmpl[] = "/tmp/t_log.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void rm_rf(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, de->d_name), 0);
		unlink(p);
	}
	closedir(dp);
	rmdir(dir);
}

/* Reads DIR/NAME into a new string (caller frees); NULL if missing. */
static char *slurp(const char *dir, const char *name)
{
	char p[4096];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, name), 0);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	char *buf = xcalloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int setup(void **state)
{
	fake_now.tv_sec = T_1359;
	fake_now.tv_nsec = 900000000;
	log_set_clock(fake_clock);
	*state = tmpdir_make();
	return 0;
}

static int teardown(void **state)
{
	log_close();
	log_set_clock(NULL);
	rm_rf(*state);
	free(*state);
	return 0;
}

static void t_log_file_name_is_utc_hour(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(log_file_name(T_1359, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sorad-2026-11-23-13.log");
	assert_int_equal(log_file_name(T_1359 + 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sorad-2026-11-23-14.log");
	char tiny[8];
	assert_int_equal(log_file_name(T_1359, tiny, sizeof(tiny)), -1);
}

static void t_log_rolls_over_at_the_hour(void **state)
{
	const char *dir = *state;
	assert_int_equal(log_open(dir, LOG_INFO, 14, false), 0);
	log_event(LOG_INFO, "cat-piano", "video_abc", "before the hour");
	fake_now.tv_sec = T_1359 + 1;
	fake_now.tv_nsec = 100000000;
	log_event(LOG_INFO, NULL, NULL, "after the hour");

	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	char *b = slurp(dir, "sorad-2026-11-23-14.log");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(count_lines(a), 1);
	assert_int_equal(count_lines(b), 1);
	assert_non_null(strstr(a, "2026-11-23T13:59:59.900Z INFO [job=cat-piano video=video_abc] "
	                          "before the hour\n"));
	assert_non_null(strstr(b, "2026-11-23T14:00:00.100Z INFO after the hour\n"));
	free(a);
	free(b);
}

static void t_log_filters_by_level(void **state)
{
	const char *dir = *state;
	assert_int_equal(log_open(dir, LOG_WARNING, 14, false), 0);
	log_event(LOG_DEBUG, NULL, NULL, "debug line");
	log_event(LOG_INFO, NULL, NULL, "info line");
	log_event(LOG_WARNING, NULL, "video_1", "warning line");
	log_event(LOG_ERROR, "j", NULL, "error line");
	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	assert_non_null(a);
	assert_null(strstr(a, "debug line"));
	assert_null(strstr(a, "info line"));
	assert_non_null(strstr(a, "WARNING [video=video_1] warning line"));
	assert_non_null(strstr(a, "ERROR [job=j] error line"));
	free(a);
	assert_int_equal(log_level_parse("warn"), LOG_WARNING);
	assert_int_equal(log_level_parse("DEBUG"), LOG_DEBUG);
	assert_int_equal(log_level_parse("loud"), -1);
	assert_int_equal(log_level_parse(NULL), -1);
}

static void t_log_never_writes_the_api_key(void **state)
{
	const char *dir = *state;
	const char *key = "sk-proj-SECRETSECRET0123456789";
	assert_int_equal(log_open(dir, LOG_DEBUG, 14, false), 0);
	log_add_secret(key);
	log_event(LOG_ERROR, key, key, "header Authorization: Bearer %s and again %s.", key, key);

	/* A line cut at the buffer limit must not leave the start of the key either. */
	char big[8300];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	size_t keep = 8192 - 64;
	memcpy(big + keep, key, strlen(key));
	big[keep + strlen(key)] = '\0';
	for (int shift = 0; shift < 40; shift++)
		log_event(LOG_INFO, NULL, NULL, "%.*s%s", shift,
		          "................................................", big);

	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	assert_non_null(a);
	assert_null(strstr(a, "SECRETSECRET"));
	assert_null(strstr(a, "sk-proj-SEC"));
	assert_non_null(strstr(a, "Bearer [REDACTED] and again [REDACTED]."));
	assert_non_null(strstr(a, "[job=[REDACTED] video=[REDACTED]]"));
	assert_int_equal(count_lines(a), 41);
	free(a);
}

static void t_log_keeps_one_event_on_one_line(void **state)
{
	const char *dir = *state;
	assert_int_equal(log_open(dir, LOG_INFO, 14, false), 0);
	log_event(LOG_INFO, "evil\njob", NULL, "prompt was: line one\nERROR forged line\r\n");
	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	assert_non_null(a);
	assert_int_equal(count_lines(a), 1);
	assert_non_null(strstr(a, "[job=evil job] prompt was: line one ERROR forged line"));
	free(a);
}

static void touch(const char *dir, const char *name)
{
	char p[4096];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, name), 0);
	int fd = open(p, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char p[4096];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, name), 0);
	return access(p, F_OK) == 0;
}

static void t_log_prunes_files_older_than_keep_days(void **state)
{
	const char *dir = *state;
	touch(dir, "sorad-2026-11-01-10.log"); /* 22 days old: removed */
	touch(dir, "sorad-2026-11-09-12.log"); /* ends 14 days + ~1 h before: removed */
	touch(dir, "sorad-2026-11-09-14.log"); /* ends within 14 days: kept */
	touch(dir, "sorad-2026-11-20-00.log"); /* kept */
	touch(dir, "sorad-2025-13-01-00.log"); /* not a valid name: never touched */
	touch(dir, "notes.txt");               /* not ours: never touched */
	assert_int_equal(log_open(dir, LOG_INFO, 14, false), 0);
	assert_false(exists(dir, "sorad-2026-11-01-10.log"));
	assert_false(exists(dir, "sorad-2026-11-09-12.log"));
	assert_true(exists(dir, "sorad-2026-11-09-14.log"));
	assert_true(exists(dir, "sorad-2026-11-20-00.log"));
	assert_true(exists(dir, "sorad-2025-13-01-00.log"));
	assert_true(exists(dir, "notes.txt"));
	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	assert_non_null(strstr(a, "pruned 2 file(s) older than 14 days"));
	free(a);

	/* Pruning also happens when the hour rolls over while running. */
	touch(dir, "sorad-2026-11-09-13.log");
	fake_now.tv_sec = T_1359 + 1;
	log_event(LOG_INFO, NULL, NULL, "next hour");
	assert_false(exists(dir, "sorad-2026-11-09-13.log"));
	assert_true(exists(dir, "sorad-2026-11-09-14.log"));
}

static void t_log_keep_days_zero_keeps_everything(void **state)
{
	const char *dir = *state;
	touch(dir, "sorad-2020-01-01-00.log");
	assert_int_equal(log_open(dir, LOG_INFO, 0, false), 0);
	assert_true(exists(dir, "sorad-2020-01-01-00.log"));
}

static void t_log_open_creates_missing_dirs_and_reports_failure(void **state)
{
	const char *dir = *state;
	char sub[4096];
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/a/b", dir), 0);
	assert_int_equal(log_open(sub, LOG_INFO, 1, false), 0);
	log_event(LOG_INFO, NULL, NULL, "deep");
	char *a = slurp(sub, "sorad-2026-11-23-13.log");
	assert_non_null(a);
	free(a);
	log_close();
	char p[4096];
	assert_int_equal(bfmt(p, sizeof(p), "%s/a/b/sorad-2026-11-23-13.log", dir), 0);
	unlink(p);
	assert_int_equal(bfmt(p, sizeof(p), "%s/a/b", dir), 0);
	rmdir(p);
	assert_int_equal(bfmt(p, sizeof(p), "%s/a", dir), 0);
	rmdir(p);

	/* A file where the directory should be: an error, not a crash. */
	touch(dir, "plainfile");
	assert_int_equal(bfmt(sub, sizeof(sub), "%s/plainfile/logs", dir), 0);
	assert_int_equal(log_open(sub, LOG_INFO, 1, false), -1);
}

static void t_log_reopen_recreates_a_moved_file(void **state)
{
	const char *dir = *state;
	assert_int_equal(log_open(dir, LOG_INFO, 14, false), 0);
	log_event(LOG_INFO, NULL, NULL, "first");
	char from[4096], to[4096];
	assert_int_equal(bfmt(from, sizeof(from), "%s/sorad-2026-11-23-13.log", dir), 0);
	assert_int_equal(bfmt(to, sizeof(to), "%s/rotated.old", dir), 0);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(log_reopen(), 0);
	log_event(LOG_INFO, NULL, NULL, "second");
	char *a = slurp(dir, "sorad-2026-11-23-13.log");
	assert_non_null(a);
	assert_null(strstr(a, "first"));
	assert_non_null(strstr(a, "second"));
	free(a);
	unlink(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_log_file_name_is_utc_hour, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_rolls_over_at_the_hour, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_filters_by_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_never_writes_the_api_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_keeps_one_event_on_one_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_prunes_files_older_than_keep_days, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_log_keep_days_zero_keeps_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_open_creates_missing_dirs_and_reports_failure,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(t_log_reopen_recreates_a_moved_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
