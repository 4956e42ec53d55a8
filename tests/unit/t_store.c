/* t_store.c — job records: atomic save, load back, and unreadable records moved aside. */
#include "job.h"
#include "log.h"
#include "store.h"
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

static char dir[] = "/tmp/t_store.XXXXXX";

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/t_store.XXXXXX", sizeof(dir)); /* the template, reset per test */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sample(struct job *j, const char *name)
{
	job_init(j);
	j->name = xstrdup(name);
	j->state = JOB_RUNNING;
	j->source = xstrdup("1795442300123-77-1/batch.jsonl");
	j->line = 3;
	j->prompt = xstrdup("A calico cat \"playing\" piano\nunder a spotlight — ünïcode");
	j->model = xstrdup("sora-2-pro");
	j->size = xstrdup("1792x1024");
	j->seconds = 12;
	j->reference = xstrdup("cat.png");
	j->remix_of = xstrdup("earlier-job");
	j->remix_video_id = xstrdup("video_0123456789abcdef");
	j->video_id = xstrdup("video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5");
	j->status = xstrdup("in_progress");
	j->progress = 42;
	j->video_created_at = 1795442399;
	j->claimed_at = 1795442300;
	j->submit_at = 1795442301;
	j->next_at_ms = 1795442405123LL;
	j->attempts = 2;
	j->cost_usd = 6.0;
}

struct collected {
	struct job jobs[8];
	int n;
};

static bool collect(struct job *j, void *ud)
{
	struct collected *c = ud;
	assert_true(c->n < 8);
	c->jobs[c->n++] = *j; /* takes the strings */
	return true;
}

static void release_all(struct collected *c)
{
	for (int i = 0; i < c->n; i++)
		job_release(&c->jobs[i]);
}

static void write_file(const char *rel, const char *content)
{
	char p[512];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, rel), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int count(const char *sub)
{
	char p[512];
	assert_int_equal(bfmt(p, sizeof(p), "%s/%s", dir, sub), 0);
	DIR *dp = opendir(p);
	assert_non_null(dp);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dp)))
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void t_store_round_trips_every_field(void **state)
{
	(void)state;
	struct job j;
	sample(&j, "cat-piano");
	assert_int_equal(store_save(dir, &j), 0);
	struct collected c = {0};
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	struct job *k = &c.jobs[0];
	assert_string_equal(k->name, "cat-piano");
	assert_int_equal(k->state, JOB_RUNNING);
	assert_string_equal(k->source, "1795442300123-77-1/batch.jsonl");
	assert_int_equal(k->line, 3);
	assert_string_equal(k->prompt, j.prompt);
	assert_string_equal(k->model, "sora-2-pro");
	assert_string_equal(k->size, "1792x1024");
	assert_int_equal(k->seconds, 12);
	assert_string_equal(k->reference, "cat.png");
	assert_string_equal(k->remix_of, "earlier-job");
	assert_string_equal(k->remix_video_id, "video_0123456789abcdef");
	assert_string_equal(k->video_id, j.video_id);
	assert_string_equal(k->status, "in_progress");
	assert_int_equal(k->progress, 42);
	assert_int_equal(k->video_created_at, 1795442399);
	assert_int_equal(k->video_completed_at, -1);
	assert_int_equal(k->claimed_at, 1795442300);
	assert_int_equal(k->submit_at, 1795442301);
	assert_int_equal(k->finished_at, -1);
	assert_int_equal(k->next_at_ms, 1795442405123LL);
	assert_int_equal(k->attempts, 2);
	assert_true(k->cost_usd > 5.99 && k->cost_usd < 6.01);
	assert_null(k->error);
	assert_null(k->last_frame);
	assert_false(k->has_seed);
	assert_int_equal(k->audio, 0);
	assert_null(k->options);
	release_all(&c);

	/* What only some protocols send (proto.h) comes back as it was. */
	j.last_frame = xstrdup("end.png");
	j.has_seed = true;
	j.seed = 4294967295LL;
	j.audio = 2;
	j.options = xstrdup("{\"provider\":{\"only\":[\"a\"]}}");
	assert_int_equal(store_save(dir, &j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	k = &c.jobs[0];
	assert_string_equal(k->last_frame, "end.png");
	assert_true(k->has_seed);
	assert_int_equal(k->seed, 4294967295LL);
	assert_int_equal(k->audio, 2);
	assert_string_equal(k->options, j.options);
	release_all(&c);

	/* A continuation waiting for its source, and then with the source's id (what a
	 * restart resumes from: the wait, or the create with previous_job_id). */
	free(j.remix_of);
	free(j.remix_video_id);
	j.remix_of = j.remix_video_id = NULL;
	j.extend_of = xstrdup("board-1");
	j.state = JOB_WAITING;
	assert_int_equal(store_save(dir, &j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	k = &c.jobs[0];
	assert_int_equal(k->state, JOB_WAITING);
	assert_string_equal(k->extend_of, "board-1");
	assert_null(k->extend_job_id);
	assert_null(k->remix_of);
	release_all(&c);
	j.extend_job_id = xstrdup("gen-vid-1796592208-g4Naq");
	j.state = JOB_SUBMITTING;
	assert_int_equal(store_save(dir, &j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	assert_string_equal(c.jobs[0].extend_job_id, "gen-vid-1796592208-g4Naq");
	release_all(&c);

	/* A later save replaces the record whole. */
	j.state = JOB_FAILED;
	j.error = xstrdup("Video generation failed. Please try again with a different prompt.");
	assert_int_equal(store_save(dir, &j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	assert_int_equal(c.jobs[0].state, JOB_FAILED);
	assert_string_equal(c.jobs[0].error, j.error);
	release_all(&c);
	assert_int_equal(count("jobs"), 1);

	assert_int_equal(store_remove(dir, "cat-piano"), 0);
	assert_int_equal(count("jobs"), 0);
	assert_int_equal(store_remove(dir, "cat-piano"), 0); /* already gone: fine */
	job_release(&j);
}

static void t_store_moves_unreadable_records_aside(void **state)
{
	(void)state;
	struct job j;
	sample(&j, "good");
	assert_int_equal(store_save(dir, &j), 0);
	job_release(&j);
	write_file("jobs/garbage.json", "\x01\x02 not json at all");
	write_file("jobs/truncated.json", "{\"version\": 1, \"name\": \"truncated\", \"sta");
	write_file("jobs/wrongtype.json",
	           "{\"version\":1,\"name\":\"wrongtype\",\"state\":\"running\",\"prompt\":7,"
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4}");
	write_file("jobs/badstate.json",
	           "{\"version\":1,\"name\":\"badstate\",\"state\":\"exploded\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4}");
	write_file("jobs/mismatch.json",
	           "{\"version\":1,\"name\":\"other\",\"state\":\"claimed\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4}");
	write_file("jobs/evilid.json",
	           "{\"version\":1,\"name\":\"evilid\",\"state\":\"running\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4,"
	           "\"video_id\":\"../../etc/pass wd\"}");
	write_file("jobs/noid.json",
	           "{\"version\":1,\"name\":\"noid\",\"state\":\"running\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4}");
	write_file("jobs/escape.json",
	           "{\"version\":1,\"name\":\"escape\",\"state\":\"claimed\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4,"
	           "\"source\":\"../../../etc/passwd\"}");
	write_file("jobs/future.json",
	           "{\"version\":2,\"name\":\"future\",\"state\":\"claimed\",\"prompt\":\"p\","
	           "\"model\":\"sora-2\",\"size\":\"1280x720\",\"seconds\":4}");
	write_file("jobs/.good.json.tmp.123", "{half a wri");
	char big_path[512];
	assert_int_equal(bfmt(big_path, sizeof(big_path), "%s/jobs/huge.json", dir), 0);
	int fd = open(big_path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, STORE_RECORD_MAX + 1), 0);
	close(fd);
	char link[512];
	assert_int_equal(bfmt(link, sizeof(link), "%s/jobs/link.json", dir), 0);
	assert_int_equal(symlink("/etc/passwd", link), 0);

	struct collected c = {0};
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	assert_string_equal(c.jobs[0].name, "good");
	release_all(&c);
	assert_int_equal(count("jobs"), 1);     /* only the good one, and no temp file */
	assert_int_equal(count("corrupt"), 11); /* nothing deleted */

	/* Loading again is quiet and stable: nothing is crash-looped on. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_all(dir, collect, &c), 1);
	release_all(&c);
	assert_int_equal(count("corrupt"), 11);
}

static void t_store_record_parse_rejects_out_of_range_numbers(void **state)
{
	(void)state;
	struct job j;
	char why[256];
	const char *base = "{\"version\":1,\"name\":\"n\",\"state\":\"claimed\",\"prompt\":\"p\","
	                   "\"model\":\"sora-2\",\"size\":\"1280x720\",";
	const char *tails[] = {"\"seconds\":-4}",
	                       "\"seconds\":4.5}",
	                       "\"seconds\":1e300}",
	                       "\"seconds\":\"4\"}",
	                       "\"seconds\":4,\"progress\":101}",
	                       "\"seconds\":4,\"claimed_at\":-5}"};
	for (size_t i = 0; i < ARRAY_LEN(tails); i++) {
		char *doc = xasprintf("%s%s", base, tails[i]);
		if (store_record_parse(&j, doc, strlen(doc), why, sizeof(why)) != -1)
			fail_msg("accepted %s", tails[i]);
		free(doc);
	}
	char *doc = xasprintf("%s%s", base, "\"seconds\":4}");
	assert_int_equal(store_record_parse(&j, doc, strlen(doc), why, sizeof(why)), 0);
	assert_int_equal(j.seconds, 4);
	job_release(&j);
	free(doc);
}

int main(void)
{
	log_open(NULL, LOG_ERROR, 0, false); /* the moved-aside records are logged as errors */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_store_round_trips_every_field, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_store_moves_unreadable_records_aside, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(t_store_record_parse_rejects_out_of_range_numbers,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
