/*
 * t_regress_numbers.c — regressions for JSON numbers converted to integers before
 * their range was checked (undefined behaviour that UBSan reports; on x86 a huge value
 * became LONG_MIN). Found by fuzz/fuzz_prompt.c (input: fuzz/corpus/prompt/
 * huge_seconds.jsonl) and, by review of the same pattern, in the usage log reader.
 * These tests matter most in the ASan/UBSan pass of .ci/run, where UB aborts.
 */
#include "conf.h"
#include "prompt.h"
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

static void t_regress_prompt_huge_seconds_is_an_error(void **state)
{
	(void)state;
	static const char *const texts[] = {
	    "{\"prompt\":\"x\",\"seconds\":4.69368e+59}",
	    "{\"prompt\":\"x\",\"seconds\":-4.69368e+59}",
	    "{\"prompt\":\"x\",\"seconds\":1e999}",
	    "{\"prompt\":\"x\",\"seconds\":9223372036854775808}",
	};
	char err[512];
	unsetenv("DEFAULT_SECONDS");
	struct conf *c = conf_load(NULL, err, sizeof(err));
	if (!c)
		fail_msg("conf_load(NULL): %s", err);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct prompt_file pf;
		prompt_parse(PROMPT_JSON, "big", texts[i], strlen(texts[i]), c, &pf);
		assert_int_equal(pf.n, 1);
		if (!pf.jobs[0].error || !strstr(pf.jobs[0].error, "whole number of seconds"))
			fail_msg("%s: expected \"'seconds' must be a whole number\", got %s",
			         texts[i], pf.jobs[0].error ? pf.jobs[0].error : "no error");
		prompt_file_release(&pf);
	}
	conf_free(c);
}

static void t_regress_usage_log_huge_time_is_skipped(void **state)
{
	(void)state;
	char dir[] = "/tmp/t_regress_numbers.XXXXXX", path[128], cmd[160];
	assert_non_null(mkdtemp(dir));
	bfmt(path, sizeof(path), "%s/usage.jsonl", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(
	    "{\"at\":1e999,\"video_id\":\"video_a\",\"model\":\"sora-2\",\"seconds\":4}\n"
	    "{\"at\":-9e300,\"video_id\":\"video_b\",\"model\":\"sora-2\",\"seconds\":4}\n"
	    "{\"at\":1795442300,\"video_id\":\"video_c\",\"model\":\"sora-2\",\"seconds\":1e300}\n"
	    "{\"at\":1795442300,\"video_id\":\"video_d\",\"model\":\"sora-2\",\"seconds\":4}\n",
	    fp);
	assert_int_equal(fclose(fp), 0);
	struct usage *u = usage_load(dir);
	assert_non_null(u);
	if (u->n != 1 || !usage_has(u, "video_d"))
		fail_msg("expected only the sane line (video_d) loaded, got %zu entries", u->n);
	assert_int_equal(u->v[0].at, 1795442300);
	usage_free(u);
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_regress_prompt_huge_seconds_is_an_error),
	    cmocka_unit_test(t_regress_usage_log_huge_time_is_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
