/* t_usage.c — the usage log: recorded once per video, survives a reload, skips torn
 * lines; creates counted from the moment they are sent (unconfirmed), corrected when
 * their outcome is known; totals by period (this machine's clock) and model; caps that
 * count creates in flight and in doubt. */
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
	struct usage_sum sum;
	usage_totals(u, 0, now + 1, NULL, &sum);
	assert_int_equal(sum.seconds, 12);
	assert_true(sum.usd > 2.79 && sum.usd < 2.81);
	assert_int_equal(sum.unconfirmed_seconds, 0);
	usage_totals(u, usage_month_start(now), now + 1, NULL, &sum);
	assert_int_equal(sum.seconds, 4); /* b was 40 days ago */
	usage_totals(u, 0, now + 1, "sora-2-pro", &sum);
	assert_int_equal(sum.seconds, 8);
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

/* A job of claim CLAIM that sent its first create at SUBMIT_AT, no video yet. */
static void sent_job(struct job *j, const char *name, const char *claim, long long submit_at)
{
	char src[128];
	job_init(j);
	bfmt(src, sizeof(src), "%s/%s.txt", claim, name);
	j->name = xstrdup(name);
	j->source = xstrdup(src);
	j->model = xstrdup("sora-2");
	j->size = xstrdup("1280x720");
	j->seconds = 4;
	j->cost_usd = 0.4;
	j->creates = j->creates_allowed = 1;
	j->submit_at = submit_at;
	j->state = JOB_SUBMITTING;
}

static size_t log_lines(void)
{
	char path[256], buf[USAGE_LINE_MAX + 2];
	bfmt(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	size_t n = 0;
	while (fgets(buf, sizeof(buf), fp))
		n++;
	fclose(fp);
	return n;
}

static void append_raw(const char *text)
{
	char path[256];
	bfmt(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Totals of every period (all time) of U, into SUM. */
static void all_time(const struct usage *u, struct usage_sum *sum)
{
	usage_totals(u, 0, (long long)time(NULL) + 86400, NULL, sum);
}

static void expect_sum(const struct usage *u, unsigned long long secs, unsigned long long unconf,
                       const char *what)
{
	struct usage_sum sum;
	all_time(u, &sum);
	if (sum.seconds != secs || sum.unconfirmed_seconds != unconf)
		fail_msg("%s: expected %llu s, %llu s unconfirmed; got %llu s, %llu s unconfirmed",
		         what, secs, unconf, sum.seconds, sum.unconfirmed_seconds);
}

static void t_usage_a_sent_create_counts_as_unconfirmed(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	sent_job(&a, "a", "c1", now);
	assert_int_equal(usage_create_state(u, &a, 1), -1);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now, NULL), 1);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_SENT);
	expect_sum(u, 4, 4, "a create sent");
	struct usage_sum sum;
	all_time(u, &sum);
	assert_true(sum.unconfirmed_usd > 0.39 && sum.unconfirmed_usd < 0.41);
	assert_int_equal(sum.unconfirmed, 1);
	usage_free(u);
	/* It is in the log: a reader (sorad usage) sees it too. */
	u = usage_load(dir);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_SENT);
	expect_sum(u, 4, 4, "a create sent, reloaded");
	usage_free(u);
	job_release(&a);
}

static void t_usage_sent_then_created_is_confirmed_at_the_send_time(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	sent_job(&a, "a", "c1", now - 100);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now - 100, NULL), 1);
	/* A later time given with the outcome does not move the create. */
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, "video_a", now, NULL), 1);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_CREATED);
	assert_true(usage_has(u, "video_a"));
	expect_sum(u, 4, 0, "sent then created");
	usage_free(u);
	u = usage_load(dir);
	assert_int_equal(u->n, 1);
	assert_int_equal(u->v[0].at, now - 100);
	assert_string_equal(u->v[0].video_id, "video_a");
	expect_sum(u, 4, 0, "sent then created, reloaded");
	usage_free(u);
	job_release(&a);
}

static void t_usage_sent_then_void_counts_nothing(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	sent_job(&a, "a", "c1", now);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now, NULL), 1);
	/* A refusal proved create 1 made nothing; create 2 is in doubt. */
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_VOID, NULL, now, NULL), 1);
	expect_sum(u, 0, 0, "a void create");
	assert_int_equal(usage_note_create(u, &a, 2, USAGE_SENT, NULL, now, NULL), 1);
	expect_sum(u, 4, 4, "a void create and one sent");
	usage_free(u);
	u = usage_load(dir);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_VOID);
	assert_int_equal(usage_create_state(u, &a, 2), USAGE_SENT);
	expect_sum(u, 4, 4, "a void create and one sent, reloaded");
	usage_free(u);
	job_release(&a);
}

static void t_usage_noting_the_same_state_twice_appends_one_line(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	sent_job(&a, "a", "c1", now);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now, NULL), 1);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now + 5, NULL), 0);
	/* The video only matters for "created". */
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, "video_x", now, NULL), 0);
	assert_int_equal(log_lines(), 1);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, "video_a", now, NULL), 1);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, "video_a", now, NULL), 0);
	assert_int_equal(log_lines(), 2);
	usage_free(u);
	/* After a reload as well: the daemon's repair at start writes nothing new. */
	u = usage_load(dir);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, "video_a", now, NULL), 0);
	assert_int_equal(log_lines(), 2);
	/* Out of range: nothing. */
	assert_int_equal(usage_note_create(u, &a, 0, USAGE_SENT, NULL, now, NULL), 0);
	assert_int_equal(usage_note_create(u, &a, JOB_CREATES_MAX + 1, USAGE_SENT, NULL, now, NULL),
	                 0);
	assert_int_equal(log_lines(), 2);
	usage_free(u);
	job_release(&a);
}

static void t_usage_a_torn_last_line_is_skipped_and_the_next_one_kept(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a, b;
	sent_job(&a, "a", "c1", now);
	sent_job(&b, "b", "c1", now);
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now, NULL), 1);
	usage_free(u);
	/* A crash mid-append: half of a's "created" line, no newline. */
	append_raw("{\"at\":1,\"name\":\"a\",\"claim\":\"c1\",\"create\":1,\"state\":\"crea");
	u = usage_load(dir);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_SENT);
	expect_sum(u, 4, 4, "a torn line skipped");
	/* The next line starts on a line of its own, and is not lost with the torn one. */
	assert_int_equal(usage_note_create(u, &b, 1, USAGE_SENT, NULL, now, NULL), 1);
	usage_free(u);
	u = usage_load(dir);
	assert_int_equal(usage_create_state(u, &a, 1), USAGE_SENT);
	assert_int_equal(usage_create_state(u, &b, 1), USAGE_SENT);
	expect_sum(u, 8, 8, "the line after a torn one");
	usage_free(u);
	job_release(&a);
	job_release(&b);
}

static void t_usage_older_lines_still_load(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	char text[512];
	bfmt(text, sizeof(text),
	     "{\"at\":%lld,\"name\":\"old\",\"video_id\":\"video_old\",\"model\":\"sora-2\","
	     "\"size\":\"1280x720\",\"seconds\":8,\"cost_usd\":0.8}\n"
	     "{\"at\":%lld,\"video_id\":\"video_bare\",\"model\":\"sora-2\",\"seconds\":4}\n",
	     now - 10, now - 20);
	append_raw(text);
	struct usage *u = usage_load(dir);
	assert_int_equal(u->n, 2);
	assert_true(usage_has(u, "video_old"));
	assert_true(usage_has(u, "video_bare"));
	assert_int_equal(u->v[0].create, 0);
	assert_int_equal(u->v[0].state, USAGE_CREATED);
	expect_sum(u, 12, 0, "older lines");
	/* usage_record still writes and dedupes them (records without a create count). */
	struct job j;
	job(&j, "old", "video_old", "sora-2", 8, 0.8);
	assert_int_equal(usage_record(u, &j, now, NULL), 0);
	assert_int_equal(log_lines(), 2);
	usage_free(u);
	job_release(&j);
}

static void t_usage_an_older_and_a_newer_line_of_one_video_count_once(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	char text[512];
	bfmt(text, sizeof(text),
	     "{\"at\":%lld,\"name\":\"a\",\"video_id\":\"video_a\",\"model\":\"sora-2\","
	     "\"size\":\"1280x720\",\"seconds\":4,\"cost_usd\":0.4}\n",
	     now - 10);
	append_raw(text);
	struct usage *u = usage_load(dir);
	struct job a, b;
	sent_job(&a, "a", "c1", now - 10);
	a.video_id = xstrdup("video_a");
	/* The repair at start after an upgrade: the older line counts it, nothing written. */
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, "video_a", now, NULL), 0);
	assert_int_equal(log_lines(), 1);
	expect_sum(u, 4, 0, "an older line, the same create noted");
	/* A newer line for the same video (one sent first, then created) counts nothing. */
	sent_job(&b, "b", "c2", now);
	assert_int_equal(usage_note_create(u, &b, 1, USAGE_SENT, NULL, now, NULL), 1);
	expect_sum(u, 8, 4, "b sent");
	assert_int_equal(usage_note_create(u, &b, 1, USAGE_CREATED, "video_a", now, NULL), 1);
	expect_sum(u, 4, 0, "b made the video an older line counts");
	usage_free(u);
	u = usage_load(dir);
	expect_sum(u, 4, 0, "one video in an older and a newer line, reloaded");
	/* A newer line written before an older one of the same video: still once. */
	append_raw("{\"at\":1,\"video_id\":\"video_a\",\"model\":\"sora-2\",\"seconds\":4}\n");
	usage_free(u);
	u = usage_load(dir);
	expect_sum(u, 4, 0, "an older line after the newer one");
	usage_free(u);
	job_release(&a);
	job_release(&b);
}

static void t_usage_a_name_used_again_is_another_job(void **state)
{
	(void)state;
	long long now = (long long)time(NULL);
	struct usage *u = usage_load(dir);
	struct job a1, a2;
	sent_job(&a1, "a", "c1", now - 50);
	sent_job(&a2, "a", "c2", now); /* `sorad delete --purge a`, then a new a */
	assert_int_equal(usage_note_create(u, &a1, 1, USAGE_CREATED, "video_1", now - 50, NULL), 1);
	assert_int_equal(usage_note_create(u, &a2, 1, USAGE_SENT, NULL, now, NULL), 1);
	assert_int_equal(usage_create_state(u, &a1, 1), USAGE_CREATED);
	expect_sum(u, 8, 4, "a name used again");
	usage_free(u);
	job_release(&a1);
	job_release(&a2);
}

static void t_usage_periods_go_by_the_send_time_not_the_service_clock(void **state)
{
	(void)state;
	time_t now = time(NULL);
	long long today = usage_day_start(now);
	struct usage *u = usage_load(dir);
	struct job a;
	/* Sent just after midnight here; the service's clock says 5 hours earlier. */
	sent_job(&a, "a", "c1", today + 60);
	a.video_created_at = today + 60 - 5 * 3600;
	a.video_id = xstrdup("video_a");
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_CREATED, a.video_id, a.submit_at, NULL),
	                 1);
	struct usage_sum sum;
	usage_totals(u, today, today + 86400, NULL, &sum);
	assert_int_equal(sum.seconds, 4);
	usage_totals(u, today - 86400, today, NULL, &sum);
	assert_int_equal(sum.seconds, 0);
	usage_free(u);
	job_release(&a);
}

static void t_usage_caps_count_unconfirmed_spending(void **state)
{
	(void)state;
	char err[512], why[512];
	struct conf *c = conf_load(NULL, err, sizeof(err));
	assert_non_null(c);
	time_t now = time(NULL);
	struct usage *u = usage_load(dir);
	struct job a;
	sent_job(&a, "a", "c1", (long long)now);
	c->daily_cap_seconds = 8;
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_SENT, NULL, now, NULL), 1);
	assert_int_equal(usage_note_create(u, &a, 2, USAGE_SENT, NULL, now, NULL), 1);
	/* Two creates in doubt (8 s) leave no room for 4 s more. */
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 1);
	if (!strstr(why, "daily cap of 8 seconds") || !strstr(why, "8 s unconfirmed"))
		fail_msg("expected the daily cap, 8 s unconfirmed; got: %s", why);
	/* One proven to have made nothing: room again. */
	assert_int_equal(usage_note_create(u, &a, 1, USAGE_VOID, NULL, now, NULL), 1);
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 0);
	c->daily_cap_seconds = 0;
	c->monthly_cap_usd = 0.7;
	assert_int_equal(usage_check(u, c, 4, 0.4, 0, 0, now, why, sizeof(why)), 1);
	if (!strstr(why, "monthly cap of $0.70") || !strstr(why, "$0.40 unconfirmed"))
		fail_msg("expected the monthly cap, $0.40 unconfirmed; got: %s", why);
	usage_free(u);
	job_release(&a);
	conf_free(c);
}

/* Entries noted out of order of "at" (a repair at start, an older line after a newer
 * one; a later line of a key moving its "at"): a period's totals (which walk the period
 * only, in order of "at") are what every entry in it adds up to. */
static void t_usage_period_totals_with_entries_out_of_order(void **state)
{
	(void)state;
	static const long long at[] = {500, 100, 300, 100, 900, 700, 200};
	char text[4096] = "", line[512];
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		bfmt(line, sizeof(line),
		     "{\"at\":%lld,\"name\":\"j%zu\",\"claim\":\"c\",\"create\":1,"
		     "\"state\":\"created\",\"video_id\":\"video_%zu\",\"model\":\"%s\","
		     "\"size\":\"1280x720\",\"seconds\":%zu,\"cost_usd\":1}\n",
		     at[i], i, i, i % 2 ? "veo-3" : "sora-2", i + 1);
		strncat(text, line, sizeof(text) - strlen(text) - 1);
	}
	/* j2's second line moves it from 300 to 950 */
	strncat(text,
	        "{\"at\":950,\"name\":\"j2\",\"claim\":\"c\",\"create\":1,\"state\":"
	        "\"created\",\"video_id\":\"video_2\",\"model\":\"sora-2\",\"size\":"
	        "\"1280x720\",\"seconds\":3,\"cost_usd\":1}\n",
	        sizeof(text) - strlen(text) - 1);
	append_raw(text);
	struct usage *u = usage_load(dir);
	assert_int_equal(u->n, 7);
	static const long long bounds[] = {0, 100, 101, 200, 300, 500, 701, 900, 950, 951};
	for (size_t a = 0; a < sizeof(bounds) / sizeof(bounds[0]); a++)
		for (size_t b = a; b < sizeof(bounds) / sizeof(bounds[0]); b++)
			for (int m = 0; m < 2; m++) {
				const char *model = m ? "sora-2" : NULL;
				unsigned long long want = 0;
				for (size_t i = 0; i < u->n; i++)
					if (u->v[i].at >= bounds[a] && u->v[i].at < bounds[b] &&
					    (!model || !strcmp(u->v[i].model, model)))
						want += u->v[i].seconds;
				struct usage_sum sum;
				usage_totals(u, bounds[a], bounds[b], model, &sum);
				assert_int_equal(sum.seconds, want);
			}
	struct usage_sum all;
	usage_totals(u, 0, 1000, NULL, &all);
	assert_int_equal(all.seconds, 1 + 2 + 3 + 4 + 5 + 6 + 7);
	usage_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_usage_records_each_video_once_and_reloads, setup,
	                                    teardown),
	    cmocka_unit_test(t_usage_periods_are_local_midnights),
	    cmocka_unit_test_setup_teardown(t_usage_caps_hold_the_job_that_would_exceed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_usage_a_sent_create_counts_as_unconfirmed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_usage_sent_then_created_is_confirmed_at_the_send_time,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_sent_then_void_counts_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_noting_the_same_state_twice_appends_one_line,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        t_usage_a_torn_last_line_is_skipped_and_the_next_one_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_older_lines_still_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        t_usage_an_older_and_a_newer_line_of_one_video_count_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_a_name_used_again_is_another_job, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        t_usage_periods_go_by_the_send_time_not_the_service_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_period_totals_with_entries_out_of_order, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_usage_caps_count_unconfirmed_spending, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
