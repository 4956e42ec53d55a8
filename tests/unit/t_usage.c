/* t_usage.c — the usage log: recorded once per video, survives a reload, skips torn
 * lines; totals by period and model; caps that count creates in flight. */
#include "conf.h"
#include "job.h"
#include "usage.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[] = "/tmp/t_usage.XXXXXX";

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/t_usage.XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void job(struct job *j, const char *name, const char *vid, const char *model, unsigned secs,
                double cost)
{
	job_init(j);
	j->name = xstrdup(name);
	j->video_id = xstrdup(vid);
	j->model = xstrdup(model);
	j->size = xstrdup("1280x720");
	j->seconds = secs;
	j->cost_usd = cost;
}

static void t_usage_records_each_video_once_and_reloads(void **state)
{
	(void)state;
	time_t now = time(NULL);
	struct usage *u = usage_load(dir);
	struct job a, b;
	job(&a, "a", "video_a", "sora-2", 4, 0.4);
	job(&b, "b", "video_b", "sora-2-pro", 8, 2.4);
	assert_int_equal(usage_record(u, &a, now, NULL), 1);
	assert_int_equal(usage_record(u, &a, now, NULL), 0);
	assert_int_equal(usage_record(u, &b, now - 40 * 86400, NULL), 1);
	usage_free(u);

	/* A torn last line (a crash mid-append) and garbage are skipped. */
	char path[256];
	bfmt(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("not json\n{\"at\":1,\"video_id\":\"video_c\",\"model\":\"sora-2\",\"sec", fp);
	fclose(fp);

	u = usage_load(dir);
	assert_int_equal(u->n, 2);
	assert_true(usage_has(u, "video_a"));
	assert_false(usage_has(u, "video_c"));
	unsigned long long s;
	double usd;
	usage_totals(u, 0, now + 1, NULL, &s, &usd);
	assert_int_equal(s, 12);
	assert_true(usd > 2.79 && usd < 2.81);
	usage_totals(u, usage_month_start(now), now + 1, NULL, &s, &usd);
	assert_int_equal(s, 4); /* b was 40 days ago */
	usage_totals(u, 0, now + 1, "sora-2-pro", &s, &usd);
	assert_int_equal(s, 8);
	usage_free(u);
	job_release(&a);
	job_release(&b);
}

static void t_usage_periods_are_local_midnights(void **state)
{
	(void)state;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	/* 2026-03-29 12:00 local (the day DST starts: 23 hours long). */
	struct tm tm = {.tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 12, .tm_isdst = -1};
	time_t t = mktime(&tm);
	long long day = usage_day_start(t), next = usage_next_day(t);
	assert_int_equal(next - day, 23 * 3600);
	struct tm m;
	time_t mt = (time_t)usage_month_start(t);
	localtime_r(&mt, &m);
	assert_int_equal(m.tm_mday, 1);
	assert_int_equal(m.tm_hour, 0);
	assert_int_equal(m.tm_mon, 2);
	unsetenv("TZ");
	tzset();
}

static void t_usage_caps_hold_the_job_that_would_exceed(void **state)
{
	(void)state;
	char err[512], why[256];
	struct conf *c = conf_load(NULL, err, sizeof(err));
	assert_non_null(c);
	time_t now = time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	job(&a, "a", "video_a", "sora-2", 4, 0.4);
	usage_record(u, &a, now, NULL);

	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 0); /* no caps */
	c->daily_cap_seconds = 8;
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 0);
	/* A create in flight counts: 4 recorded + 4 pending + 4 > 8. */
	assert_int_equal(usage_check(u, c, 4, 0.4, 4, 0.4, now, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "daily cap of 8 seconds"));
	c->daily_cap_seconds = 0;
	c->monthly_cap_usd = 0.8; /* 0.4 + 0.4 = 0.8 exactly: allowed */
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 0);
	assert_int_equal(usage_check(u, c, 4, 0.41, 0, 0, now, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "monthly cap of $0.80"));
	/* Tomorrow's daily cap does not count today's use. */
	c->monthly_cap_usd = 0;
	c->daily_cap_usd = 0.5;
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 1);
	assert_int_equal(
	    usage_check(u, c, 4, 0.4, 0, 0, (time_t)usage_next_day(now) + 10, why, sizeof(why)), 0);
	usage_free(u);
	job_release(&a);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_usage_records_each_video_once_and_reloads, setup,
	                                    teardown),
	    cmocka_unit_test(t_usage_periods_are_local_midnights),
	    cmocka_unit_test_setup_teardown(t_usage_caps_hold_the_job_that_would_exceed, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
