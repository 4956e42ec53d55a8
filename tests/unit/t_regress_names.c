/*
 * t_regress_names.c — regressions found by fuzz/fuzz_prompt.c: job names derived from
 * a long inbox file name (a .jsonl batch's NAME-LINE, the unique NAME-2...) grew past
 * PROMPT_NAME_MAX, so their records were refused when read back after a restart (the
 * job moved to corrupt/), or could not be written at all. Inputs: fuzz/corpus/prompt/
 * long_stem.jsonl and long_stem_utf8.jsonl.
 */
#include "conf.h"
#include "job.h"
#include "prompt.h"
#include "store.h"
#include "utf8.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static struct conf *C;

static int group_setup(void **state)
{
	(void)state;
	char err[512];
	unsetenv("DEFAULT_MODEL");
	unsetenv("DEFAULT_SIZE");
	unsetenv("DEFAULT_SECONDS");
	C = conf_load(NULL, err, sizeof(err));
	if (!C)
		fail_msg("conf_load(NULL): %s", err);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	conf_free(C);
	return 0;
}

/* The record of a job named NAME is written and read back under the same name. */
static void expect_record_round_trip(const char *name)
{
	struct job j, k;
	char why[256] = "";
	job_init(&j);
	j.name = xstrdup(name);
	j.state = JOB_CLAIMED;
	j.source = xstrdup("1795442300123-77-1/batch.jsonl");
	j.prompt = xstrdup("one");
	j.model = xstrdup("sora-2");
	j.size = xstrdup("720x1280");
	j.seconds = 4;
	char *json = store_record_json(&j);
	assert_non_null(json);
	if (store_record_parse(&k, json, strlen(json), why, sizeof(why)) != 0)
		fail_msg("record of \"%s\" (%zu bytes) not read back: %s", name, strlen(name), why);
	assert_string_equal(k.name, name);
	free(json);
	job_release(&j);
	job_release(&k);
}

static void t_regress_batch_line_names_fit_for_a_200_byte_stem(void **state)
{
	(void)state;
	char stem[PROMPT_NAME_MAX + 1];
	memset(stem, 'a', PROMPT_NAME_MAX);
	stem[PROMPT_NAME_MAX] = '\0';
	const char *text = "{\"prompt\":\"one\"}\n{\"prompt\":\"two\"}\n";
	struct prompt_file pf;
	prompt_parse(PROMPT_JSONL, stem, text, strlen(text), C, &pf);
	assert_int_equal(pf.n, 2);
	for (size_t i = 0; i < pf.n; i++) {
		const char *n = pf.jobs[i].name;
		if (!prompt_name_ok(n))
			fail_msg("line %zu: name of %zu bytes is not a safe name (max %d)", i + 1,
			         strlen(n), PROMPT_NAME_MAX);
		assert_null(pf.jobs[i].error);
		expect_record_round_trip(n);
	}
	/* Shortened, still distinct, and ending with the line number. */
	assert_string_not_equal(pf.jobs[0].name, pf.jobs[1].name);
	assert_string_equal(pf.jobs[0].name + strlen(pf.jobs[0].name) - 2, "-1");
	assert_string_equal(pf.jobs[1].name + strlen(pf.jobs[1].name) - 2, "-2");
	prompt_file_release(&pf);
}

static void t_regress_suffixed_name_cuts_at_a_character_boundary(void **state)
{
	(void)state;
	/* 99 two-byte characters and one 'x': 199 bytes; "-12" must cut into the é's. */
	char name[PROMPT_NAME_MAX + 1];
	for (int i = 0; i < 99; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	memcpy(name + 198, "x", 2);
	char out[PROMPT_NAME_MAX + 16];
	prompt_name_suffixed(out, sizeof(out), name, 12);
	size_t len = strlen(out);
	if (len > PROMPT_NAME_MAX || !utf8_check(out, len, NULL) || !prompt_name_ok(out))
		fail_msg("\"%s\" (%zu bytes) is not a safe name", out, len);
	assert_string_equal(out + len - 3, "-12");
	expect_record_round_trip(out);

	/* Short names are unchanged but for the suffix. */
	prompt_name_suffixed(out, sizeof(out), "cat", 2);
	assert_string_equal(out, "cat-2");
	prompt_name_suffixed(out, sizeof(out), "batch", 10000);
	assert_string_equal(out, "batch-10000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_regress_batch_line_names_fit_for_a_200_byte_stem),
	    cmocka_unit_test(t_regress_suffixed_name_cuts_at_a_character_boundary),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
