/* t_history.c — STATE/history.tsv (history.h): lines written and read back, escapes,
 * superseded lines, a torn last line cut at open, lines that are not ours skipped, a
 * failed write removing the file, history_forget, the digests of the lines read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "job.h"
#include "util.h"

static char dir[] = "/tmp/t_history.XXXXXX";
static char path[512];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/t_history.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

/* Every line the walk sees, copied. */
struct seen {
	size_t n;
	struct job v[16];
	long long off[16];
	bool superseded[16];
};

static bool collect(const struct history_line *l, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16) {
		job_init(&s->v[s->n]);
		history_line_job(l, &s->v[s->n]);
		s->off[s->n] = l->off;
		s->superseded[s->n] = l->superseded;
		s->n++;
	}
	return true;
}

static void seen_release(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		job_release(&s->v[i]);
	s->n = 0;
}

static void make_job(struct job *j, const char *name, enum job_state st)
{
	job_init(j);
	j->name = xstrdup(name);
	j->state = st;
	j->model = xstrdup("sora-2");
	j->size = xstrdup("1280x720");
	j->seconds = 8;
	j->progress = st == JOB_DONE ? 100 : 40;
	j->claimed_at = 1700000000;
	j->submit_at = 1700000001;
	j->finished_at = 1700000100;
	j->video_created_at = 1700000002;
	j->video_completed_at = 1700000090;
	j->cost_usd = 0.8;
	j->creates = 1;
	j->creates_allowed = 1;
	j->video_id = xstrdup("video_abc");
	j->dup_key = xstrdup("0123456789abcdef");
}

static void t_history_round_trip(void **state)
{
	(void)state;
	struct history *h = history_open(dir);
	assert_non_null(h);
	struct job a, b;
	make_job(&a, "fox", JOB_DONE);
	make_job(&b, "tab\there\\and\nnewline", JOB_FAILED);
	b.error = xstrdup("The service refused it: moderation_blocked\nsecond line kept");
	b.error_code = xstrdup("moderation_blocked");
	free(b.video_id);
	b.video_id = NULL;
	b.claimed_at = -1;
	unsigned long long da = 0;
	long long oa = history_append(h, &a, &da), ob = history_append(h, &b, NULL);
	assert_true(da == history_digest(&a));
	assert_true(oa > 0);
	assert_true(ob > oa);
	/* a job in flight has no line */
	a.state = JOB_RUNNING;
	assert_int_equal(history_append(h, &a, NULL), -1);
	assert_true(history_ok(h));
	history_close(h);

	struct seen s = {0};
	assert_int_equal(history_each(dir, collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "fox");
	assert_int_equal(s.v[0].state, JOB_DONE);
	assert_string_equal(s.v[0].video_id, "video_abc");
	assert_string_equal(s.v[0].model, "sora-2");
	assert_string_equal(s.v[0].size, "1280x720");
	assert_int_equal(s.v[0].seconds, 8);
	assert_int_equal(s.v[0].progress, 100);
	assert_int_equal(s.v[0].claimed_at, 1700000000);
	assert_int_equal(s.v[0].finished_at, 1700000100);
	assert_int_equal(s.v[0].submit_at, 1700000001);
	assert_int_equal(s.v[0].video_created_at, 1700000002);
	assert_int_equal(s.v[0].video_completed_at, 1700000090);
	assert_true(job_spent_usd(&s.v[0]) > 0.7999 && job_spent_usd(&s.v[0]) < 0.8001);
	assert_string_equal(s.v[0].dup_key, "0123456789abcdef");
	assert_int_equal(s.off[0], oa);
	assert_string_equal(s.v[1].name, "tab\there\\and\nnewline");
	assert_int_equal(s.v[1].state, JOB_FAILED);
	assert_null(s.v[1].video_id);
	assert_int_equal(s.v[1].claimed_at, -1);
	assert_string_equal(s.v[1].error_code, "moderation_blocked");
	assert_string_equal(s.v[1].error,
	                    "The service refused it: moderation_blocked\nsecond line kept");
	seen_release(&s);
	job_release(&a);
	job_release(&b);
}

static void t_history_supersede_and_forget(void **state)
{
	(void)state;
	struct history *h = history_open(dir);
	assert_non_null(h);
	struct job a, b;
	make_job(&a, "one", JOB_DONE);
	make_job(&b, "two", JOB_FAILED);
	long long oa = history_append(h, &a, NULL);
	history_append(h, &b, NULL);
	b.state = JOB_DONE; /* retried, done now */
	history_append(h, &b, NULL);
	assert_int_equal(history_supersede(h, oa), 0);
	history_close(h);
	struct seen s = {0};
	assert_int_equal(history_each(dir, collect, &s), 3);
	assert_true(s.superseded[0]);
	assert_false(s.superseded[1]);
	assert_false(s.superseded[2]);
	seen_release(&s);
	/* a command forgetting "two" while no daemon runs: both its lines */
	assert_int_equal(history_forget(dir, "two"), 0);
	assert_int_equal(history_each(dir, collect, &s), 3);
	assert_true(s.superseded[0] && s.superseded[1] && s.superseded[2]);
	seen_release(&s);
	job_release(&a);
	job_release(&b);
}

static void append_raw(const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void t_history_torn_and_foreign_lines(void **state)
{
	(void)state;
	struct history *h = history_open(dir);
	struct job a;
	make_job(&a, "whole", JOB_DONE);
	history_append(h, &a, NULL);
	history_close(h);
	/* lines that are not ours, then a crash in the middle of an append */
	append_raw("garbage\n\nD\tbad\t\t\t\tnot-a-number\t\t\t\t\t\t\t\t\t\t\n");
	append_raw("D\tno\\qescape\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n");
	append_raw("D\ttoo\tmany\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n");
	append_raw("D\thalf-writ");
	struct seen s = {0};
	/* a reader leaves the last line out while it has no newline */
	assert_int_equal(history_each(dir, collect, &s), 1);
	assert_string_equal(s.v[0].name, "whole");
	seen_release(&s);
	/* the writer cuts it at open; the next line starts clean */
	h = history_open(dir);
	assert_non_null(h);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	free(a.name);
	a.name = xstrdup("after");
	long long off = history_append(h, &a, NULL);
	assert_true(off > 0);
	history_close(h);
	assert_int_equal(history_each(dir, collect, &s), 2);
	assert_string_equal(s.v[1].name, "after");
	assert_int_equal(s.off[1], st.st_size);
	seen_release(&s);
	job_release(&a);
}

static void t_history_long_fields_cut(void **state)
{
	(void)state;
	struct history *h = history_open(dir);
	struct job a;
	make_job(&a, "long", JOB_FAILED);
	char *big = xmalloc(100000);
	memset(big, 'e', 99999);
	big[99999] = '\0';
	a.error = big;
	free(a.video_id);
	a.video_id = xstrdup(big);
	/* a line longer than HISTORY_LINE_MAX is never written */
	assert_true(history_append(h, &a, NULL) > 0);
	history_close(h);
	struct seen s = {0};
	assert_int_equal(history_each(dir, collect, &s), 1);
	assert_int_equal(strlen(s.v[0].error), HISTORY_NOTE_MAX);
	assert_true(strlen(s.v[0].video_id) < HISTORY_LINE_MAX);
	seen_release(&s);
	job_release(&a);
}

/* The digest of every line as the walk and history_read_at see it equals the one the
 * writer gave (history_digest): plain lines, lines with escapes, lines across the
 * walk's 64 KiB reads; a line holding a NUL and one too long are not ours. */
struct digests {
	size_t n;
	unsigned long long d[4000];
	long long off[4000];
	char name[4000][48];
};

static bool take_digest(const struct history_line *l, void *ud)
{
	struct digests *g = ud;
	if (g->n < 4000) {
		g->d[g->n] = history_line_digest(l);
		g->off[g->n] = l->off;
		snprintf(g->name[g->n], sizeof(g->name[0]), "%s", l->name);
		g->n++;
	}
	return true;
}

static void t_history_digest_of_lines_read(void **state)
{
	(void)state;
	struct history *h = history_open(dir);
	assert_non_null(h);
	static struct digests want, got;
	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	size_t written = 0;
	for (size_t i = 0; i < 3000; i++) {
		struct job a;
		char name[48];
		snprintf(name, sizeof(name), i % 7 == 3 ? "tab\t%zu\\x" : "job-%zu", i);
		make_job(&a, name, i % 5 == 1 ? JOB_FAILED : JOB_DONE);
		char note[300];
		size_t k = (i * 37) % 250; /* lines of many lengths: some cross a read's end */
		memset(note, i % 11 == 4 ? '\n' : 'n', k);
		note[k] = '\0';
		a.error = xstrdup(note);
		unsigned long long d = 0;
		long long off = history_append(h, &a, &d);
		assert_true(off > 0);
		want.d[written] = d;
		want.off[written] = off;
		snprintf(want.name[written], sizeof(want.name[0]), "%s", name);
		written++;
		job_release(&a);
		if (i == 1500) {
			history_close(h);
			/* not ours: a NUL inside, and a line longer than HISTORY_LINE_MAX */
			int fd = open(path, O_WRONLY | O_APPEND);
			assert_true(fd >= 0);
			static const char nul[] =
			    "D\tnul\0here\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n";
			assert_int_equal(write(fd, nul, sizeof(nul) - 1), (ssize_t)sizeof(nul) - 1);
			char *big = xmalloc(HISTORY_LINE_MAX * 3);
			memset(big, 'b', HISTORY_LINE_MAX * 3);
			memcpy(big, "D\tbig\t", 6);
			big[HISTORY_LINE_MAX * 3 - 1] = '\n';
			assert_int_equal(write(fd, big, HISTORY_LINE_MAX * 3),
			                 HISTORY_LINE_MAX * 3);
			free(big);
			close(fd);
			h = history_open(dir);
			assert_non_null(h);
		}
	}
	history_close(h);
	assert_int_equal(history_each(dir, take_digest, &got), (long long)written);
	assert_int_equal(got.n, written);
	for (size_t i = 0; i < written; i++) {
		assert_string_equal(got.name[i], want.name[i]);
		assert_int_equal(got.off[i], want.off[i]);
		assert_true(got.d[i] == want.d[i]);
	}
	/* one line at a time, as a cold job is read back */
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (size_t i = 0; i < written; i += 97) {
		struct digests *one = xmalloc(sizeof(*one));
		one->n = 0;
		assert_int_equal(history_read_at(fd, want.off[i], take_digest, one), 0);
		assert_int_equal(one->n, 1);
		assert_true(one->d[0] == want.d[i]);
		free(one);
	}
	close(fd);
}

static void t_history_not_a_file(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	/* neither the writer nor a reader blocks on a FIFO planted in its place */
	assert_null(history_open(dir));
	assert_int_equal(history_each(dir, collect, NULL), -1);
	unlink(path);
	assert_int_equal(history_each(dir, collect, NULL), -1); /* none: ENOENT */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_history_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_history_supersede_and_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_history_torn_and_foreign_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_history_long_fields_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_history_digest_of_lines_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_history_not_a_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
