/* t_jobs_cold.c — finished jobs known by their history line only (jobs_cold.c): a start
 * after a clean stop keeps them cold, in claim order; they are found by name and by
 * video id, counted exactly (the debug recount runs at every change), thawed when asked
 * for, forgotten without moving the others, and survive the history's compaction; two
 * lines of one job leave one job. No network (NULL API client), a synchronous commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jobs_int.h" /* the inside: the cold slots and their counts */
#include "conf.h"
#include "history.h"
#include "jobs.h"
#include "loop.h"
#include "store.h"
#include "util.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N 300 /* finished jobs written: every 7th failed, every 10th with a reference */

struct ctx {
	char root[64];
	struct conf *c;
	struct loop *l;
	struct jobs *js;
};

static char *dir_in(const char *root, const char *name)
{
	char p[PATH_MAX];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", root, name), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	return xstrdup(p);
}

static void name_of(char *buf, size_t n, size_t i)
{
	assert_int_equal(bfmt(buf, n, "job-%04zu", i), 0);
}

static void vid_of(char *buf, size_t n, size_t i)
{
	assert_int_equal(bfmt(buf, n, "video_%032zx", (size_t)0xC01D0000 + i), 0);
}

/* Job I's record: claimed in the order of I, but written (and finished) in another. */
static void write_record(const struct ctx *x, size_t i, long long base)
{
	char name[32], vid[64], src[64];
	struct job j;
	job_init(&j);
	name_of(name, sizeof(name), i);
	vid_of(vid, sizeof(vid), i);
	assert_int_equal(bfmt(src, sizeof(src), "%lld-4242-%zu/%s.txt",
	                      (base + (long long)i) * 1000, i + 1, name),
	                 0);
	j.name = xstrdup(name);
	j.source = xstrdup(src);
	j.prompt = xstrdup("A cold job");
	j.model = xstrdup("sora-2");
	j.size = xstrdup("1280x720");
	j.seconds = 4;
	j.claimed_at = base + (long long)i;
	j.submit_at = j.claimed_at + 1;
	j.finished_at = j.claimed_at + 60 + (long long)((i * 37) % 50);
	if (i % 7 == 3) {
		j.state = JOB_FAILED;
		j.error = xstrdup("It failed.");
		j.error_code = xstrdup(i % 14 == 3 ? "invalid_input" : "video_failed");
	} else {
		j.state = JOB_DONE;
		j.video_id = xstrdup(vid);
		j.video_created_at = j.submit_at;
		j.video_completed_at = j.submit_at + 50;
	}
	if (i % 10 == 5)
		j.reference = xstrdup(i == 5 ? "shared.png" : "other.png");
	assert_int_equal(store_save(x->c->state_dir, &j), 0);
	job_release(&j);
}

static struct ctx *ctx_new(void)
{
	struct ctx *x = xcalloc(1, sizeof(*x));
	memcpy(x->root, "/tmp/t_jobs_cold.XXXXXX", sizeof("/tmp/t_jobs_cold.XXXXXX"));
	assert_non_null(mkdtemp(x->root));
	char err[512];
	x->c = conf_load(NULL, err, sizeof(err));
	if (!x->c)
		fail_msg("conf_load(NULL): %s", err);
	free(x->c->inbox);
	x->c->inbox = dir_in(x->root, "inbox");
	free(x->c->outbox);
	x->c->outbox = dir_in(x->root, "outbox");
	free(x->c->failed_dir);
	x->c->failed_dir = dir_in(x->root, "failed");
	free(x->c->state_dir);
	x->c->state_dir = dir_in(x->root, "state");
	x->l = loop_new();
	assert_non_null(x->l);
	assert_int_equal(store_open(x->c->state_dir), 0);
	long long base = (long long)time(NULL) - 86400; /* within the duplicate window */
	/* written in an order unlike claim order: the history's lines follow it */
	for (size_t k = 0; k < N; k++)
		write_record(x, (k * 101) % N, base);
	return x;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void ctx_free(struct ctx *x)
{
	jobs_free(x->js);
	loop_free(x->l);
	conf_free(x->c);
	assert_int_equal(nftw(x->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(x);
}

/* A start (the previous daemon stopped cleanly: jobs_free). Returns the jobs loaded. */
static int start(struct ctx *x)
{
	jobs_free(x->js);
	x->js = jobs_new(x->l, NULL, x->c, NULL);
	return jobs_load(x->js);
}

static size_t cold(const struct ctx *x)
{
	return x->js->cold.n;
}

static void expect_claim_order(const struct ctx *x)
{
	size_t want = 0;
	for (size_t i = 0; i < jobs_total(x->js); i++) {
		if (jobs_state_at(x->js, i) == JOB_STATE_COUNT)
			continue; /* a place whose job left */
		char name[32];
		name_of(name, sizeof(name), want);
		const struct job *j = jobs_at(x->js, i);
		assert_non_null(j);
		assert_string_equal(j->name, name);
		want++;
	}
	assert_int_equal(want, N);
}

static void t_cold_start_keeps_finished_jobs_cold(void **state)
{
	(void)state;
	struct ctx *x = ctx_new();
	/* The first start reads every record (no history yet), writes the history, and
	 * then keeps the finished jobs as their lines only, as the next start does. */
	assert_int_equal(start(x), N);
	assert_int_equal(cold(x), N);
	jr_check_counts(x->js, NULL, "the test");
	char first[32];
	name_of(first, sizeof(first), 7);
	assert_non_null(jobs_find(x->js, first)); /* found again: read from its line */
	assert_int_equal(cold(x), N - 1);
	/* The next one takes them from their lines: all cold. */
	assert_int_equal(start(x), N);
	assert_int_equal(cold(x), N);
	size_t failed = 0, rejected = 0;
	for (size_t i = 0; i < N; i++) {
		failed += i % 7 == 3;
		rejected += i % 14 == 3;
	}
	assert_int_equal(jobs_count(x->js, JOB_FAILED), failed);
	assert_int_equal(jobs_count(x->js, JOB_DONE), N - failed);
	assert_int_equal(jobs_rejected(x->js), rejected);
	const char *model;
	assert_int_equal(jobs_generated(x->js, 0, &model), 4ULL * (N - failed));
	assert_string_equal(model, "sora-2");
	assert_int_equal(jobs_known(x->js), N);
	/* a reference named by a cold job only is known */
	assert_true(jobs_name_a_reference(x->js, "shared.png"));
	assert_false(jobs_name_a_reference(x->js, "nobody.png"));
	/* found by name and by video id, each thawed once; the totals do not move */
	char name[32], vid[64];
	name_of(name, sizeof(name), 42);
	const struct job *j = jobs_find(x->js, name);
	assert_non_null(j);
	assert_string_equal(j->name, name);
	assert_true(jobs_is_summary(j));
	assert_int_equal(cold(x), N - 1);
	vid_of(vid, sizeof(vid), 43);
	j = jobs_find(x->js, vid);
	assert_non_null(j);
	name_of(name, sizeof(name), 43);
	assert_string_equal(j->name, name);
	assert_int_equal(cold(x), N - 2);
	assert_null(jobs_find(x->js, "job-9999"));
	assert_null(jobs_find(x->js, "video_0000"));
	assert_int_equal(jobs_count(x->js, JOB_DONE), N - failed);
	assert_int_equal(jobs_rejected(x->js), rejected);
	assert_int_equal(jobs_generated(x->js, 0, &model), 4ULL * (N - failed));
	/* the index of a thawed job is its place */
	assert_int_equal(jobs_index(x->js, j), 43);
	/* claim order: the order of the claims, not the order the lines were written */
	expect_claim_order(x);
	assert_int_equal(cold(x), 0); /* jobs_at thawed each */
	jr_check_counts(x->js, NULL, "the test");
	ctx_free(x);
}

static void t_cold_forget_keeps_places_and_compacts(void **state)
{
	(void)state;
	struct ctx *x = ctx_new();
	assert_int_equal(start(x), N);
	assert_int_equal(start(x), N);
	char name[32];
	name_of(name, sizeof(name), 10);
	assert_int_equal(jobs_forget(x->js, name), 0);
	assert_null(jobs_find(x->js, name));
	assert_int_equal(jobs_known(x->js), N - 1);
	assert_int_equal(jobs_total(x->js), N); /* its place stays, empty */
	assert_int_equal(jobs_state_at(x->js, 10), JOB_STATE_COUNT);
	assert_null(jobs_at(x->js, 10));
	/* the others are where they were: found by name */
	name_of(name, sizeof(name), 11);
	assert_non_null(jobs_find(x->js, name));
	/* forgotten for good: not back after a restart */
	assert_int_equal(start(x), N - 1);
	name_of(name, sizeof(name), 10);
	assert_null(jobs_find(x->js, name));
	/* More than half the lines forgotten: the next start makes the history again, and
	 * the cold jobs are read from the new file. */
	for (size_t i = 100; i < 260; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(jobs_forget(x->js, name), 0);
	}
	assert_int_equal(start(x), N - 161);
	assert_int_equal(start(x), N - 161); /* compacted at the first: trusted again */
	assert_int_equal(cold(x), N - 161);
	char vid[64];
	vid_of(vid, sizeof(vid), 281);
	const struct job *j = jobs_find(x->js, vid);
	assert_non_null(j);
	name_of(name, sizeof(name), 281);
	assert_string_equal(j->name, name);
	name_of(name, sizeof(name), 150);
	assert_null(jobs_find(x->js, name));
	jr_check_counts(x->js, NULL, "the test");
	ctx_free(x);
}

/* Appends a second line for job NAME, as a crash between appending a job's new line and
 * marking its old one leaves, and keeps the history trusted (a clean stop). */
static void second_line(struct ctx *x, const char *name)
{
	const struct job *j = jobs_whole(x->js, jobs_find(x->js, name));
	assert_non_null(j);
	struct job copy;
	job_init(&copy);
	char *json = store_record_json(j);
	char why[256];
	assert_int_equal(store_record_parse(&copy, json, strlen(json), why, sizeof(why)), 0);
	free(json);
	jobs_free(x->js);
	x->js = NULL;
	struct history *h = history_open(x->c->state_dir);
	assert_non_null(h);
	free(copy.error);
	copy.error = xstrdup("Its later line.");
	assert_true(history_append(h, &copy, NULL) > 0);
	assert_int_equal(history_trust_set(h, x->c->state_dir, true), 0);
	history_close(h);
	job_release(&copy);
}

static void on_stop(void *ud)
{
	loop_stop(ud);
}

/* What the status list or the lookups thawed goes back to its slot (from the loop),
 * and is found there again. */
static void t_cold_thawed_jobs_go_back(void **state)
{
	(void)state;
	struct ctx *x = ctx_new();
	assert_int_equal(start(x), N);
	assert_int_equal(start(x), N);
	x->js->cold.thawed_max = 50;
	char name[32];
	name_of(name, sizeof(name), 3);
	assert_non_null(jobs_whole(x->js, jobs_find(x->js, name))); /* read whole */
	for (size_t i = 0; i < 60; i++)
		assert_non_null(jobs_at(x->js, i));
	assert_int_equal(cold(x), N - 60);
	struct loop_timer *t = loop_timer_new(x->l, on_stop, x->l);
	loop_timer_arm(t, 50);
	assert_int_equal(loop_run(x->l), 0);
	loop_timer_free(t);
	assert_int_equal(cold(x), N); /* every one went back */
	assert_int_equal(x->js->cold.thawed, 0);
	jr_check_counts(x->js, NULL, "the test");
	/* and each is found again, by name and by video id, in its place */
	char vid[64];
	vid_of(vid, sizeof(vid), 5);
	const struct job *j = jobs_find(x->js, vid);
	assert_non_null(j);
	name_of(name, sizeof(name), 5);
	assert_string_equal(j->name, name);
	assert_int_equal(jobs_index(x->js, j), 5);
	expect_claim_order(x);
	ctx_free(x);
}

static void t_cold_two_lines_one_job(void **state)
{
	(void)state;
	struct ctx *x = ctx_new();
	assert_int_equal(start(x), N);
	assert_int_equal(start(x), N);
	second_line(x, "job-0003"); /* a failed one: the note is in its line */
	x->js = jobs_new(x->l, NULL, x->c, NULL);
	assert_int_equal(jobs_load(x->js), N);
	assert_int_equal(jobs_known(x->js), N);
	assert_int_equal(cold(x), N);
	const struct job *j = jobs_find(x->js, "job-0003");
	assert_non_null(j);
	assert_non_null(j->error);
	assert_string_equal(j->error, "Its later line.");
	assert_int_equal(jobs_count(x->js, JOB_FAILED), N / 7 + (N % 7 > 3));
	jr_check_counts(x->js, NULL, "the test");
	ctx_free(x);
}

/* Claim order as a key (jr_claim_key) agrees with the claims' own order when their ids'
 * milliseconds pass a second that claimed_at (time(), a coarse clock a few ms behind)
 * has not: the ids of a run where a fast start listed bad and big before fox and owl. */
static void t_claim_key_across_a_second(void **state)
{
	(void)state;
	uint64_t k[] = {
	    jr_claim_key(1796673698, "1796673698992-18075-1/fox.txt", 0),
	    jr_claim_key(1796673698, "1796673698994-18075-2/owl.txt", 0),
	    jr_claim_key(1796673698, "1796673699000-18075-3/bad.txt", 0),
	    jr_claim_key(1796673698, "1796673699001-18075-4/big.jsonl", 1),
	    jr_claim_key(1796673698, "1796673699001-18075-4/big.jsonl", 2),
	    jr_claim_key(1796673699, "1796673699002-18075-5/later.txt", 0),
	};
	for (size_t i = 1; i < ARRAY_LEN(k); i++)
		if (!(k[i - 1] < k[i]))
			fail_msg("key %zu is not before key %zu", i - 1, i);
	/* an id just before claimed_at's second: before the ids of that second */
	assert_true(jr_claim_key(1796673699, "1796673698999-1-6/a.txt", 0) <
	            jr_claim_key(1796673699, "1796673699000-1-7/b.txt", 0));
	/* no claim id (an older record), or a claimed_at out of range: still a key */
	assert_true(jr_claim_key(1796673698, "fox.txt", 0) < k[0]);
	assert_true(jr_claim_key(-1, "1796673698992-1-1/x.txt", 0) < k[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_cold_start_keeps_finished_jobs_cold),
	    cmocka_unit_test(t_cold_forget_keeps_places_and_compacts),
	    cmocka_unit_test(t_cold_thawed_jobs_go_back),
	    cmocka_unit_test(t_cold_two_lines_one_job),
	    cmocka_unit_test(t_claim_key_across_a_second),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
