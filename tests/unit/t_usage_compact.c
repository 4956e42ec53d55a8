/* t_usage_compact.c — the daemon's load of the usage log (usage_load_compact): keys
 * settled before yesterday folded into totals, with the same totals, caps and answers
 * as the full load; a folded key found again, noted again only when it changes; the
 * reader's fast path and its fallback agreeing with cJSON. */
#include "conf.h"
#include "job.h"
#include "usage.h"
#include "usage_loader.h"
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

static char dir[] = "/tmp/t_usage_compact.XXXXXX";

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/t_usage_compact.XXXXXX", sizeof(dir));
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

static void append_raw(const char *text)
{
	char path[256];
	bfmt(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
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

/* A create line of job NAME (claim "c") sent AT, in STATE. */
static void create_line(const char *name, long long at, const char *state, const char *video,
                        const char *model, unsigned secs, double usd)
{
	char line[512], vid[128] = "";
	if (video)
		bfmt(vid, sizeof(vid), "\"video_id\":\"%s\",", video);
	bfmt(line, sizeof(line),
	     "{\"at\":%lld,\"name\":\"%s\",\"claim\":\"c\",\"create\":1,\"state\":\"%s\",%s"
	     "\"model\":\"%s\",\"size\":\"1280x720\",\"seconds\":%u,\"cost_usd\":%g}\n",
	     at, name, state, vid, model, secs, usd);
	append_raw(line);
}

/* Job NAME of claim "c", its create 1 as sent AT. */
static void job_of(struct job *j, const char *name, long long at, const char *video)
{
	job_init(j);
	j->name = xstrdup(name);
	j->source = xstrdup("c/x.txt");
	j->model = xstrdup("sora-2");
	j->size = xstrdup("1280x720");
	j->seconds = 4;
	j->cost_usd = 0.4;
	j->creates = j->creates_allowed = 1;
	j->submit_at = at;
	j->video_id = video ? xstrdup(video) : NULL;
	j->state = JOB_DONE;
}

static void expect_same_totals(const struct usage *full, const struct usage *compact,
                               long long from, long long to, const char *model)
{
	struct usage_sum a, b;
	usage_totals(full, from, to, model, &a);
	usage_totals(compact, from, to, model, &b);
	if (a.seconds != b.seconds || a.creates != b.creates || a.unconfirmed != b.unconfirmed ||
	    a.unconfirmed_seconds != b.unconfirmed_seconds || a.usd - b.usd > 1e-9 ||
	    b.usd - a.usd > 1e-9)
		fail_msg("[%lld, %lld) %s: the full load says %llu s $%.4f %zu creates (%zu "
		         "unconfirmed), the compact one %llu s $%.4f %zu (%zu)",
		         from, to, model ? model : "all", a.seconds, a.usd, a.creates,
		         a.unconfirmed, b.seconds, b.usd, b.creates, b.unconfirmed);
}

/* Old settled keys are folded (not full entries), and every period's totals, by model
 * and for all, are the full load's: created, void, older lines, a key replaced later,
 * a "sent" one kept whole however old. */
static void t_usage_compact_folds_old_keys_with_the_same_totals(void **state)
{
	(void)state;
	time_t now = time(NULL);
	long long old = usage_month_start(now) - 40 * 86400LL;
	for (int i = 0; i < 50; i++) {
		char name[32], vid[32];
		bfmt(name, sizeof(name), "old-%d", i);
		bfmt(vid, sizeof(vid), "video_old_%d", i);
		create_line(name, old + i * 3600LL, i % 7 == 3 ? "void" : "created",
		            i % 7 == 3 ? NULL : vid, i % 2 ? "sora-2-pro" : "sora-2", 4 + i % 3,
		            0.1 * (i % 5 + 1));
	}
	/* an older line (keyed by its video), and its repeat by a create: counted once */
	append_raw("{\"at\":1000000,\"name\":\"legacy\",\"video_id\":\"video_legacy\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":8,\"cost_usd\":0.8}\n");
	create_line("legacy-again", 1000000, "created", "video_legacy", "sora-2", 8, 0.8);
	/* old-5 voided later, old-6 moved to a reported cost, old-9 sent and never settled */
	create_line("old-5", old + 5 * 3600LL, "void", NULL, "sora-2-pro", 5, 0.1);
	create_line("old-6", old + 6 * 3600LL, "created", "video_old_6", "sora-2", 4, 0.55);
	create_line("old-9", old + 9 * 3600LL, "sent", NULL, "sora-2-pro", 4, 0.2);
	create_line("today", (long long)now - 60, "created", "video_today", "veo-3", 8, 3);
	create_line("today-sent", (long long)now - 30, "sent", NULL, "veo-3", 8, 3);

	/* the daemon's way: on a thread, beside the records' load (usage_loader.h) */
	struct usage_loader *ld = usage_loader_start(dir, now);
	struct usage *full = usage_load(dir), *compact = usage_load_compact(dir, now);
	struct usage *bg = usage_loader_wait(ld);
	/* full: old-9 (sent), today, today-sent, legacy-again (a repeat: counts nothing) */
	if (compact->n != 4 || bg->n != 4)
		fail_msg("expected 4 full entries, got %zu (%zu on the thread) of %zu", compact->n,
		         bg->n, full->n);
	static const char *const models[] = {NULL, "sora-2", "sora-2-pro", "veo-3", "none"};
	long long bounds[] = {0, old - 86400, usage_month_start(now), usage_day_start(now),
	                      (long long)now + 86400};
	for (size_t m = 0; m < ARRAY_LEN(models); m++)
		for (size_t a = 0; a < ARRAY_LEN(bounds); a++)
			for (size_t b = a + 1; b < ARRAY_LEN(bounds); b++) {
				expect_same_totals(full, compact, bounds[a], bounds[b], models[m]);
				expect_same_totals(full, bg, bounds[a], bounds[b], models[m]);
			}
	assert_int_equal(usage_model_count(compact), 3);
	assert_string_equal(usage_model(compact, 0), "sora-2");
	assert_string_equal(usage_model(compact, 2), "veo-3");
	assert_true(usage_has(compact, "video_legacy"));
	/* a folded create's video is not looked up (usage.h: the tradeoff) */
	assert_true(usage_has(full, "video_old_6"));
	assert_false(usage_has(compact, "video_old_6"));
	assert_false(usage_has(compact, "video_old_5"));
	assert_false(usage_has(bg, "video_old_6"));
	usage_free(bg);
	usage_free(full);
	usage_free(compact);
}

/* A folded key is still known: its state; noting it as it is appends nothing; a change
 * unfolds it (the totals follow, its period stays) and is written. */
static void t_usage_compact_a_folded_key_is_found_and_changed(void **state)
{
	(void)state;
	time_t now = time(NULL);
	long long old = (long long)now - 90 * 86400LL;
	create_line("x", old, "created", "video_x", "sora-2", 4, 0.4);
	create_line("y", old, "created", "video_y", "sora-2", 4, 0.4);
	struct usage *u = usage_load_compact(dir, now);
	assert_int_equal(u->n, 0);
	struct job x, y;
	job_of(&x, "x", old + 5, "video_x");
	job_of(&y, "y", old + 5, "video_y");
	free(y.source);
	y.source = xstrdup("other/y.txt"); /* another claim: another job */
	assert_int_equal(usage_create_state(u, &x, 1), USAGE_CREATED);
	assert_int_equal(usage_create_state(u, &x, 2), -1);
	assert_int_equal(usage_create_state(u, &y, 1), -1);
	assert_int_equal(usage_note_create(u, &x, 1, USAGE_CREATED, "video_x", old + 5, NULL), 0);
	assert_int_equal(log_lines(), 2);
	struct usage_sum sum;
	usage_totals(u, 0, (long long)now + 86400, NULL, &sum);
	assert_int_equal(sum.seconds, 8);
	assert_int_equal(usage_note_create(u, &x, 1, USAGE_VOID, NULL, old + 5, NULL), 1);
	assert_int_equal(log_lines(), 3);
	assert_int_equal(usage_create_state(u, &x, 1), USAGE_VOID);
	usage_totals(u, 0, (long long)now + 86400, NULL, &sum);
	assert_int_equal(sum.seconds, 4);
	assert_int_equal(u->n, 1);
	assert_int_equal(u->v[0].at, old); /* the create's period never moves */
	usage_free(u);
	/* and the log says the same to the next load, full or compact */
	u = usage_load_compact(dir, now);
	usage_totals(u, 0, (long long)now + 86400, NULL, &sum);
	assert_int_equal(sum.seconds, 4);
	assert_int_equal(usage_create_state(u, &x, 1), USAGE_VOID);
	usage_free(u);
	job_release(&x);
	job_release(&y);
}

/* The reader: members in any order, escapes (cJSON's path), nested values, blanks; a
 * line that is not one (a number out of range, a bad state, no model) is skipped. */
static void t_usage_compact_lines_read_as_cjson_reads_them(void **state)
{
	(void)state;
	append_raw("{ \"model\" : \"sora-2\", \"seconds\":4 ,\"cost_usd\":0.25,\"state\":\"sent\","
	           "\"create\":1,\"claim\":\"c\",\"name\":\"spaced\",\"at\":1e3}\n"
	           "{\"at\":1000,\"name\":\"esc\\\"aped\\u00e9\",\"claim\":\"c\",\"create\":1,"
	           "\"state\":\"created\",\"video_id\":\"video_e\",\"model\":\"sora-2\","
	           "\"extra\":{\"a\":[1,2]},\"seconds\":2,\"cost_usd\":0.5}\n"
	           "{\"at\":-1,\"name\":\"neg\",\"claim\":\"c\",\"create\":1,\"state\":\"sent\","
	           "\"model\":\"m\",\"seconds\":4,\"cost_usd\":1}\n"
	           "{\"at\":5,\"name\":\"bad\",\"claim\":\"c\",\"create\":1,\"state\":\"done\","
	           "\"model\":\"m\",\"seconds\":4,\"cost_usd\":1}\n"
	           "{\"at\":5,\"name\":\"nomodel\",\"claim\":\"c\",\"create\":1,\"state\":\"sent\","
	           "\"seconds\":4,\"cost_usd\":1}\n"
	           "{\"at\":5,\"name\":\"k0\",\"claim\":\"c\",\"create\":0,\"state\":\"sent\","
	           "\"model\":\"m\",\"seconds\":4,\"cost_usd\":1}\n"
	           "{\"at\":5,\"name\":\"negcost\",\"claim\":\"c\",\"create\":2,\"state\":\"sent\","
	           "\"model\":\"m\",\"seconds\":1,\"cost_usd\":-3}\n");
	struct usage *u = usage_load(dir);
	assert_int_equal(u->n, 3);
	assert_string_equal(u->v[0].name, "spaced");
	assert_int_equal(u->v[0].at, 1000);
	assert_int_equal(u->v[0].state, USAGE_SENT);
	assert_string_equal(u->v[1].name, "esc\"aped\xc3\xa9");
	assert_string_equal(u->v[1].video_id, "video_e");
	assert_true(u->v[2].cost_usd == 0);
	assert_int_equal(u->v[2].create, 2);
	usage_free(u);
}

/* A key's lines far apart (the daemon's log: "sent", hundreds of other lines, then
 * "created"): folded once settled, never a full entry; a "sent" never settled stays
 * one; a folded key's later line found again at the load, however far, and its
 * latest state the one kept; lines read back from anywhere between the marks. */
static void t_usage_compact_keys_far_apart(void **state)
{
	(void)state;
	time_t now = time(NULL);
	long long old = usage_month_start(now) - 40 * 86400LL;
	char name[32], vid[32];
	for (int i = 0; i < 700; i++) {
		bfmt(name, sizeof(name), "far-%d", i);
		create_line(name, old + i * 60LL, "sent", NULL, "sora-2", 4, 0.25);
		if (i >= 300) {
			/* the creates sent 300 lines before settle now */
			bfmt(name, sizeof(name), "far-%d", i - 300);
			bfmt(vid, sizeof(vid), "video_far_%d", i - 300);
			create_line(name, old + (i - 300) * 60LL, "created", vid, "sora-2", 4,
			            0.25);
		}
	}
	/* far-0 to far-399 settled; far-7 voided long after; far-400 on still "sent" */
	create_line("far-7", old + 7 * 60LL, "void", NULL, "sora-2", 4, 0.25);
	struct usage *full = usage_load(dir), *compact = usage_load_compact(dir, now);
	assert_int_equal(full->n, 700);
	assert_int_equal(compact->n, 300); /* the "sent" ones only */
	for (size_t i = 0; i < compact->n; i++)
		assert_int_equal(compact->v[i].state, USAGE_SENT);
	/* quarter hours (a bound inside one counts all of it: usage.h) */
	long long bounds[] = {0, old + 900, old + 30 * 900LL, (long long)now + 86400};
	for (size_t a = 0; a < ARRAY_LEN(bounds); a++)
		for (size_t b = a + 1; b < ARRAY_LEN(bounds); b++)
			expect_same_totals(full, compact, bounds[a], bounds[b], NULL);
	struct usage_sum sum;
	usage_totals(compact, 0, (long long)now + 86400, NULL, &sum);
	assert_int_equal(sum.creates, 699);
	assert_int_equal(sum.unconfirmed, 300);
	/* every key found by its line, wherever it is between two marks */
	for (int i = 0; i < 700; i++) {
		struct job j;
		bfmt(name, sizeof(name), "far-%d", i);
		job_of(&j, name, old + i * 60LL, NULL);
		int want = i == 7 ? USAGE_VOID : i < 400 ? USAGE_CREATED : USAGE_SENT;
		if (usage_create_state(compact, &j, 1) != want)
			fail_msg("%s: state %d, expected %d", name,
			         usage_create_state(compact, &j, 1), want);
		assert_int_equal(usage_create_state(compact, &j, 2), -1);
		job_release(&j);
	}
	usage_free(full);
	usage_free(compact);
}

/* A first block of long lines says the log has few lines: the index made for them is
 * too small, and the load is made again with the lines counted: every key folded. */
static void t_usage_compact_sized_again_when_lines_are_shorter(void **state)
{
	(void)state;
	time_t now = time(NULL);
	long long old = usage_month_start(now) - 40 * 86400LL;
	static char pad[3001];
	memset(pad, 'x', sizeof(pad) - 1);
	char line[3600], name[32], vid[32];
	for (int i = 0; i < 60; i++) {
		bfmt(line, sizeof(line),
		     "{\"at\":%lld,\"name\":\"long-%d\",\"claim\":\"c\",\"create\":1,"
		     "\"state\":\"created\",\"video_id\":\"video_long_%d\",\"model\":\"sora-2\","
		     "\"size\":\"1280x720\",\"seconds\":4,\"cost_usd\":0.5,\"pad\":\"%s\"}\n",
		     old, i, i, pad);
		append_raw(line);
	}
	for (int i = 0; i < 20000; i++) {
		bfmt(name, sizeof(name), "short-%d", i);
		bfmt(vid, sizeof(vid), "video_short_%d", i);
		create_line(name, old + i, "created", vid, i % 2 ? "sora-2" : "sora-2-pro", 4, 0.5);
	}
	struct usage *full = usage_load(dir), *compact = usage_load_compact(dir, now);
	assert_int_equal(full->n, 20060);
	assert_int_equal(compact->n, 0);
	expect_same_totals(full, compact, 0, (long long)now + 86400, NULL);
	expect_same_totals(full, compact, 0, (long long)now + 86400, "sora-2");
	struct job j;
	job_of(&j, "short-19999", old, "video_short_19999");
	assert_int_equal(usage_create_state(compact, &j, 1), USAGE_CREATED);
	job_release(&j);
	job_of(&j, "long-3", old, "video_long_3");
	assert_int_equal(usage_create_state(compact, &j, 1), USAGE_CREATED);
	job_release(&j);
	usage_free(full);
	usage_free(compact);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_usage_compact_folds_old_keys_with_the_same_totals,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_compact_a_folded_key_is_found_and_changed,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_compact_lines_read_as_cjson_reads_them, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_usage_compact_keys_far_apart, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_usage_compact_sized_again_when_lines_are_shorter,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
